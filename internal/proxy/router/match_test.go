package router

import (
	"net/http"
	"testing"

	"portico.dev/portico/internal/ir"
)

func withMethod(m ir.HTTPMatch, method string) ir.HTTPMatch { m.Method = method; return m }

func withHeaders(m ir.HTTPMatch, kv ...string) ir.HTTPMatch {
	for i := 0; i+1 < len(kv); i += 2 {
		m.Headers = append(m.Headers, ir.HeaderMatch{Type: ir.MatchExact, Name: kv[i], Value: kv[i+1]})
	}
	return m
}

func withQuery(m ir.HTTPMatch, kv ...string) ir.HTTPMatch {
	for i := 0; i+1 < len(kv); i += 2 {
		m.QueryParams = append(m.QueryParams, ir.QueryMatch{Type: ir.MatchExact, Name: kv[i], Value: kv[i+1]})
	}
	return m
}

// TestMatchPrecedence checks every level of ir.HTTPRule's order. Routes are
// listed so that route order alone would pick the wrong one.
func TestMatchPrecedence(t *testing.T) {
	cases := []struct {
		name   string
		routes []ir.HTTPRoute
		req    *http.Request
		want   string
	}{
		{"exact beats regex and prefix", []ir.HTTPRoute{
			route("prefix", nil, ms(prefix("/a/b"))),
			route("regex", nil, ms(regex("/a/.*"))),
			route("exact", nil, ms(exact("/a/b"))),
		}, req("GET", "h", "/a/b"), "exact#0"},
		{"regex beats prefix", []ir.HTTPRoute{
			route("prefix", nil, ms(prefix("/a/b"))),
			route("regex", nil, ms(regex("/a/.*"))),
		}, req("GET", "h", "/a/b"), "regex#0"},
		{"longer regex first", []ir.HTTPRoute{
			route("short", nil, ms(regex("/a/.*"))),
			route("long", nil, ms(regex("/a/[a-z]+"))),
		}, req("GET", "h", "/a/b"), "long#0"},
		{"longer prefix first", []ir.HTTPRoute{
			route("short", nil, ms(prefix("/a"))),
			route("long", nil, ms(prefix("/a/b"))),
		}, req("GET", "h", "/a/b/c"), "long#0"},
		{"trailing slash does not count as a character", []ir.HTTPRoute{
			route("first", nil, ms(prefix("/a"))),
			route("second", nil, ms(prefix("/a/"))),
		}, req("GET", "h", "/a/b"), "first#0"},
		{"method beats headers", []ir.HTTPRoute{
			route("headers", nil, ms(withHeaders(prefix("/"), "a", "1", "b", "2"))),
			route("method", nil, ms(withMethod(prefix("/"), "GET"))),
		}, req("GET", "h", "/", "a", "1", "b", "2"), "method#0"},
		{"prefix length beats method", []ir.HTTPRoute{
			route("method", nil, ms(withMethod(prefix("/"), "GET"))),
			route("long", nil, ms(prefix("/x"))),
		}, req("GET", "h", "/x"), "long#0"},
		{"more headers first", []ir.HTTPRoute{
			route("one", nil, ms(withHeaders(prefix("/"), "a", "1"))),
			route("two", nil, ms(withHeaders(prefix("/"), "a", "1", "b", "2"))),
		}, req("GET", "h", "/", "a", "1", "b", "2"), "two#0"},
		{"headers beat query params", []ir.HTTPRoute{
			route("query", nil, ms(withQuery(prefix("/"), "q", "1", "r", "2"))),
			route("header", nil, ms(withHeaders(prefix("/"), "a", "1"))),
		}, req("GET", "h", "/?q=1&r=2", "a", "1"), "header#0"},
		{"more query params first", []ir.HTTPRoute{
			route("one", nil, ms(withQuery(prefix("/"), "q", "1"))),
			route("two", nil, ms(withQuery(prefix("/"), "q", "1", "r", "2"))),
		}, req("GET", "h", "/?q=1&r=2"), "two#0"},
		{"route order on ties", []ir.HTTPRoute{
			route("older", nil, ms(prefix("/a"))),
			route("newer", nil, ms(prefix("/a"))),
		}, req("GET", "h", "/a"), "older#0"},
		{"rule order on ties", []ir.HTTPRoute{
			route("r", nil, ms(prefix("/b")), ms(prefix("/a")), ms(prefix("/a"))),
		}, req("GET", "h", "/a"), "r#1"},
		{"most specific match of a rule counts", []ir.HTTPRoute{
			route("r1", nil, ms(prefix("/a"))),
			route("r2", nil, ms(prefix("/"), exact("/a"))),
		}, req("GET", "h", "/a"), "r2#0"},
		{"default match is prefix /", []ir.HTTPRoute{
			{Name: "nomatch", Rules: []ir.HTTPRule{{Index: 0}}},
		}, req("GET", "h", "/anything"), "nomatch#0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := mustNew(t, listener(vh("gw", "", c.routes...)))
			if got := decide(tb, c.req, ""); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestPathMatching(t *testing.T) {
	cases := []struct {
		match ir.HTTPMatch
		path  string
		want  bool
	}{
		{prefix("/foo"), "/foo", true},
		{prefix("/foo"), "/foo/", true},
		{prefix("/foo"), "/foo/bar", true},
		{prefix("/foo"), "/foobar", false},
		{prefix("/foo"), "/fo", false},
		{prefix("/foo/"), "/foo", true},
		{prefix("/foo/"), "/foo/bar", true},
		{prefix("/foo/"), "/foobar", false},
		{prefix("/"), "/", true},
		{prefix("/"), "/anything/at/all", true},
		{prefix("/foo"), "/FOO", false}, // case-sensitive
		{prefix("/foo"), "/foo?x=1", true},
		// Escaped form as sent: "%2F" is not a separator.
		{prefix("/foo/bar"), "/foo%2Fbar", false},
		{prefix("/foo"), "/foo%2Fbar", false},
		{prefix("/a%20b"), "/a%20b/c", true},
		{exact("/a%20b"), "/a%20b", true},
		{exact("/abc"), "/%61bc", false},
		{exact("/foo"), "/foo", true},
		{exact("/foo"), "/foo/", false},
		{exact("/foo"), "/foo?q", true},
		// No normalisation: "//" and dot segments are compared as sent.
		{prefix("/foo/bar"), "/foo//bar", false},
		{exact("/foo"), "/bar/../foo", false},
		// Regular expressions must match the whole path.
		{regex("/foo"), "/foo/bar", false},
		{regex("/foo"), "/x/foo", false},
		{regex("/foo|/bar"), "/bar", true},
		{regex("/foo|/bar"), "/barx", false},
		{regex(`/v[0-9]+/.*`), "/v2/x", true},
	}
	for _, c := range cases {
		tb := mustNew(t, listener(vh("gw", "", route("r", nil, ms(c.match)))))
		got := decide(tb, req("GET", "h", c.path), "") == "r#0"
		if got != c.want {
			t.Errorf("%s %q on %q: got %v, want %v", c.match.Path.Type, c.match.Path.Value, c.path, got, c.want)
		}
	}
}

func TestHeaderQueryMethodMatching(t *testing.T) {
	hre := func(name, value string) ir.HTTPMatch {
		m := prefix("/")
		m.Headers = []ir.HeaderMatch{{Type: ir.MatchRegex, Name: name, Value: value}}
		return m
	}
	qre := func(name, value string) ir.HTTPMatch {
		m := prefix("/")
		m.QueryParams = []ir.QueryMatch{{Type: ir.MatchRegex, Name: name, Value: value}}
		return m
	}
	cases := []struct {
		name  string
		match ir.HTTPMatch
		req   *http.Request
		want  bool
	}{
		{"header name case-insensitive", withHeaders(prefix("/"), "X-Version", "one"), req("GET", "h", "/", "x-version", "one"), true},
		{"header value case-sensitive", withHeaders(prefix("/"), "X-Version", "one"), req("GET", "h", "/", "X-Version", "ONE"), false},
		{"header absent", withHeaders(prefix("/"), "X-Version", ""), req("GET", "h", "/"), false},
		{"header empty value", withHeaders(prefix("/"), "X-Version", ""), req("GET", "h", "/", "X-Version", ""), true},
		{"header values joined", withHeaders(prefix("/"), "X-A", "1,2"), req("GET", "h", "/", "X-A", "1", "X-A", "2"), true},
		{"header values joined, wrong", withHeaders(prefix("/"), "X-A", "1"), req("GET", "h", "/", "X-A", "1", "X-A", "2"), false},
		{"header values joined, longer", withHeaders(prefix("/"), "X-A", "1,2,3"), req("GET", "h", "/", "X-A", "1", "X-A", "2"), false},
		{"header regex joined", hre("x-a", `1,\d`), req("GET", "h", "/", "X-A", "1", "X-A", "2"), true},
		{"header regex anchored", hre("x-a", `v1`), req("GET", "h", "/", "X-A", "v12"), false},
		{"header regex", hre("x-a", `v[0-9]+`), req("GET", "h", "/", "X-A", "v12"), true},
		{"host header", withHeaders(prefix("/"), "host", "h.example"), req("GET", "h.example", "/"), true},
		{"query exact", withQuery(prefix("/"), "animal", "whale"), req("GET", "h", "/?animal=whale"), true},
		{"query name case-sensitive", withQuery(prefix("/"), "animal", "whale"), req("GET", "h", "/?Animal=whale"), false},
		{"query value case-sensitive", withQuery(prefix("/"), "animal", "whale"), req("GET", "h", "/?animal=Whale"), false},
		{"query first value", withQuery(prefix("/"), "animal", "whale"), req("GET", "h", "/?animal=whale&animal=dolphin"), true},
		{"query not first value", withQuery(prefix("/"), "animal", "dolphin"), req("GET", "h", "/?animal=whale&animal=dolphin"), false},
		{"query escaped", withQuery(prefix("/"), "a b", "c&d"), req("GET", "h", "/?a+b=c%26d"), true},
		{"query missing", withQuery(prefix("/"), "animal", ""), req("GET", "h", "/?other=1"), false},
		{"query empty value", withQuery(prefix("/"), "animal", ""), req("GET", "h", "/?animal"), true},
		{"query regex anchored", qre("v", "[0-9]"), req("GET", "h", "/?v=12"), false},
		{"query regex", qre("v", "[0-9]+"), req("GET", "h", "/?x=a&v=12"), true},
		{"method exact", withMethod(prefix("/"), "POST"), req("POST", "h", "/"), true},
		{"method other", withMethod(prefix("/"), "POST"), req("GET", "h", "/"), false},
	}
	for _, c := range cases {
		tb := mustNew(t, listener(vh("gw", "", route("r", nil, ms(c.match)))))
		if got := decide(tb, c.req, "") == "r#0"; got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEqualJoined(t *testing.T) {
	cases := []struct {
		vals []string
		want string
		ok   bool
	}{
		{[]string{"a", "b"}, "a,b", true},
		{[]string{"a", "b"}, "a,b,", false},
		{[]string{"a", "b"}, "ab", false},
		{[]string{"", "b"}, ",b", true},
		{[]string{"a", ""}, "a,", true},
		{[]string{"a,b", "c"}, "a,b,c", true},
	}
	for _, c := range cases {
		if got := equalJoined(c.vals, c.want); got != c.ok {
			t.Errorf("equalJoined(%q, %q) = %v", c.vals, c.want, got)
		}
	}
}

func TestMatchedPathPrefix(t *testing.T) {
	tb := mustNew(t, listener(vh("gw", "", route("r", nil,
		ms(prefix("/api/")), ms(prefix("/")), ms(exact("/exact")), ms(regex("/re.*"))))))
	cases := []struct{ path, want string }{
		{"/api/x", "/api"},
		{"/other", "/"},
		{"/exact", ""},
		{"/regex", ""},
	}
	for _, c := range cases {
		res := tb.Route(req("GET", "h", c.path), "")
		if res.Matched == nil || res.Matched.PathPrefix != c.want {
			t.Errorf("%s: Matched = %+v, want PathPrefix %q", c.path, res.Matched, c.want)
		}
	}
}

func TestRouteDoesNotAllocate(t *testing.T) {
	tb := mustNew(t, listener(
		vh("a", "a.example.com", route("r", hn("a.example.com"), ms(withQuery(withHeaders(prefix("/api"), "X-A", "1"), "q", "1")))),
		vh("w", "*.example.com", route("w", nil, ms(regex("/v[0-9]+/.*")))),
	))
	for _, r := range []*http.Request{
		req("GET", "a.example.com:8080", "/api/v1?q=1", "X-A", "1"),
		req("GET", "b.example.com", "/v1/x"),
		req("GET", "nope.org", "/"),
	} {
		if n := testing.AllocsPerRun(100, func() { tb.Route(r, "") }); n != 0 {
			t.Errorf("%s%s: %v allocations", r.Host, r.URL, n)
		}
	}
}
