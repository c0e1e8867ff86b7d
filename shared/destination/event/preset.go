package event

import (
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
)

// Preset makes the event action a destination kind that triggers name
// (destination: NAME): it publishes the firing's TriggerFired.
func Preset() destination.Preset {
	return destination.ActionPreset(KindName, func(config.Destination) config.TriggerAction {
		return config.TriggerAction{Event: &config.EventAction{}}
	})
}
