package pattern

import (
	"errors"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

func TestTestPattern(t *testing.T) {
	const full = `{"version":"0","id":"1","detail-type":"SegmentEntered","source":"aurum","account":"000000000000","time":"2026-03-01T10:15:00Z","region":"local","resources":[],"detail":{"segment":"vip"}}`
	tests := []struct {
		name    string
		pattern string
		event   string
		want    bool
		wantErr string
	}{
		{"match", `{"detail":{"segment":["vip"]}}`, full, true, ""},
		{"no match", `{"detail":{"segment":["other"]}}`, full, false, ""},
		{"invalid pattern", `{"detail":{"segment":"vip"}}`, full, false, "value must be an object or an array"},
		{"event not object", `{"source":["aurum"]}`, `[]`, false, "must be a JSON object"},
		{"event not json", `{"source":["aurum"]}`, `{"id":`, false, "must be a JSON object"},
		{"missing id", `{"source":["aurum"]}`, strings.Replace(full, `"id":"1",`, "", 1), false, `missing mandatory field "id"`},
		{"missing account", `{"source":["aurum"]}`, strings.Replace(full, `"account":"000000000000",`, "", 1), false, `missing mandatory field "account"`},
		{"missing resources", `{"source":["aurum"]}`, strings.Replace(full, `"resources":[],`, "", 1), false, `missing mandatory field "resources"`},
		{"missing detail-type", `{"source":["aurum"]}`, strings.Replace(full, `"detail-type":"SegmentEntered",`, "", 1), false, `missing mandatory field "detail-type"`},
		{"bad time", `{"source":["aurum"]}`, strings.Replace(full, "2026-03-01T10:15:00Z", "yesterday", 1), false, "RFC 3339"},
		{"numeric source", `{"source":["aurum"]}`, strings.Replace(full, `"source":"aurum"`, `"source":5`, 1), false, `"source" must be a string`},
		{"resources not strings", `{"source":["aurum"]}`, strings.Replace(full, `"resources":[]`, `"resources":[1]`, 1), false, "array of strings"},
		{"detail not object", `{"source":["aurum"]}`, strings.Replace(full, `{"segment":"vip"}`, `"vip"`, 1), false, `"detail" must be a JSON object`},
		{"version not string", `{"source":["aurum"]}`, strings.Replace(full, `"version":"0"`, `"version":0`, 1), false, `"version" must be a string`},
		{"detail optional", `{"source":["aurum"]}`, strings.Replace(full, `,"detail":{"segment":"vip"}`, "", 1), true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Test([]byte(tc.pattern), []byte(tc.event))
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, fault.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Test(%s, %s) error = %v; want ErrInvalid containing %q", tc.pattern, tc.event, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Test(%s, %s) error: %v", tc.pattern, tc.event, err)
			}
			if got != tc.want {
				t.Errorf("Test(%s, %s) = %v; want %v", tc.pattern, tc.event, got, tc.want)
			}
		})
	}
}
