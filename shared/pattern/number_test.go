package pattern

import "testing"

func TestNumberKey(t *testing.T) {
	tests := []struct {
		lit    string
		want   int64
		wantOK bool
	}{
		{"0", 0, true},
		{"-0", 0, true},
		{"5", 5_000_000, true},
		{"301.8", 301_800_000, true},
		{"3.018e2", 301_800_000, true},
		{"3018E-1", 301_800_000, true},
		{"0.1", 100_000, true},
		{"0.0000001", 0, true},
		{"-0.0000019", -1, true},
		{"1.9999999", 1_999_999, true},
		{"-7.25", -7_250_000, true},
		{"5e9", 5_000_000_000_000_000, true},
		{"5000000000.0000000", 5_000_000_000_000_000, true},
		{"-5e9", -5_000_000_000_000_000, true},
		{"5000000000.0000001", 0, false},
		{"5.1e9", 0, false},
		{"1e999999999", 0, false},
		{"1e-999999999", 0, true},
		{"0e999999999", 0, true},
		{"00012", 12_000_000, true},
		{"abc", 0, false},
		{"1.2.3", 0, false},
		{"", 0, false},
		{"1e", 0, false},
		{".5", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.lit, func(t *testing.T) {
			got, ok := numberKey(tc.lit)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("numberKey(%q) = %d, %v; want %d, %v", tc.lit, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseWildcard(t *testing.T) {
	tests := []struct {
		expr    string
		in      string
		want    bool
		wantErr bool
	}{
		{expr: `a*c`, in: "abc", want: true},
		{expr: `a*c`, in: "ac", want: true},
		{expr: `a*c`, in: "acb", want: false},
		{expr: `*`, in: "", want: true},
		{expr: `*a*`, in: "xxa", want: true},
		{expr: `a*b*c`, in: "abbbc", want: true},
		{expr: `a*b*c`, in: "acb", want: false},
		{expr: `\*`, in: "*", want: true},
		{expr: `\*`, in: "x", want: false},
		{expr: `\\`, in: `\`, want: true},
		{expr: `a\\*`, in: `a\zzz`, want: true},
		{expr: `**`, wantErr: true},
		{expr: `a*\**`, in: "a1*2", want: true},
		{expr: `\a`, wantErr: true},
		{expr: `a\`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.expr+"|"+tc.in, func(t *testing.T) {
			w, err := parseWildcard(tc.expr)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseWildcard(%q) = nil error; want error", tc.expr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseWildcard(%q) error: %v", tc.expr, err)
			}
			if got := w.matchString(tc.in); got != tc.want {
				t.Errorf("wildcard %q match(%q) = %v; want %v", tc.expr, tc.in, got, tc.want)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	p, err := Parse([]byte(`{"source":["aurum"],"detail-type":["SegmentEntered","SegmentExited"],"detail":{"segment":[{"prefix":"vip-"}],"score":[{"numeric":[">",50]}],"consents":{"channel":["email"],"granted":[true]}}}`))
	if err != nil {
		b.Fatal(err)
	}
	event := []byte(`{"version":"0","id":"x","detail-type":"SegmentEntered","source":"aurum","account":"000000000000","time":"2026-03-01T10:15:00Z","region":"local","resources":[],"detail":{"segment":"vip-customers","score":87.5,"consents":[{"channel":"sms","granted":false},{"channel":"email","granted":true}]}}`)
	b.ReportAllocs()
	for b.Loop() {
		ok, err := p.Match(event)
		if err != nil || !ok {
			b.Fatalf("Match = %v, %v; want true", ok, err)
		}
	}
}
