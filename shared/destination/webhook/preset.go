package webhook

import (
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
)

// Preset makes the signed webhook a destination kind: destinations of
// kind webhook take the action's settings under webhook.
func Preset() destination.Preset {
	return destination.ActionPreset(KindName, func(d config.Destination) config.TriggerAction {
		return config.TriggerAction{Webhook: d.Webhook}
	})
}
