package proxy

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/testclient"
)

// pathCase is one request target and what must come of it: refused with
// 400 (path ""), or seen by the backend as path, through the guarded
// /admin rule or not.
type pathCase struct {
	target  string
	path    string
	guarded bool
	h1Only  bool // not a valid HTTP/2 :path (absolute-form)
}

var pathTable = []pathCase{
	{target: "/admin/x", path: "/admin/x", guarded: true},
	{target: "/public/x", path: "/public/x"},
	{target: "/public/../admin/x", path: "/admin/x", guarded: true},
	{target: "/public/%2e%2e/admin", path: "/admin", guarded: true},
	{target: "/public/%2E%2e/admin", path: "/admin", guarded: true},
	{target: "//admin", path: "/admin", guarded: true},
	{target: "//admin//x", path: "/admin/x", guarded: true},
	{target: "/./admin", path: "/admin", guarded: true},
	{target: "/%61dmin", path: "/admin", guarded: true},
	{target: "/%61dmin/%7e", path: "/admin/~", guarded: true},
	{target: "/admin/./x/../y?q=%2e%2e/a//b", path: "/admin/y?q=%2e%2e/a//b", guarded: true},
	{target: "/admin/a\"b", path: "/admin/a%22b", guarded: true}, // the h1 engine's fallback path
	{target: "/admin%2fx", path: "/admin%2Fx"},                   // an encoded slash is data
	{target: "/public/..%2Fadmin", path: "/public/..%2Fadmin"},
	{target: "/public/%2e%2e%5cadmin", path: "/public/..%5Cadmin"},
	{target: "/admin;x=1", path: "/admin;x=1"},
	{target: "/rewrite/../rewrite/admin/x", path: "/private/x"},
	{target: "/%72ewrite/admin//y", path: "/private/y"},
	{target: "http://example.com/public/../admin", path: "/admin", guarded: true, h1Only: true},
	{target: "http://example.com/%61dmin?x=1", path: "/admin?x=1", guarded: true, h1Only: true},
	{target: "/../admin"},
	{target: "/public/../../admin"},
	{target: "/public/..;/admin"},
	{target: "/public/.;x/admin"},
	{target: "/public/%2e%2e;/admin"},
	{target: "/a%00b"},
	{target: "/a%zz"},
	{target: `/public\..\admin`},
	{target: `/admin\x`},
	{target: "*"},
	{target: "example.com:80"},
}

// pathProxy serves a listener whose /admin rule is guarded (it sets
// X-Guard), a rule that rewrites /rewrite/admin to /private, and a
// catch-all, all to one echo backend.
func pathProxy(t *testing.T) string {
	h := newHarness(t)
	e := to("echo", echoServer(t, "echo"))
	url := h.serve(vhost("", route("r",
		withFilters(prefixRule("/admin", e), ir.HTTPFilters{RequestHeaders: &ir.HeaderModifier{
			Set: []ir.Header{{Name: "X-Guard", Value: "admin"}},
		}}),
		withFilters(prefixRule("/rewrite/admin", e), ir.HTTPFilters{Rewrite: &ir.Rewrite{
			Path: &ir.PathModifier{Type: ir.PrefixMatch, Value: "/private"},
		}}),
		prefixRule("/", e),
	)))
	return strings.TrimPrefix(url, "http://")
}

func checkPathCase(t *testing.T, proto string, c pathCase, status int, body []byte) {
	t.Helper()
	if c.path == "" {
		if status != http.StatusBadRequest {
			t.Errorf("%s %q: got %d %s, want 400", proto, c.target, status, body)
		}
		return
	}
	var e echo
	if status != 200 || json.Unmarshal(body, &e) != nil {
		t.Errorf("%s %q: got %d %s, want 200 from the backend", proto, c.target, status, body)
		return
	}
	if e.Path != c.path || (e.Header.Get("X-Guard") == "admin") != c.guarded {
		t.Errorf("%s %q: backend saw %q (X-Guard %q), want %q guarded=%v", proto, c.target, e.Path, e.Header.Get("X-Guard"), c.path, c.guarded)
	}
}

func TestPathNormalisationHTTP1(t *testing.T) {
	addr := pathProxy(t)
	for _, c := range pathTable {
		a, err := testclient.HTTP1(addr, c.target, "example.com")
		if err != nil {
			t.Fatal(err)
		}
		checkPathCase(t, "HTTP/1.1", c, a.Status, a.Body)
	}
}

func TestPathNormalisationHTTP2(t *testing.T) {
	addr := pathProxy(t)
	for _, c := range pathTable {
		if c.h1Only || !strings.HasPrefix(c.target, "/") {
			continue
		}
		a, err := testclient.H2C(addr, c.target, "example.com")
		if err != nil {
			t.Fatal(err)
		}
		if a.Reset && c.path == "" {
			continue // a :path the HTTP/2 server refuses as malformed
		}
		checkPathCase(t, "HTTP/2", c, a.Status, a.Body)
	}
}

// Route values are put in the normal form of request paths: a rule on
// "/%7Euser" still matches once "/%7Euser/x" is normalised to "/~user/x".
func TestPathNormalisationRouteValues(t *testing.T) {
	h := newHarness(t)
	e := to("echo", echoServer(t, "echo"))
	url := h.serve(vhost("", route("r",
		withFilters(prefixRule("/%7euser", e), ir.HTTPFilters{RequestHeaders: &ir.HeaderModifier{
			Set: []ir.Header{{Name: "X-Guard", Value: "admin"}},
		}}),
		prefixRule("/", e),
	)))
	for _, target := range []string{"/~user/x", "/%7Euser/x", "/%7euser/x"} {
		a, err := testclient.HTTP1(strings.TrimPrefix(url, "http://"), target, "example.com")
		if err != nil {
			t.Fatal(err)
		}
		checkPathCase(t, "HTTP/1.1", pathCase{target: target, path: "/~user/x", guarded: true}, a.Status, a.Body)
	}
}

// normalizeRequest leaves r.URL.Path, RawPath and RequestURI in
// agreement, from the target as net/http's server parses it.
func TestNormalizeRequestFields(t *testing.T) {
	for _, c := range []struct{ target, escaped, path, uri string }{
		{"/a/b?x=1", "/a/b", "/a/b", "/a/b?x=1"},
		{"/a/../b%2fc?x=/../", "/b%2Fc", "/b/c", "/b%2Fc?x=/../"},
		{"//%61/./b/", "/a/b/", "/a/b/", "/a/b/"},
		{"/a%20b/../c", "/c", "/c", "/c"},
		{"/x/%e2%82%ac", "/x/%E2%82%AC", "/x/€", "/x/%E2%82%AC"},
		{"http://h.example/a/../b?q", "/b", "/b", "http://h.example/b?q"},
		{"http://h.example?q", "/", "/", "http://h.example/?q"},
		{"http://h.example", "/", "/", "http://h.example/"},
	} {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + c.target + " HTTP/1.1\r\nHost: h.example\r\n\r\n")))
		if err != nil {
			t.Fatalf("%q: %v", c.target, err)
		}
		w := httptest.NewRecorder()
		if !normalizeRequest(w, r) {
			t.Fatalf("%q refused: %d %s", c.target, w.Code, w.Body)
		}
		if r.URL.EscapedPath() != c.escaped || r.URL.Path != c.path || r.RequestURI != c.uri {
			t.Errorf("%q: EscapedPath %q Path %q RequestURI %q, want %q %q %q", c.target, r.URL.EscapedPath(), r.URL.Path, r.RequestURI, c.escaped, c.path, c.uri)
		}
	}
}
