package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"

	"portico.dev/portico/internal/certs"
	"portico.dev/portico/internal/ir"
)

// clientCAs are the trust anchors of a VirtualHost's client certificate
// validation.
type clientCAs struct {
	pool *x509.CertPool
	// anchors holds the DER of each CA certificate: a verified chain must
	// end in one of them.
	anchors map[string]bool
}

func newClientCAs(cv *ir.ClientValidation) (*clientCAs, error) {
	c := &clientCAs{pool: x509.NewCertPool(), anchors: map[string]bool{}}
	for _, ca := range cv.CACertificates {
		cas, err := certs.Certificates([]byte(ca.PEM))
		if err != nil {
			return nil, fmt.Errorf("client CA %q: %w", ca.Name, err)
		}
		for _, cert := range cas {
			c.pool.AddCert(cert)
			c.anchors[string(cert.Raw)] = true
		}
	}
	if len(c.anchors) == 0 {
		return nil, fmt.Errorf("client certificate validation without CA certificates")
	}
	return c, nil
}

// configure makes cfg ask for client certificates as cv says.
func (c *clientCAs) configure(cfg *tls.Config, cv *ir.ClientValidation) {
	cfg.ClientCAs = c.pool
	if cv.Optional {
		// AllowInsecureFallback: ask, so clients that have one send it,
		// but never fail the handshake over it.
		cfg.ClientAuth = tls.RequestClientCert
	} else {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
}

// verified reports whether the connection's client certificate was
// verified against these anchors: the handshake may have used another
// VirtualHost's settings (no SNI, another name, a resumed session) or those
// of an earlier configuration.
func (c *clientCAs) verified(cs *tls.ConnectionState) bool {
	if cs == nil {
		return false
	}
	for _, chain := range cs.VerifiedChains {
		if len(chain) > 0 && c.anchors[string(chain[len(chain)-1].Raw)] {
			return true
		}
	}
	return false
}

// requireClientCertificate answers 421 to requests on connections whose
// client certificate was not verified for this VirtualHost, so a client
// cannot reach it through the TLS settings of another one.
func requireClientCertificate(c *clientCAs, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.verified(r.TLS) {
			http.Error(w, "Misdirected Request: this host requires a client certificate; connect with its name as TLS server name (SNI)", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
