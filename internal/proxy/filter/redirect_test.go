package filter

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"portico.dev/portico/internal/ir"
)

func port(p int32) *int32 { return &p }

// TestRedirect follows conformance tests httproute-redirect-*.go.
func TestRedirect(t *testing.T) {
	fullPath := func(v string) *ir.PathModifier { return &ir.PathModifier{Type: ir.FullPath, Value: v} }
	prefixPath := func(v string) *ir.PathModifier { return &ir.PathModifier{Type: ir.PrefixMatch, Value: v} }
	cases := []struct {
		name     string
		rd       ir.Redirect
		listener int32
		req      *http.Request
		prefix   string
		code     int
		location string
	}{
		// httproute-redirect-port-and-scheme, listener on 80.
		{"80 scheme nil port nil", ir.Redirect{Hostname: "example.org"}, 80, newReq("GET", "gw", "/scheme-nil-and-port-nil"), "", 302, "http://example.org/scheme-nil-and-port-nil"},
		{"80 scheme nil port 80", ir.Redirect{Hostname: "example.org", Port: port(80)}, 80, newReq("GET", "gw", "/p"), "", 302, "http://example.org/p"},
		{"80 scheme nil port 8080", ir.Redirect{Hostname: "example.org", Port: port(8080)}, 80, newReq("GET", "gw", "/p"), "", 302, "http://example.org:8080/p"},
		{"80 scheme https port nil", ir.Redirect{Scheme: "https", Hostname: "example.org"}, 80, newReq("GET", "gw", "/p"), "", 302, "https://example.org/p"},
		{"80 scheme https port 443", ir.Redirect{Scheme: "https", Hostname: "example.org", Port: port(443)}, 80, newReq("GET", "gw", "/p"), "", 302, "https://example.org/p"},
		{"80 scheme https port 8443", ir.Redirect{Scheme: "https", Hostname: "example.org", Port: port(8443)}, 80, newReq("GET", "gw", "/p"), "", 302, "https://example.org:8443/p"},
		// Listener on 8080.
		{"8080 scheme nil port nil", ir.Redirect{Hostname: "example.org"}, 8080, newReq("GET", "gw:8080", "/p"), "", 302, "http://example.org:8080/p"},
		{"8080 scheme nil port 80", ir.Redirect{Hostname: "example.org", Port: port(80)}, 8080, newReq("GET", "gw:8080", "/p"), "", 302, "http://example.org/p"},
		{"8080 scheme https port nil", ir.Redirect{Scheme: "https", Hostname: "example.org"}, 8080, newReq("GET", "gw:8080", "/p"), "", 302, "https://example.org/p"},
		// HTTPS listener on 443.
		{"443 scheme nil port nil", ir.Redirect{Hostname: "example.org"}, 443, withTLS(newReq("GET", "example.org", "/p")), "", 302, "https://example.org/p"},
		{"443 scheme nil port 443", ir.Redirect{Hostname: "example.org", Port: port(443)}, 443, withTLS(newReq("GET", "example.org", "/p")), "", 302, "https://example.org/p"},
		{"443 scheme nil port 8443", ir.Redirect{Hostname: "example.org", Port: port(8443)}, 443, withTLS(newReq("GET", "example.org", "/p")), "", 302, "https://example.org:8443/p"},
		{"443 scheme http port nil", ir.Redirect{Scheme: "http", Hostname: "example.org"}, 443, withTLS(newReq("GET", "example.org", "/p")), "", 302, "http://example.org/p"},
		{"443 scheme http port 80", ir.Redirect{Scheme: "http", Hostname: "example.org", Port: port(80)}, 443, withTLS(newReq("GET", "example.org", "/p")), "", 302, "http://example.org/p"},
		{"443 scheme http port 8080", ir.Redirect{Scheme: "http", Hostname: "example.org", Port: port(8080)}, 443, withTLS(newReq("GET", "example.org", "/p")), "", 302, "http://example.org:8080/p"},
		// httproute-redirect-port.
		{"port", ir.Redirect{Port: port(8083)}, 80, newReq("GET", "gw", "/port"), "", 302, "http://gw:8083/port"},
		{"port and host", ir.Redirect{Port: port(8083), Hostname: "example.org"}, 80, newReq("GET", "gw", "/port-and-host"), "", 302, "http://example.org:8083/port-and-host"},
		{"port and status", ir.Redirect{Port: port(8083), StatusCode: 301}, 80, newReq("GET", "gw:80", "/port-and-status"), "", 301, "http://gw:8083/port-and-status"},
		// httproute-redirect-scheme.
		{"scheme", ir.Redirect{Scheme: "https"}, 80, newReq("GET", "gw", "/scheme"), "", 302, "https://gw/scheme"},
		{"scheme and host", ir.Redirect{Scheme: "https", Hostname: "example.org"}, 80, newReq("GET", "gw", "/s"), "", 302, "https://example.org/s"},
		{"scheme and status", ir.Redirect{Scheme: "https", StatusCode: 301}, 80, newReq("GET", "gw:80", "/s"), "", 301, "https://gw/s"},
		// httproute-redirect-host-and-status.
		{"hostname", ir.Redirect{Hostname: "example.org"}, 80, newReq("GET", "gw", "/hostname-redirect"), "", 302, "http://example.org/hostname-redirect"},
		{"host and status", ir.Redirect{Hostname: "example.org", StatusCode: 301}, 80, newReq("GET", "gw", "/host-and-status"), "", 301, "http://example.org/host-and-status"},
		{"303", ir.Redirect{StatusCode: 303}, 80, newReq("POST", "gw", "/x"), "", 303, "http://gw/x"},
		{"307", ir.Redirect{StatusCode: 307}, 80, newReq("POST", "gw", "/x"), "", 307, "http://gw/x"},
		{"308", ir.Redirect{StatusCode: 308}, 80, newReq("POST", "gw", "/x"), "", 308, "http://gw/x"},
		// httproute-redirect-path.
		{"prefix", ir.Redirect{Path: prefixPath("/replacement-prefix")}, 80, newReq("GET", "gw", "/original-prefix/lemon"), "/original-prefix", 302, "http://gw/replacement-prefix/lemon"},
		{"full path", ir.Redirect{Path: fullPath("/full-path-replacement")}, 80, newReq("GET", "gw", "/full/path/original"), "/full", 302, "http://gw/full-path-replacement"},
		{"path and host", ir.Redirect{Hostname: "example.org", Path: prefixPath("/replacement-prefix")}, 80, newReq("GET", "gw", "/path-and-host"), "/path-and-host", 302, "http://example.org/replacement-prefix"},
		{"path and status", ir.Redirect{StatusCode: 301, Path: prefixPath("/replacement-prefix")}, 80, newReq("GET", "gw", "/path-and-status"), "/path-and-status", 301, "http://gw/replacement-prefix"},
		{"full path and host", ir.Redirect{Hostname: "example.org", Path: fullPath("/replacement-full")}, 80, newReq("GET", "gw", "/full-path-and-host"), "/full-path-and-host", 302, "http://example.org/replacement-full"},
		// Beyond conformance.
		{"query kept", ir.Redirect{Scheme: "https"}, 80, newReq("GET", "gw", "/a?b=c&d=%20"), "", 302, "https://gw/a?b=c&d=%20"},
		{"prefix / to /x", ir.Redirect{Path: prefixPath("/x")}, 80, newReq("GET", "gw", "/a/b"), "/", 302, "http://gw/x/a/b"},
		{"prefix to /", ir.Redirect{Path: prefixPath("/")}, 80, newReq("GET", "gw", "/prefix/x"), "/prefix", 302, "http://gw/x"},
		{"escaped path kept", ir.Redirect{Scheme: "https"}, 80, newReq("GET", "gw", "/a%2Fb%20c"), "", 302, "https://gw/a%2Fb%20c"},
		{"ipv6 host", ir.Redirect{Port: port(8443)}, 80, newReq("GET", "[::1]:80", "/"), "", 302, "http://[::1]:8443/"},
		{"bad code is 302", ir.Redirect{StatusCode: 200}, 80, newReq("GET", "gw", "/"), "", 302, "http://gw/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			Redirect(&c.rd, c.listener).ServeHTTP(w, matched(c.req, c.prefix))
			if w.Code != c.code || w.Header().Get("Location") != c.location {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Header().Get("Location"), c.code, c.location)
			}
		})
	}
}
