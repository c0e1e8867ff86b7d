package api_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
)

func localReads(cfg *config.Config, d *api.Deps, o *api.Options) {
	o.ReadKeys = nil
	o.AllowUnauthenticatedReads = true
}

// TestLoopbackReadsCheckHost: a read without a key from loopback is let
// through only when its Host names the loopback listen address; a
// DNS-rebinding page sends its own name and gets 403.
func TestLoopbackReadsCheckHost(t *testing.T) {
	tests := []struct {
		name string
		host string
		want int
	}{
		{name: "127.0.0.1", host: "127.0.0.1:8080", want: 200},
		{name: "localhost", host: "localhost:8080", want: 200},
		{name: "localhost upper case", host: "LOCALHOST:8080", want: 200},
		{name: "IPv6 loopback", host: "[::1]:8080", want: 200},
		{name: "localhost without port", host: "localhost", want: 200},
		{name: "rebinding name", host: "evil.example", want: 403},
		{name: "rebinding name with port", host: "evil.example:8080", want: 403},
		{name: "name ending in localhost", host: "localhost.evil.example:8080", want: 403},
		{name: "other loopback address", host: "127.0.0.2:8080", want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localReads)
			withProfiles(e)
			w := e.do(t, request{method: http.MethodGet, path: "/v1/profiles/p_ann", remote: "127.0.0.1:50000",
				header: map[string]string{"Host": tt.host}})
			if w.Code != tt.want {
				t.Errorf("GET /v1/profiles/p_ann with Host %q = %d %s; want %d", tt.host, w.Code, w.Body, tt.want)
			}
			if w.Code == 403 {
				if got := decode[errResp](t, w).Error.Code; got != "forbidden_host" {
					t.Errorf("error code = %q; want forbidden_host", got)
				}
			}
		})
	}
}

// TestLoopbackReadsKeyIgnoresHost: a read key is enough whatever the Host
// (a rebinding page does not have it).
func TestLoopbackReadsKeyIgnoresHost(t *testing.T) {
	e := newEnv(t, func(cfg *config.Config, d *api.Deps, o *api.Options) { o.AllowUnauthenticatedReads = true })
	withProfiles(e)
	w := e.do(t, request{method: http.MethodGet, path: "/v1/profiles/p_ann", remote: "127.0.0.1:50000",
		bearer: readKey, header: map[string]string{"Host": "evil.example"}})
	if w.Code != http.StatusOK {
		t.Errorf("GET with a read key and Host evil.example = %d %s; want 200", w.Code, w.Body)
	}
}

// TestLoopbackReadsCheckPort runs the API on a real listener: the Host's
// port must be the one the request came in on.
func TestLoopbackReadsCheckPort(t *testing.T) {
	e := newEnv(t, localReads)
	withProfiles(e)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	other := "1"
	if port == other {
		other = "2"
	}
	tests := []struct {
		name, host string
		want       int
	}{
		{name: "listen address", host: "127.0.0.1:" + port, want: 200},
		{name: "localhost, listen port", host: "localhost:" + port, want: 200},
		{name: "localhost, other port", host: "localhost:" + other, want: 403},
		{name: "no port", host: "localhost", want: 403},
		{name: "rebinding name, listen port", host: "evil.example:" + port, want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/profiles/p_ann", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET with Host %q = %d %s; want %d", tt.host, resp.StatusCode, body, tt.want)
			}
		})
	}
}
