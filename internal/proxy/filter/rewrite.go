package filter

import (
	"net/http"

	"portico.dev/portico/internal/ir"
)

// Rewrite is the URLRewrite filter. Hostname sets r.Host, which the
// transport must send upstream as the Host header; the path is replaced in a
// copy of r.URL (the server's original URL stays intact for access logs) and
// the query is kept.
func Rewrite(rw *ir.Rewrite) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rw.Hostname != "" {
				r.Host = rw.Hostname
			}
			if p, ok := newPath(rw.Path, r); ok {
				u := *r.URL
				setPath(&u, p)
				r.URL = &u
			}
			next.ServeHTTP(w, r)
		})
	}
}
