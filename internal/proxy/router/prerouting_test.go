package router

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"portico.dev/portico/internal/ir"
)

// A pre-routing handler runs once per request of its virtual host, before
// matching, which sees its changes to the request but not to Host.
func TestPreRouting(t *testing.T) {
	withHeader := ms(prefix("/"))
	withHeader[0].Headers = []ir.HeaderMatch{{Type: ir.MatchExact, Name: "X-Tenant", Value: "blue"}}
	l := &ir.Listener{Name: "l", VirtualHosts: []ir.VirtualHost{
		{Name: "pre", Hostname: "pre.example.com", Routes: []ir.HTTPRoute{route("r", nil, ms(prefix("/")), withHeader)}},
		{Name: "plain", Hostname: "plain.example.com", Routes: []ir.HTTPRoute{route("p", nil, ms(prefix("/")))}},
	}}
	calls := 0
	var served string
	build := func(_ *ir.VirtualHost, route *ir.HTTPRoute, rule *ir.HTTPRule) (http.Handler, error) {
		name := route.Name + map[int]string{0: "#0", 1: "#1"}[rule.Index]
		return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { served = name + " " + r.Host }), nil
	}
	pre := func(vh *ir.VirtualHost, next http.Handler) (http.Handler, error) {
		if vh.Name != "pre" {
			return next, nil
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			r.Header.Set("X-Tenant", "blue")
			r.Host = "plain.example.com" // must not change the virtual host
			next.ServeHTTP(w, r)
		}), nil
	}
	tb, err := New(l, build, WithPreRouting(pre))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ host, want string }{
		{"pre.example.com", "r#1 pre.example.com"},
		{"plain.example.com", "p#0 plain.example.com"},
	} {
		served = ""
		tb.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://"+tc.host+"/", nil))
		if served != tc.want {
			t.Errorf("Host %s: served %q, want %q", tc.host, served, tc.want)
		}
	}
	if calls != 1 {
		t.Errorf("pre-routing ran %d times, want once", calls)
	}
}
