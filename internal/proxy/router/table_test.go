package router

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"portico.dev/portico/internal/ir"
)

func vh(name, hostname string, routes ...ir.HTTPRoute) ir.VirtualHost {
	return ir.VirtualHost{Name: name, Hostname: hostname, Routes: routes}
}

// catchAll is a route answering every path of its virtual host.
func catchAll(name string) ir.HTTPRoute { return route(name, nil, ms(prefix("/"))) }

func TestVirtualHostSelection(t *testing.T) {
	tb := mustNew(t, listener(
		vh("exact", "foo.example.com", catchAll("exact")),
		vh("deep", "*.a.example.com", catchAll("deep")),
		vh("wild", "*.example.com", catchAll("wild")),
		vh("any", "", catchAll("any")),
	))
	cases := []struct{ host, want string }{
		{"foo.example.com", "exact#0"},
		{"FOO.Example.COM", "exact#0"},
		{"foo.example.com.", "exact#0"},
		{"foo.example.com:8080", "exact#0"},
		{"bar.example.com", "wild#0"},
		{"x.y.example.com", "wild#0"},
		{"b.a.example.com", "deep#0"},
		{"c.b.a.example.com", "deep#0"},
		{"a.example.com", "wild#0"}, // "*.a.example.com" needs a label before ".a"
		{"example.com", "any#0"},    // wildcards never match the apex
		{"other.org", "any#0"},
		{"", "any#0"},
		{"[::1]:80", "any#0"},
		{"127.0.0.1:80", "any#0"},
	}
	for _, c := range cases {
		if got := decide(tb, req("GET", c.host, "/"), ""); got != c.want {
			t.Errorf("Host %q: got %s, want %s", c.host, got, c.want)
		}
	}
}

func TestNoVirtualHostIs404(t *testing.T) {
	tb := mustNew(t, listener(vh("exact", "foo.example.com", catchAll("exact"))))
	if got := decide(tb, req("GET", "bar.example.com", "/"), ""); got != "404" {
		t.Errorf("got %s, want 404", got)
	}
	if got := decide(tb, req("GET", "foo.example.com", "/"), ""); got != "exact#0" {
		t.Errorf("got %s, want exact#0", got)
	}
}

// TestMisdirectedRequests is the conformance test
// HTTPRouteHTTPSListenerDetectMisdirectedRequests on one socket.
func TestMisdirectedRequests(t *testing.T) {
	l := listener(
		vh("https-with-hostname", "second-example.org", catchAll("v2")),
		vh("https-with-hostname-matching-wildcard", "fourth-example.wildcard.org", catchAll("v4")),
		vh("https-with-wildcard-hostname", "*.wildcard.org", catchAll("v3")),
		vh("https", "", route("v1", hn("example.org"), ms(prefix("/detect-misdirected-requests")))),
	)
	l.Protocol = ir.ProtocolHTTPS
	tb := mustNew(t, l)
	cases := []struct{ sni, host, want string }{
		{"example.org", "example.org", "v1#0"},
		{"example.org", "second-example.org", "421"},
		{"example.org", "unknown-example.org", "404"},
		{"second-example.org", "second-example.org", "v2#0"},
		{"second-example.org", "example.org", "421"},
		{"second-example.org", "unknown-example.org", "421"},
		{"third-example.wildcard.org", "third-example.wildcard.org", "v3#0"},
		{"third-example.wildcard.org", "fith-example.wildcard.org", "v3#0"},
		{"third-example.wildcard.org", "fourth-example.wildcard.org", "421"},
		{"third-example.wildcard.org", "second-example.org", "421"},
		{"third-example.wildcard.org", "unknown-example.org", "421"},
		{"fourth-example.wildcard.org", "fourth-example.wildcard.org", "v4#0"},
		{"fourth-example.wildcard.org", "fith-example.wildcard.org", "421"},
		{"unknown-example.org", "example.org", "v1#0"},
		{"unknown-example.org", "unknown-example.org", "404"},
		// Host with port and different case still selects the SNI's listener.
		{"SECOND-example.org", "second-example.org:443", "v2#0"},
	}
	for _, c := range cases {
		r := req("GET", c.host, "/detect-misdirected-requests")
		if got := decide(tb, r, c.sni); got != c.want {
			t.Errorf("SNI %q Host %q: got %s, want %s", c.sni, c.host, got, c.want)
		}
	}
}

func TestMisdirectedWithoutCatchAll(t *testing.T) {
	tb := mustNew(t, listener(
		vh("a", "a.example.com", catchAll("a")),
		vh("b", "b.example.com", catchAll("b")),
	))
	cases := []struct{ sni, host, want string }{
		{"a.example.com", "b.example.com", "421"},
		{"a.example.com", "c.example.com", "404"}, // no listener for Host
		{"c.example.com", "a.example.com", "421"}, // SNI served by no listener
		{"", "b.example.com", "b#0"},              // plain HTTP: Host decides
	}
	for _, c := range cases {
		if got := decide(tb, req("GET", c.host, "/"), c.sni); got != c.want {
			t.Errorf("SNI %q Host %q: got %s, want %s", c.sni, c.host, got, c.want)
		}
	}
}

// TestRouteHostnamePrecedence is the conformance test
// HTTPRouteMultipleRoutesAttachmentSameHostnameIntersection: the older route
// comes first in VirtualHost.Routes, the newer one still wins by hostname.
func TestRouteHostnamePrecedence(t *testing.T) {
	hdr := func(m ir.HTTPMatch, name, value string) ir.HTTPMatch {
		m.Headers = append(m.Headers, ir.HeaderMatch{Type: ir.MatchExact, Name: name, Value: value})
		return m
	}
	cases := []struct {
		name     string
		listener string
		older    ir.HTTPRoute
		newer    ir.HTTPRoute
		req      *http.Request
		want     string
	}{{
		name:     "exact over wildcard",
		listener: "abc.example.com",
		older:    route("older", hnI("abc.example.com", "*.example.com"), ms(prefix("/"))),
		newer:    route("newer", hn("abc.example.com"), ms(prefix("/"))),
		req:      req("GET", "abc.example.com", "/"),
		want:     "newer#0",
	}, {
		name:     "exact over wildcard despite shorter prefix",
		listener: "abc.example.com",
		older:    route("older", hnI("abc.example.com", "*.example.com"), ms(prefix("/path/prefix"))),
		newer:    route("newer", hn("abc.example.com"), ms(prefix("/path"))),
		req:      req("GET", "abc.example.com", "/path/prefix/longer"),
		want:     "newer#0",
	}, {
		name:     "exact falls through to wildcard",
		listener: "abc.example.com",
		older:    route("older", hnI("abc.example.com", "*.example.com"), ms(hdr(prefix("/path/prefix"), "Header-B", "B"))),
		newer:    route("newer", hn("abc.example.com"), ms(hdr(prefix("/path"), "Header-A", "A"))),
		req:      req("GET", "abc.example.com", "/path/prefix/longer", "Header-B", "B"),
		want:     "older#0",
	}, {
		name:     "exact with its header",
		listener: "abc.example.com",
		older:    route("older", hnI("abc.example.com", "*.example.com"), ms(hdr(prefix("/path/prefix"), "Header-B", "B"))),
		newer:    route("newer", hn("abc.example.com"), ms(hdr(prefix("/path"), "Header-A", "A"))),
		req:      req("GET", "abc.example.com", "/path/prefix/longer", "Header-A", "A", "Header-B", "B"),
		want:     "newer#0",
	}, {
		name:     "longer wildcard over shorter",
		listener: "*.example.com",
		older:    route("older", hnI("*.example.com", "*.com"), ms(prefix("/"))),
		newer:    route("newer", hn("*.example.com"), ms(prefix("/"))),
		req:      req("GET", "abc.example.com", "/"),
		want:     "newer#0",
	}, {
		name:     "longer wildcard despite shorter prefix",
		listener: "*.example.com",
		older:    route("older", hnI("*.example.com", "*.com"), ms(prefix("/path/prefix"))),
		newer:    route("newer", hn("*.example.com"), ms(prefix("/path"))),
		req:      req("GET", "abc.example.com", "/path/prefix/longer"),
		want:     "newer#0",
	}, {
		name:     "longer wildcard falls through to shorter",
		listener: "*.example.com",
		older:    route("older", hnI("*.example.com", "*.com"), ms(hdr(prefix("/path/prefix"), "Header-B", "B"))),
		newer:    route("newer", hn("*.example.com"), ms(hdr(prefix("/path"), "Header-A", "A"))),
		req:      req("GET", "abc.example.com", "/path/prefix/longer", "Header-B", "B"),
		want:     "older#0",
	}, {
		name:     "route without hostnames is least specific",
		listener: "",
		older:    route("older", nil, ms(prefix("/path/prefix"))),
		newer:    route("newer", hn("*.example.com"), ms(prefix("/"))),
		req:      req("GET", "abc.example.com", "/path/prefix"),
		want:     "newer#0",
	}, {
		name:     "route without hostnames serves other hosts",
		listener: "",
		older:    route("older", nil, ms(prefix("/path/prefix"))),
		newer:    route("newer", hn("*.example.com"), ms(prefix("/"))),
		req:      req("GET", "abc.example.org", "/path/prefix"),
		want:     "older#0",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := mustNew(t, listener(vh("gw", c.listener, c.older, c.newer)))
			if got := decide(tb, c.req, ""); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestRouteHostnames(t *testing.T) {
	tb := mustNew(t, listener(vh("gw", "",
		route("multi", []ir.RouteHostname{
			{Match: "a.example.com", Precedence: "a.example.com"},
			{Match: "*.example.com", Precedence: "*.example.com"},
			{Match: "A.Example.com.", Precedence: "a.example.com"}, // same hostname again
		}, ms(prefix("/multi"))),
		route("deep", hn("*.b.example.com"), ms(prefix("/"))),
		route("wild", hn("*.example.com"), ms(prefix("/"))),
		route("exact", hn("x.b.example.com"), ms(prefix("/exact"))),
	)))
	cases := []struct{ host, path, want string }{
		{"a.example.com", "/multi", "multi#0"},
		{"a.example.com", "/other", "wild#0"},
		{"z.example.com", "/multi", "multi#0"},
		{"x.b.example.com", "/exact", "exact#0"},
		{"x.b.example.com", "/multi", "deep#0"}, // *.b.example.com beats *.example.com
		{"y.b.example.com", "/any", "deep#0"},
		{"example.com", "/multi", "404"},
		{"other.org", "/", "404"},
	}
	for _, c := range cases {
		if got := decide(tb, req("GET", c.host, c.path), ""); got != c.want {
			t.Errorf("%s%s: got %s, want %s", c.host, c.path, got, c.want)
		}
	}
}

func TestServeHTTP(t *testing.T) {
	var got *Matched
	build := func(_ *ir.VirtualHost, _ *ir.HTTPRoute, _ *ir.HTTPRule) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = FromContext(r.Context())
			w.WriteHeader(http.StatusTeapot)
		}), nil
	}
	l := listener(vh("ns/gw/l", "", route("ns/r", hn("a.example.com"), ms(prefix("/api/")))))
	tb, err := New(l, build)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	tb.ServeHTTP(w, req("GET", "a.example.com", "/api/v1"))
	if w.Code != http.StatusTeapot {
		t.Fatalf("status %d, want 418", w.Code)
	}
	if got == nil || got.PathPrefix != "/api" || got.Route.Name != "ns/r" || got.VirtualHost.Name != "ns/gw/l" {
		t.Errorf("Matched = %+v", got)
	}
	w = httptest.NewRecorder()
	tb.ServeHTTP(w, req("GET", "b.example.com", "/api/v1"))
	if w.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", w.Code)
	}
}

func TestNewErrors(t *testing.T) {
	bad := func(m ir.HTTPMatch) *ir.Listener {
		r := route("ns/bad", nil, ms(prefix("/ok")), ms(prefix("/"), m))
		r.Rules[1].Index = 7
		return listener(vh("ns/gw/l", "", r))
	}
	cases := []struct {
		name string
		l    *ir.Listener
		want []string
	}{
		{"path regex", bad(regex("/(")), []string{`"ns/bad"`, "rule 7", "matches[1].path.value", `"/("`}},
		{"header regex", bad(ir.HTTPMatch{Path: ir.PathMatch{Type: ir.PathPrefix, Value: "/"}, Headers: []ir.HeaderMatch{{Type: ir.MatchRegex, Name: "x", Value: "["}}}), []string{"rule 7", "matches[1].headers[0].value"}},
		{"query regex", bad(ir.HTTPMatch{Path: ir.PathMatch{Type: ir.PathPrefix, Value: "/"}, QueryParams: []ir.QueryMatch{{Type: ir.MatchExact, Name: "a"}, {Type: ir.MatchRegex, Name: "x", Value: "a**"}}}), []string{"rule 7", "matches[1].queryParams[1].value"}},
		{"path type", bad(ir.HTTPMatch{Path: ir.PathMatch{Type: "Glob", Value: "/"}}), []string{"rule 7", "matches[1].path.type"}},
		{"duplicate hostname", listener(vh("ns/gw/a", "A.example.com"), vh("ns/gw/b", "a.example.com")), []string{`"ns/gw/b"`, "already served"}},
	}
	for _, c := range cases {
		_, err := New(c.l, buildTag)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %s", c.name, err, w)
			}
		}
	}
}

func TestBuildFuncErrorIsWrapped(t *testing.T) {
	build := func(_ *ir.VirtualHost, route *ir.HTTPRoute, rule *ir.HTTPRule) (http.Handler, error) {
		return nil, errFake
	}
	_, err := New(listener(vh("ns/gw/l", "", catchAll("ns/r"))), build)
	if err == nil || !strings.Contains(err.Error(), `route "ns/r" rule 0`) || !strings.Contains(err.Error(), errFake.Error()) {
		t.Errorf("error = %v", err)
	}
}

type fakeErr struct{}

func (fakeErr) Error() string { return "backend pool refused" }

var errFake error = fakeErr{}
