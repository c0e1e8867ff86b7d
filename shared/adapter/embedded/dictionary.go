package embedded

// dictionary is the preset DEFLATE dictionary of format 1: JSON the store
// writes over and over — the field names of profiles, records, events,
// outbox envelopes and common items, with the sample configuration's
// attribute and identifier names, and common e-mail domains, phone and
// country codes. Compressing a small value against it
// finds these strings at once, so a 1 KB profile takes about 180 bytes.
// Matches nearer the end are cheaper, so the commonest text comes last.
//
// It is part of the file format: a stored value can only be inflated with
// the exact bytes it was deflated with. Never edit it; a new dictionary
// needs a new blob tag (codec.go) beside this one.
var dictionary = []byte(`"+1","+33","+34","+39","+44","+49","@yahoo.com","@outlook.com","@icloud.com","@web.de","@gmx.de","@orange.fr","@free.fr","@hotmail.co.uk","@hotmail.com","@gmail.com","GB","DE","FR","ES","IT","US","NL"` +
	`{"version":"1","trigger_id":"","firing_id":"","cause":{"event_id":"","detail_type":"","time":"20"},"fired_at":"20"}` +
	`{"segment_id":"","entered_at":"20","exited_at":"20","members":1}` +
	`{"detail-type":"ProfilesMerged","detail":{"version":"1","profile_id":"p_","merged_profile_ids":["p_"],"rule":"","identifiers":["email"],"record":"rec/"}}` +
	`{"detail-type":"SegmentEntered","detail-type":"SegmentExited","detail-type":"ProfileSplit","detail-type":"ProfileDeleted","detail-type":"TriggerFired"}` +
	`{"seen":1,"present":1,"types":{"string":1,"number":1,"bool":1,"date":1,"missing":1},"hll":"","top":[{"key":"","value":"***","count":1,"refs":[""]}],"samples":["***"],"sample_refs":[""],"pii":true,"invalid":1,"reasons":{},"first_seen":"20","last_seen":"20"}` +
	`{"aggregates":{},"tallies":{},"recent_events":[],"merged_from":["p_"],"segments":{},"next_eval_at":"20","rfm":{"r":1,"f":1,"m":1,"label":""},"folded":{}}` +
	`{"id":"","source":"web","type":"track","name":"page_viewed","timestamp":"20","properties":{"order_id":"","product_id":"","revenue":0,"currency":"EUR","items":[],"store":"","page":"","path":"/"}}` +
	`{"newsletter_status":"subscribed","newsletter_signup_date":"20","locale":"en","full_name":"","loyalty_card":"","customer_id":""}` +
	`{"id":"ev_","source":"aurum","detail-type":"ProfileUpdated","time":"20","detail":{"version":"1","profile_id":"p_","profile_version":1,"created":true,"changed_attributes":["birth_date","country","email_opt_in","first_name","first_name_key","last_name","last_name_key"],"new_identifiers":["customer_id","email","phone"],"sources":["crm"]}}` +
	`{"keys":["rec/crm/"]}{"to":"p_","at":"20"}` +
	`{"profile_id":"p_","record":{"source":"crm","id":"","observed_at":"20","received_at":"20","identifiers":[{"type":"customer_id","value":""},{"type":"email","value":"@gmail.com"},{"type":"phone","value":"+"}],"attributes":{"birth_date":"19","country":"","email_opt_in":true,"first_name":"","first_name_key":"","last_name":"","last_name_key":""},"events":[],"location":"sources/crm/"}}` +
	`{"id":"p_","version":1,"identifiers":[{"type":"customer_id","value":""},{"type":"email","value":"@gmail.com"},{"type":"phone","value":"+"}],"attributes":{"birth_date":{"value":"19","source":"crm","record_id":"","observed_at":"20"},"country":{"value":"","source":"crm","record_id":"","observed_at":"20"},"email_opt_in":{"value":true,"source":"crm","record_id":"","observed_at":"20"},"first_name":{"value":"","source":"crm","record_id":"","observed_at":"20"},"first_name_key":{"value":"","source":"crm","record_id":"","observed_at":"20"},"last_name":{"value":"","source":"crm","record_id":"","observed_at":"20"},"last_name_key":{"value":"","source":"crm","record_id":"","observed_at":"20"}},"sources":{"crm":1},"record_count":1,"event_count":0,"created_at":"20","updated_at":"20"}`)
