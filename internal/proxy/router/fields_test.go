package router

import (
	"net/http"
	"testing"

	"portico.dev/portico/internal/ir"
)

// headerMap is a HeaderSource over an http.Header.
type headerMap http.Header

func (h headerMap) HeaderValues(name string) []string { return h[name] }

// RouteFields decides exactly as Route does.
func TestRouteFieldsAgreesWithRoute(t *testing.T) {
	withHeader := func(m ir.HTTPMatch, name, value string) ir.HTTPMatch {
		m.Headers = append(m.Headers, ir.HeaderMatch{Type: ir.MatchExact, Name: name, Value: value})
		return m
	}
	withQuery := func(m ir.HTTPMatch, name, value string) ir.HTTPMatch {
		m.QueryParams = append(m.QueryParams, ir.QueryMatch{Type: ir.MatchExact, Name: name, Value: value})
		return m
	}
	get := exact("/get")
	get.Method = "GET"
	tb := mustNew(t, listener(
		vh("a", "a.example.com",
			route("r1", nil, ms(withHeader(prefix("/h"), "X-Tenant", "blue")), ms(withQuery(prefix("/q"), "v", "1")), ms(get), ms(regex("/re/[0-9]+"))),
			route("r2", nil, ms(prefix("/")))),
		vh("w", "*.example.org", route("w", nil, ms(prefix("/"))))))
	for _, r := range []*http.Request{
		req("GET", "a.example.com", "/h/x", "X-Tenant", "blue"),
		req("GET", "a.example.com", "/h/x", "X-Tenant", "red"),
		req("GET", "a.example.com", "/h/x", "X-Tenant", "blue", "X-Tenant", "blue"),
		req("GET", "A.Example.COM:80", "/q?v=1"),
		req("GET", "a.example.com", "/q?v=2"),
		req("GET", "a.example.com", "/get"),
		req("POST", "a.example.com", "/get"),
		req("GET", "a.example.com", "/re/12"),
		req("GET", "a.example.com", "/re/x"),
		req("GET", "x.example.org", "/"),
		req("GET", "nowhere", "/"),
	} {
		want := tb.Route(r, "")
		f := Fields{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: headerMap(r.Header)}
		got, pre := tb.RouteFields(&f, "")
		if pre || got.Status != want.Status || got.Matched != want.Matched {
			t.Errorf("%s %s%s: RouteFields %+v (pre %v), Route %+v", r.Method, r.Host, r.URL, got, pre, want)
		}
	}
}
