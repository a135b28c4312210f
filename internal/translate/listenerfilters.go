package translate

import (
	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// listenerFilters lowers a listener's pre-routing filters, in order.
func listenerFilters(fs []graph.ListenerFilter) []ir.ListenerFilter {
	var out []ir.ListenerFilter
	for _, f := range fs {
		if ea := f.ExternalAuth; ea != nil {
			// The authorization service is called in plain HTTP: its
			// backend gets no BackendTLSPolicy.
			e := &ir.ExternalAuth{Backend: ir.Backend{Name: ea.Backend.Name, Protocol: ea.Backend.Protocol, Endpoints: ea.Backend.Endpoints, Invalid: ea.Backend.Invalid, Weight: 1}}
			if h := ea.Spec.HTTPAuthConfig; h != nil {
				e.PathPrefix = h.Path
				e.AllowedRequestHeaders = h.AllowedRequestHeaders
				e.AllowedResponseHeaders = h.AllowedResponseHeaders
			}
			if fb := ea.Spec.ForwardBody; fb != nil {
				e.MaxBodySize = fb.MaxSize
			}
			out = append(out, ir.ListenerFilter{ExternalAuth: e})
		}
	}
	return out
}
