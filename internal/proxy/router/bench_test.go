package router

import (
	"fmt"
	"net/http"
	"testing"

	"portico.dev/portico/internal/ir"
)

// benchListener has n routes: one hostname each ("host-i.example.com") when
// perHost, else all on one hostname with distinct path prefixes. Every route
// has an exact, a prefix and a header match, and one wildcard route and one
// catch-all route sit under them.
func benchListener(n int, perHost bool) *ir.Listener {
	routes := make([]ir.HTTPRoute, 0, n+2)
	for i := range n {
		host, p := "one.example.com", fmt.Sprintf("/svc-%d", i)
		if perHost {
			host, p = fmt.Sprintf("host-%d.example.com", i), "/svc"
		}
		routes = append(routes, route(fmt.Sprintf("ns/r%d", i), hn(host),
			ms(exact(p+"/healthz")),
			ms(withHeaders(prefix(p), "X-Canary", "1")),
			ms(prefix(p))))
	}
	routes = append(routes,
		route("ns/wild", hn("*.example.com"), ms(prefix("/wild"))),
		route("ns/any", nil, ms(prefix("/"))))
	return listener(vh("ns/gw/http", "", routes...))
}

func BenchmarkRoute(b *testing.B) {
	for _, c := range []struct {
		name    string
		n       int
		perHost bool
		r       *http.Request
	}{
		{"10routes/hosts", 10, true, req("GET", "host-7.example.com", "/svc/api?x=1")},
		{"10kroutes/hosts", 10000, true, req("GET", "host-7777.example.com", "/svc/api?x=1")},
		{"10kroutes/hosts/fallthrough", 10000, true, req("GET", "host-7777.example.com", "/wild/x")},
		{"10routes/onehost", 10, false, req("GET", "one.example.com", "/svc-7/api")},
		// Linear scan over one host's 30k matches: the case a path tree
		// will fix.
		{"10kroutes/onehost", 10000, false, req("GET", "one.example.com", "/svc-7777/api")},
		{"10kroutes/onehost/miss", 10000, false, req("GET", "one.example.com", "/nothing")},
	} {
		tb, err := New(benchListener(c.n, c.perHost), buildTag)
		if err != nil {
			b.Fatal(err)
		}
		if tb.Route(c.r, "").Handler == nil {
			b.Fatalf("%s: no match", c.name)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tb.Route(c.r, "")
			}
		})
	}
}

func BenchmarkNew10k(b *testing.B) {
	l := benchListener(10000, true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(l, buildTag); err != nil {
			b.Fatal(err)
		}
	}
}
