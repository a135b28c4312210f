package proxy

import (
	"fmt"
	"net/http"

	"portico.dev/portico/internal/ir"
)

// preRouting builds what a VirtualHost runs before route matching: the
// client certificate check, then its listener filters in order. It returns
// next when there is nothing to run.
func (b *builder) preRouting(vh *ir.VirtualHost, next http.Handler) (http.Handler, error) {
	h := next
	for i := len(vh.Filters) - 1; i >= 0; i-- {
		switch f := vh.Filters[i]; {
		case f.ExternalAuth != nil:
			h = b.externalAuth(f.ExternalAuth, h)
		default:
			return nil, fmt.Errorf("filters[%d]: no filter set", i)
		}
	}
	if vh.TLS != nil && vh.TLS.ClientValidation != nil && !vh.TLS.ClientValidation.Optional {
		cas, err := newClientCAs(vh.TLS.ClientValidation)
		if err != nil {
			return nil, err
		}
		h = requireClientCertificate(cas, h)
	}
	return h, nil
}
