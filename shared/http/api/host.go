package api

import (
	"net"
	"net/http"
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// loopbackNames are the host names a browser sends for a loopback listen
// address. A page on any other name that reaches a loopback port does so
// through DNS rebinding.
var loopbackNames = []string{"127.0.0.1", "localhost", "::1"}

// errForeignHost answers an unauthenticated loopback read whose Host is
// not the listen address's.
var errForeignHost = &apiError{kind: fault.ErrForbidden, code: "forbidden_host",
	msg: "reads without a key need the Host of the listen address (127.0.0.1, localhost or [::1] with its port)"}

// loopbackHost reports whether r's Host header names the loopback listen
// address r came in on: 127.0.0.1, localhost or [::1], with the port of
// the connection's local address. Without that address (a handler called
// directly, not through net/http's server) only the name is checked.
func loopbackHost(r *http.Request) bool {
	name, port := splitHost(r.Host, r.TLS != nil)
	if !slicesContainsFold(loopbackNames, name) {
		return false
	}
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || addr == nil {
		return true
	}
	_, listen, err := net.SplitHostPort(addr.String())
	return err == nil && listen == port
}

// splitHost splits a Host header into its name (without IPv6 brackets)
// and port, the scheme's default port when it has none.
func splitHost(host string, tls bool) (name, port string) {
	if n, p, err := net.SplitHostPort(host); err == nil {
		return n, p
	}
	port = "80"
	if tls {
		port = "443"
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), port
}

func slicesContainsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
