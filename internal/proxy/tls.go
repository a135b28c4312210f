package proxy

import (
	"crypto/tls"
	"fmt"
	"strings"

	"portico.dev/portico/internal/ir"
)

// alpn is what HTTPS sockets offer, preferred first.
var alpn = []string{"h2", "http/1.1"}

// tls12CipherSuites are the only TLS 1.2 suites HTTPS sockets accept:
// ECDHE key exchange (forward secrecy) with an AEAD. Go's defaults still
// include the CBC-SHA1 suites, which leak through padding and timing side
// channels. TLS 1.3 suites are not configurable and all AEAD.
var tls12CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// sniTable picks the TLS config of an HTTPS socket from the ClientHello's
// server name: the VirtualHost is chosen by hostname precedence (as the
// router does with Host), then the certificate by the VirtualHost's SANs.
type sniTable struct {
	exact map[string]*vhostTLS
	wild  map[string]*vhostTLS // by suffix with its dot: ".example.com"
	any   *vhostTLS            // the VirtualHost without hostname
	first *vhostTLS            // fallback for names no VirtualHost accepts
}

// vhostTLS is the TLS side of one VirtualHost.
type vhostTLS struct {
	config *tls.Config
	certs  []*tls.Certificate
	byName map[string]*tls.Certificate // exact SANs, lower case
	byWild map[string]*tls.Certificate // wildcard SANs by suffix: ".example.com"
}

func newSNITable(l *ir.Listener) (*sniTable, error) {
	t := &sniTable{exact: map[string]*vhostTLS{}, wild: map[string]*vhostTLS{}}
	for i := range l.VirtualHosts {
		vh := &l.VirtualHosts[i]
		v, err := newVHostTLS(vh)
		if err != nil {
			return nil, fmt.Errorf("virtual host %q: %w", vh.Name, err)
		}
		if t.first == nil {
			t.first = v
		}
		h := strings.ToLower(strings.TrimSuffix(vh.Hostname, "."))
		switch {
		case h == "":
			if t.any == nil {
				t.any = v
			}
		case strings.HasPrefix(h, "*."):
			if _, ok := t.wild[h[1:]]; !ok {
				t.wild[h[1:]] = v
			}
		default:
			if _, ok := t.exact[h]; !ok {
				t.exact[h] = v
			}
		}
	}
	if t.first == nil {
		return nil, fmt.Errorf("HTTPS listener has no virtual host, so no certificate")
	}
	return t, nil
}

func newVHostTLS(vh *ir.VirtualHost) (*vhostTLS, error) {
	if vh.TLS == nil || len(vh.TLS.Certificates) == 0 {
		return nil, fmt.Errorf("HTTPS listener has no certificate")
	}
	v := &vhostTLS{byName: map[string]*tls.Certificate{}, byWild: map[string]*tls.Certificate{}}
	for _, c := range vh.TLS.Certificates {
		cert, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("certificate %q: %w", c.Name, err)
		}
		v.certs = append(v.certs, &cert)
		for _, n := range cert.Leaf.DNSNames {
			n = strings.ToLower(n)
			if strings.HasPrefix(n, "*.") {
				if _, ok := v.byWild[n[1:]]; !ok {
					v.byWild[n[1:]] = &cert
				}
			} else if _, ok := v.byName[n]; !ok {
				v.byName[n] = &cert
			}
		}
	}
	v.config = &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   tls12CipherSuites,
		NextProtos:     alpn,
		GetCertificate: v.certificate,
	}
	if cv := vh.TLS.ClientValidation; cv != nil {
		cas, err := newClientCAs(cv)
		if err != nil {
			return nil, err
		}
		cas.configure(v.config, cv)
	}
	return v, nil
}

// forName returns the TLS config for a ClientHello server name.
func (t *sniTable) forName(name string) *vhostTLS {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if v, ok := t.exact[name]; ok {
		return v
	}
	for i := 1; i < len(name); i++ { // longest wildcard suffix first
		if name[i] == '.' {
			if v, ok := t.wild[name[i:]]; ok {
				return v
			}
		}
	}
	if t.any != nil {
		return t.any
	}
	return t.first
}

// certificate picks by SAN: exact name, then a wildcard covering exactly
// one label (RFC 6125), else the first certificate.
func (v *vhostTLS) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if c, ok := v.byName[name]; ok {
		return c, nil
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c, ok := v.byWild[name[i:]]; ok {
			return c, nil
		}
	}
	return v.certs[0], nil
}
