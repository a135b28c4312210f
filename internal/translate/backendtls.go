package translate

import (
	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// backendTLS lowers the BackendTLSPolicy settings of a backend; nil when
// the policy is not valid (the backend is then Invalid and never dialled).
func backendTLS(t *graph.BackendTLS) *ir.BackendTLS {
	if t.Invalid != "" {
		return nil
	}
	out := &ir.BackendTLS{
		Policy:            t.Policy.NamespacedName().String(),
		ServerName:        t.ServerName,
		CACertificatesPEM: string(t.CACertificates),
		SystemRoots:       t.SystemRoots,
		SubjectAltNames:   t.SubjectAltNames,
	}
	return out
}

// withClientCertificate gives every TLS backend of route the Gateway's
// backend client certificate. The backends were built for this listener
// alone, so they are changed in place.
func withClientCertificate(route *ir.HTTPRoute, gw *graph.Gateway) {
	c := gw.BackendClientCertificate
	if c == nil {
		return
	}
	cert := &ir.Certificate{Name: c.Name, CertPEM: string(c.CertPEM), KeyPEM: string(c.KeyPEM)}
	set := func(b *ir.Backend) {
		if b.TLS != nil {
			b.TLS.ClientCertificate = cert
		}
	}
	mirrors := func(f *ir.HTTPFilters) {
		for i := range f.Mirrors {
			set(&f.Mirrors[i].Backend)
		}
	}
	for i := range route.Rules {
		rule := &route.Rules[i]
		mirrors(&rule.Filters)
		for j := range rule.Backends {
			set(&rule.Backends[j])
			if rule.Backends[j].Filters != nil {
				mirrors(rule.Backends[j].Filters)
			}
		}
	}
}
