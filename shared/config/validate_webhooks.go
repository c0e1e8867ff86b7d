package config

import (
	"time"
)

// Webhook defaults.
const (
	// DefaultWebhookTolerance is how far a signed timestamp may be from
	// the receiver's clock.
	DefaultWebhookTolerance = 5 * time.Minute
)

var (
	presets          = []string{PresetShopifyCustomers, PresetShopifyOrders, PresetStripeCustomers, PresetStripeCharges}
	encodings        = []string{EncodingHex, EncodingBase64}
	signatureFormats = []string{SignatureFormatStripe}
)

// Presets returns the names of the webhook presets.
func Presets() []string { return append([]string(nil), presets...) }

// webhookSource checks the webhook block of a source.
func (v *validator) webhookSource(p string, src *Source) {
	w := src.Webhook
	switch {
	case w == nil && src.Kind == KindWebhook:
		v.errorf(p+".webhook", "missing; webhook sources need webhook: {secret: {env|ssm|secrets_manager: ...}} and a preset or a signature")
		return
	case w == nil:
		return
	case src.Kind != KindWebhook:
		v.errorf(p+".webhook", "applies only to webhook sources")
		return
	}
	wp := p + ".webhook"
	v.oneOf(wp+".preset", w.Preset, presets, false)
	switch {
	case w.Secret == nil:
		v.errorf(wp+".secret", "missing; name the signing secret with env, ssm or secrets_manager (never the secret itself)")
	case w.Secret.SHA256 != "":
		v.errorf(wp+".secret.sha256", "not usable for webhooks: verifying an HMAC needs the secret; use env, ssm or secrets_manager")
	default:
		v.secretRef(wp+".secret", w.Secret)
	}
	if w.EventIDHeader != "" && w.EventIDField != "" {
		v.errorf(wp+".event_id_field", "not allowed with event_id_header; expected one of them")
	}
	sig := w.Signature
	if sig == nil {
		if w.Preset == "" {
			v.errorf(wp+".signature", "missing; expected a preset or signature: {header: ..., encoding: hex|base64}")
		}
		return
	}
	sp := wp + ".signature"
	if sig.Header == "" && w.Preset == "" {
		v.errorf(sp+".header", "missing; expected the name of the signature header")
	}
	v.oneOf(sp+".encoding", sig.Encoding, encodings, false)
	v.oneOf(sp+".format", sig.Format, signatureFormats, false)
	if sig.Format == SignatureFormatStripe {
		if sig.TimestampHeader != "" {
			v.errorf(sp+".timestamp_header", "not allowed with format stripe, whose header carries the timestamp")
		}
		if sig.Prefix != "" {
			v.errorf(sp+".prefix", "not allowed with format stripe")
		}
		if sig.Encoding == EncodingBase64 {
			v.errorf(sp+".encoding", "format stripe signatures are hex")
		}
	}
	if sig.Tolerance != "" {
		d, err := time.ParseDuration(sig.Tolerance)
		switch {
		case err != nil:
			v.errorf(sp+".tolerance", "%q is not a duration such as 5m", sig.Tolerance)
		case d <= 0:
			v.errorf(sp+".tolerance", "%s is not positive", sig.Tolerance)
		case sig.TimestampHeader == "" && sig.Format != SignatureFormatStripe && w.Preset == "":
			v.errorf(sp+".tolerance", "applies only with timestamp_header or format stripe")
		}
	}
}
