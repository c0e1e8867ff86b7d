package sqs

import (
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
)

// Preset makes the sqs action a destination kind: destinations of kind
// sqs take the action's settings under sqs.
func Preset() destination.Preset {
	return destination.ActionPreset(KindName, func(d config.Destination) config.TriggerAction {
		return config.TriggerAction{SQS: d.SQS}
	})
}
