package filter

import (
	"net/http"

	"portico.dev/portico/internal/ir"
)

// ResponseHeaders is the ResponseHeaderModifier filter. It edits whatever
// response the rest of the chain writes: the backend's, or the proxy's own
// (errors, redirects, CORS preflight answers).
func ResponseHeaders(m *ir.HeaderModifier) func(http.Handler) http.Handler {
	e := newHeaderEdits(m)
	edit := func(h http.Header, _ int) {
		e.apply(h)
		if _, ok := h["Content-Type"]; !ok {
			h["Content-Type"] = nil // a removed type stays removed: no sniffing
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(newEditWriter(w, edit), r)
		})
	}
}
