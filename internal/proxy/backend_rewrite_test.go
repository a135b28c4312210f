package proxy

import (
	"testing"

	"portico.dev/portico/internal/ir"
)

// URLRewrite as a backendRef filter (HTTPRouteBackendURLRewrite): the
// prefix it replaces is the rule's matched PathPrefix, and it applies to
// its own backend only.
func TestBackendURLRewrite(t *testing.T) {
	h := newHarness(t)
	full := to("full", echoServer(t, "full"))
	full.Filters = &ir.HTTPFilters{Rewrite: &ir.Rewrite{Path: &ir.PathModifier{Type: ir.FullPath, Value: "/rewritten-full"}}}
	prefix := to("prefix", echoServer(t, "prefix"))
	prefix.Filters = &ir.HTTPFilters{Rewrite: &ir.Rewrite{
		Hostname: "backend.example.com",
		Path:     &ir.PathModifier{Type: ir.PrefixMatch, Value: "/rewritten-prefix"},
	}}
	plain := to("plain", echoServer(t, "plain"))
	// The rule's own rewrite runs first; the backend's replaces the prefix
	// the rule matched, which the rule's rewrite no longer leaves in place.
	chained := to("chained", echoServer(t, "chained"))
	chained.Filters = &ir.HTTPFilters{Rewrite: &ir.Rewrite{Path: &ir.PathModifier{Type: ir.PrefixMatch, Value: "/never"}}}
	url := h.serve(vhost("", route("r",
		prefixRule("/full", full),
		prefixRule("/prefix", prefix),
		prefixRule("/plain", plain),
		withFilters(prefixRule("/chained", chained), ir.HTTPFilters{Rewrite: &ir.Rewrite{
			Path: &ir.PathModifier{Type: ir.FullPath, Value: "/by-rule"},
		}}),
	)))
	for _, tc := range []struct{ path, backend, wantPath, wantHost string }{
		{"/full/original?q=1", "full", "/rewritten-full?q=1", "client.example.com"},
		{"/prefix/original", "prefix", "/rewritten-prefix/original", "backend.example.com"},
		{"/prefix", "prefix", "/rewritten-prefix", "backend.example.com"},
		{"/plain/original", "plain", "/plain/original", "client.example.com"},
		{"/chained/x", "chained", "/by-rule", "client.example.com"},
	} {
		code, got := get(t, url+tc.path, "client.example.com")
		if code != 200 || got.Backend != tc.backend || got.Path != tc.wantPath || got.Host != tc.wantHost {
			t.Errorf("%s: got %d from %q, path %q Host %q; want %s %q %q", tc.path, code, got.Backend, got.Path, got.Host, tc.backend, tc.wantPath, tc.wantHost)
		}
	}
}
