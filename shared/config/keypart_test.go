package config

import "testing"

func TestParseKeyPart(t *testing.T) {
	tests := []struct {
		in      string
		want    KeyPart
		wantErr bool
	}{
		{"postcode", KeyPart{Attribute: "postcode"}, false},
		{"soundex(last_name_key)", KeyPart{Func: "soundex", Attribute: "last_name_key"}, false},
		{" prefix( postcode , 3 ) ", KeyPart{Func: "prefix", Attribute: "postcode", N: 3}, false},
		{"suffix(phone, 4)", KeyPart{Func: "suffix", Attribute: "phone", N: 4}, false},
		{"prefix(postcode)", KeyPart{}, true},
		{"prefix(postcode, 0)", KeyPart{}, true},
		{"year(a, 2)", KeyPart{}, true},
		{"metaphone(a)", KeyPart{}, true},
		{"soundex(a", KeyPart{}, true},
		{"", KeyPart{}, true},
		{"two words", KeyPart{}, true},
	}
	for _, tt := range tests {
		got, err := ParseKeyPart(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseKeyPart(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
