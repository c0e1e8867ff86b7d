package app

import (
	"reflect"
	"slices"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
)

// Every action kind aurum.yaml can express has an implementation
// registered: a new field of config.TriggerAction without its
// destination.Kind in ActionKinds fails here, not at a user's engine start.
func TestActionKindsCoverConfig(t *testing.T) {
	kinds, err := (&Platform{}).ActionKinds(TriggerParts{})
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeFor[config.TriggerAction]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			var a config.TriggerAction
			if fv := reflect.ValueOf(&a).Elem().Field(i); f.Type.Kind() == reflect.String {
				fv.SetString("some")
			} else {
				fv.Set(reflect.New(f.Type.Elem()))
			}
			if k := a.Kind(); k == "" || !slices.Contains(kinds.Kinds(), k) {
				t.Errorf("TriggerAction.%s has kind %q; registered kinds %v; want it registered", f.Name, k, kinds.Kinds())
			}
		})
	}
}
