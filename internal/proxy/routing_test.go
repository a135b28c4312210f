package proxy

import (
	"net/http/httptest"
	"testing"

	"portico.dev/portico/internal/ir"
)

// ruleTo is a rule with matches that forwards to a backend named name.
func ruleTo(s *httptest.Server, name string, matches ...ir.HTTPMatch) ir.HTTPRule {
	return ir.HTTPRule{Matches: matches, Backends: []ir.Backend{to(name, s)}}
}

func path(t ir.PathMatchType, v string) ir.HTTPMatch {
	return ir.HTTPMatch{Path: ir.PathMatch{Type: t, Value: v}}
}

func TestMatchTypesAndPrecedence(t *testing.T) {
	h := newHarness(t)
	// One echo server per rule name keeps the answer self-describing.
	srv := map[string]*httptest.Server{}
	rt := func(name string, ms ...ir.HTTPMatch) ir.HTTPRule {
		if srv[name] == nil {
			srv[name] = echoServer(t, name)
		}
		return ruleTo(srv[name], name, ms...)
	}
	withHeader := path(ir.PathPrefix, "/h")
	withHeader.Headers = []ir.HeaderMatch{{Type: ir.MatchExact, Name: "X-Version", Value: "2"}}
	withTwoHeaders := path(ir.PathPrefix, "/h")
	withTwoHeaders.Headers = []ir.HeaderMatch{{Type: ir.MatchExact, Name: "X-Version", Value: "2"}, {Type: ir.MatchRegex, Name: "X-Env", Value: "prod|stage"}}
	withQuery := path(ir.PathPrefix, "/q")
	withQuery.QueryParams = []ir.QueryMatch{{Type: ir.MatchExact, Name: "v", Value: "1"}}
	withMethod := path(ir.PathPrefix, "/m")
	withMethod.Method = "POST"

	older := route("older",
		rt("prefix-root", path(ir.PathPrefix, "/")),
		rt("prefix-foo", path(ir.PathPrefix, "/foo")),
		rt("prefix-foo-bar", path(ir.PathPrefix, "/foo/bar")),
		rt("exact-foo", path(ir.PathExact, "/foo")),
		rt("regex", path(ir.PathRegex, "/re/[0-9]+")),
		rt("header", withHeader),
		rt("two-headers", withTwoHeaders),
		rt("query", withQuery),
		rt("method", withMethod),
		rt("tie-older", path(ir.PathPrefix, "/tie")),
	)
	newer := route("newer", rt("tie-newer", path(ir.PathPrefix, "/tie")))
	hosted := route("hosted", rt("hosted", path(ir.PathPrefix, "/")))
	hosted.Hostnames = []ir.RouteHostname{{Match: "special.example.com", Precedence: "special.example.com"}}
	url := h.serve(vhost("", hosted, older, newer))

	for _, tc := range []struct {
		method, path, host string
		hdr                []string
		want               string
	}{
		{"GET", "/foo", "x", nil, "exact-foo"},
		{"GET", "/foo/", "x", nil, "prefix-foo"},
		{"GET", "/foo/bar/baz", "x", nil, "prefix-foo-bar"},
		{"GET", "/foobar", "x", nil, "prefix-root"}, // element-wise prefix
		{"GET", "/re/123", "x", nil, "regex"},
		{"GET", "/re/abc", "x", nil, "prefix-root"},
		{"GET", "/h", "x", nil, "prefix-root"},
		{"GET", "/h", "x", []string{"X-Version", "2"}, "header"},
		{"GET", "/h", "x", []string{"X-Version", "2", "X-Env", "prod"}, "two-headers"},
		{"GET", "/q?v=1", "x", nil, "query"},
		{"GET", "/q?v=2", "x", nil, "prefix-root"},
		{"POST", "/m", "x", nil, "method"},
		{"GET", "/m", "x", nil, "prefix-root"},
		{"GET", "/tie", "x", nil, "tie-older"}, // equal precedence: older route wins
		{"GET", "/foo", "special.example.com", nil, "hosted"},
	} {
		resp, body := do(t, client, tc.method, url+tc.path, tc.host, tc.hdr...)
		if got := resp.Header.Get("X-Backend"); got != tc.want {
			t.Errorf("%s %s Host %s %v: got %q (%d %s), want %q", tc.method, tc.path, tc.host, tc.hdr, got, resp.StatusCode, body, tc.want)
		}
	}
}

func TestNotFound(t *testing.T) {
	h := newHarness(t)
	e := echoServer(t, "e")
	url := h.serve(vhost("a.example.com", route("r", ruleTo(e, "e", path(ir.PathExact, "/only")))))
	for _, tc := range []struct{ path, host string }{{"/other", "a.example.com"}, {"/only", "b.example.com"}} {
		if code, _ := get(t, url+tc.path, tc.host); code != 404 {
			t.Errorf("%s Host %s: got %d, want 404", tc.path, tc.host, code)
		}
	}
}
