package filter

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"portico.dev/portico/internal/ir"
)

// Policies of conformance test httproute-cors.yaml.
var (
	cors1 = &ir.CORS{
		AllowOrigins:     []string{"https://www.foo.com", "https://*.bar.com"},
		AllowMethods:     []string{"GET", "OPTIONS"},
		AllowHeaders:     []string{"x-header-1", "x-header-2"},
		ExposeHeaders:    []string{"x-header-3", "x-header-4"},
		AllowCredentials: true,
		MaxAge:           3600,
	}
	cors2        = &ir.CORS{AllowOrigins: []string{"https://www.foo.com"}, AllowMethods: []string{"*"}}
	corsWildcard = &ir.CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"PUT"}}
	corsAuth     = &ir.CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}, AllowCredentials: true}
	corsUnauth   = &ir.CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}}
)

func TestCORS(t *testing.T) {
	preflight := func(origin, method, headers string) *http.Request {
		r := newReq("OPTIONS", "gw", "/cors")
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			r.Header.Set("Access-Control-Request-Headers", headers)
		}
		return r
	}
	simple := func(method, origin string) *http.Request {
		r := newReq(method, "gw", "/cors")
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	full1 := func(origin string) http.Header {
		return http.Header{
			"Access-Control-Allow-Origin":      {origin},
			"Access-Control-Allow-Methods":     {"GET, OPTIONS"},
			"Access-Control-Allow-Headers":     {"x-header-1, x-header-2"},
			"Access-Control-Expose-Headers":    {"x-header-3, x-header-4"},
			"Access-Control-Max-Age":           {"3600"},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             {"Origin"},
		}
	}
	cases := []struct {
		name    string
		policy  *ir.CORS
		req     *http.Request
		backend bool // whether the backend is reached
		want    http.Header
	}{
		{"preflight exact origin", cors1, preflight("https://www.foo.com", "GET", "x-header-1, x-header-2"), false, full1("https://www.foo.com")},
		{"preflight wildcard origin", cors1, preflight("https://www.bar.com", "GET", "x-header-1, x-header-2"), false, full1("https://www.bar.com")},
		{"preflight wildcard spans labels", cors1, preflight("https://xpto.www.bar.com", "GET", "x-header-1"), false, full1("https://xpto.www.bar.com")},
		{"preflight non-matching origin", cors1, preflight("https://foobar.com", "GET", ""), false, http.Header{"Vary": {"Origin"}}},
		{"preflight wildcard is not the apex", cors1, preflight("https://bar.com", "GET", ""), false, http.Header{"Vary": {"Origin"}}},
		{"preflight wrong scheme", cors1, preflight("http://www.foo.com", "GET", ""), false, http.Header{"Vary": {"Origin"}}},
		{"preflight explicit default port", cors1, preflight("https://www.foo.com:443", "GET", "x"), false, full1("https://www.foo.com:443")},
		{"preflight other port", cors1, preflight("https://www.foo.com:8443", "GET", ""), false, http.Header{"Vary": {"Origin"}}},
		{"simple exact origin", cors1, simple("GET", "https://www.foo.com"), true, http.Header{
			"Access-Control-Allow-Origin":      {"https://www.foo.com"},
			"Access-Control-Expose-Headers":    {"x-header-3, x-header-4"},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             {"Origin"},
		}},
		{"simple non-matching origin", cors1, simple("GET", "https://foobar.com"), true, http.Header{"Vary": {"Origin"}}},
		{"no origin", cors1, simple("GET", ""), true, http.Header{}},
		{"OPTIONS without request method is not a preflight", cors1, simple("OPTIONS", "https://foobar.com"), true, http.Header{"Vary": {"Origin"}}},
		{"wildcard methods echo", cors2, preflight("https://www.foo.com", "POST", ""), false, http.Header{
			"Access-Control-Allow-Origin":  {"https://www.foo.com"},
			"Access-Control-Allow-Methods": {"POST"},
			"Vary":                         {"Origin"},
		}},
		{"wildcard origin with port", corsWildcard, preflight("https://foobar.com:12345", "PUT", ""), false, http.Header{
			"Access-Control-Allow-Origin":  {"https://foobar.com:12345"},
			"Access-Control-Allow-Methods": {"PUT"},
			"Vary":                         {"Origin"},
		}},
		{"wildcard origin simple", corsWildcard, simple("PUT", "https://foobar.com"), true, http.Header{
			"Access-Control-Allow-Origin": {"https://foobar.com"},
			"Vary":                        {"Origin"},
		}},
		{"wildcards with credentials echo", corsAuth, preflight("https://other.foo.com", "PUT", "x-header-1, x-header-2"), false, http.Header{
			"Access-Control-Allow-Origin":      {"https://other.foo.com"},
			"Access-Control-Allow-Methods":     {"PUT"},
			"Access-Control-Allow-Headers":     {"x-header-1, x-header-2"},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             {"Origin"},
		}},
		{"wildcards without credentials", corsUnauth, preflight("https://other.foo.com", "PUT", "x-header-1"), false, http.Header{
			"Access-Control-Allow-Origin":  {"https://other.foo.com"},
			"Access-Control-Allow-Methods": {"PUT"},
			"Access-Control-Allow-Headers": {"x-header-1"},
			"Vary":                         {"Origin"},
		}},
		{"credentials on simple request", corsAuth, simple("GET", "https://other.foo.com"), true, http.Header{
			"Access-Control-Allow-Origin":      {"https://other.foo.com"},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             {"Origin"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reached := false
			backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				w.Header().Set("Access-Control-Allow-Origin", "backend-value")
				w.WriteHeader(http.StatusOK)
			})
			w := httptest.NewRecorder()
			CORS(c.policy)(backend).ServeHTTP(w, c.req)
			if reached != c.backend {
				t.Fatalf("backend reached = %v, want %v", reached, c.backend)
			}
			if !c.backend && w.Code != http.StatusNoContent {
				t.Errorf("preflight status %d, want 204", w.Code)
			}
			got := w.Result().Header
			if c.backend && c.want.Get("Access-Control-Allow-Origin") == "" {
				// The backend's own header is left alone for others.
				got.Del("Access-Control-Allow-Origin")
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("headers (-want +got):\n%s", d)
			}
		})
	}
}
