package filter

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"portico.dev/portico/internal/ir"
)

func TestChainOrder(t *testing.T) {
	respHdr := &ir.HeaderModifier{Set: []ir.Header{{Name: "X-Resp", Value: "1"}, {Name: "Access-Control-Allow-Origin", Value: "override"}}}
	cases := []struct {
		name       string
		f          *ir.HTTPFilters
		req        *http.Request
		wantCode   int
		wantHeader map[string]string
		wantPath   string // path the backend saw; "" when not reached
	}{
		{"nil filters", nil, newReq("GET", "gw", "/a"), 200, nil, "/a"},
		{"redirect answers with response headers", &ir.HTTPFilters{
			Redirect:        &ir.Redirect{Scheme: "https"},
			ResponseHeaders: respHdr,
		}, newReq("GET", "gw", "/a"), 302, map[string]string{"Location": "https://gw/a", "X-Resp": "1"}, ""},
		{"preflight answered before redirect", &ir.HTTPFilters{
			CORS:     &ir.CORS{AllowOrigins: []string{"*"}},
			Redirect: &ir.Redirect{Scheme: "https"},
		}, func() *http.Request {
			r := newReq("OPTIONS", "gw", "/a")
			r.Header.Set("Origin", "https://x.example")
			r.Header.Set("Access-Control-Request-Method", "GET")
			return r
		}(), 204, map[string]string{"Location": "", "Access-Control-Allow-Origin": "https://x.example"}, ""},
		{"response modifier has the last word", &ir.HTTPFilters{
			CORS:            &ir.CORS{AllowOrigins: []string{"*"}},
			ResponseHeaders: respHdr,
		}, func() *http.Request {
			r := newReq("GET", "gw", "/a")
			r.Header.Set("Origin", "https://x.example")
			return r
		}(), 200, map[string]string{"Access-Control-Allow-Origin": "override", "X-Resp": "1"}, "/a"},
		{"rewrite reaches backend", &ir.HTTPFilters{
			Rewrite: &ir.Rewrite{Path: &ir.PathModifier{Type: ir.FullPath, Value: "/b"}},
		}, newReq("GET", "gw", "/a"), 200, nil, "/b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got seen
			w := httptest.NewRecorder()
			Chain(c.f, 80, &got, newRecordSender()).ServeHTTP(w, matched(c.req, "/"))
			if w.Code != c.wantCode {
				t.Errorf("status %d, want %d", w.Code, c.wantCode)
			}
			for k, v := range c.wantHeader {
				if w.Header().Get(k) != v {
					t.Errorf("%s = %q, want %q", k, w.Header().Get(k), v)
				}
			}
			var path string
			if got.r != nil {
				path = got.r.URL.Path
			}
			if path != c.wantPath {
				t.Errorf("backend saw %q, want %q", path, c.wantPath)
			}
		})
	}
}

func TestMirrorSeesRewrittenRequest(t *testing.T) {
	s := newRecordSender()
	f := &ir.HTTPFilters{
		Rewrite: &ir.Rewrite{Path: &ir.PathModifier{Type: ir.PrefixMatch, Value: "/v2"}},
		Mirrors: []ir.Mirror{{Backend: ir.Backend{Name: "m"}}},
	}
	var got seen
	Chain(f, 80, &got, s).ServeHTTP(httptest.NewRecorder(), matched(newReq("GET", "gw", "/v1/x"), "/v1"))
	if m := s.wait(t, 1); m[0].path != "/v2/x" {
		t.Errorf("mirror saw %q", m[0].path)
	}
}

func TestValidate(t *testing.T) {
	if err := Validate(&ir.HTTPFilters{CORS: cors1, Redirect: &ir.Redirect{StatusCode: 301}}); err != nil {
		t.Errorf("valid filters: %v", err)
	}
	err := Validate(&ir.HTTPFilters{
		CORS:            &ir.CORS{AllowOrigins: []string{"*", "www.foo.com", "https://a.com:99999"}},
		Redirect:        &ir.Redirect{StatusCode: 200, Scheme: "ftp", Path: &ir.PathModifier{Type: "Nope"}},
		Rewrite:         &ir.Rewrite{Path: &ir.PathModifier{Type: "Nope"}},
		ResponseHeaders: &ir.HeaderModifier{Set: []ir.Header{{Name: "bad name", Value: "v"}}},
	})
	for _, want := range []string{"cors.allowOrigins[1]", "cors.allowOrigins[2]", "redirect.statusCode", "redirect.scheme", "redirect.path.type", "rewrite.path.type", "responseHeaders"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}
