package proxy

import (
	"fmt"
	"net/http"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/backend"
	"portico.dev/portico/internal/proxy/filter"
)

// The backend package sends the copies the RequestMirror filter makes.
var _ filter.MirrorSender = (*backend.Mirrors)(nil)

// chain validates f (refusing values the filter package would have to
// degrade) and wraps next in it. Mirror backends of f are registered with
// m so their pools are built, and kept, with the generation.
func (b *builder) chain(field string, f *ir.HTTPFilters, port int32, next http.Handler, m *backend.Mirrors) (http.Handler, error) {
	if !hasFilters(f) {
		return next, nil
	}
	if err := filter.Validate(f); err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	for i := range f.Mirrors {
		b.up.AddMirror(m, &f.Mirrors[i].Backend)
	}
	return filter.Chain(f, port, next, m), nil
}

// hasFilters reports whether f asks for anything.
func hasFilters(f *ir.HTTPFilters) bool {
	return f != nil && (f.CORS != nil || f.Redirect != nil || f.RequestHeaders != nil ||
		f.Rewrite != nil || len(f.Mirrors) > 0 || f.ResponseHeaders != nil)
}

// rewritesHost reports whether f changes the Host before proxying, in which
// case the original Host is kept for X-Forwarded-Host.
func rewritesHost(f *ir.HTTPFilters) bool {
	return f != nil && f.Rewrite != nil && f.Rewrite.Hostname != ""
}
