package proxy

import (
	"crypto/tls"
	"fmt"

	"portico.dev/portico/internal/hostname"
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
// router does with Host: exact, longest wildcard, the VirtualHost without
// hostname), then the certificate by the VirtualHost's SANs. A name no
// VirtualHost accepts gets the first VirtualHost.
type sniTable struct {
	hosts hostname.Index[*vhostTLS]
}

// vhostTLS is the TLS side of one VirtualHost.
type vhostTLS struct {
	config *tls.Config
	// certs finds a certificate by SAN: exact, then a wildcard covering
	// one label; the first certificate is the default.
	certs hostname.Index[*tls.Certificate]
}

func newSNITable(l *ir.Listener) (*sniTable, error) {
	var hosts hostname.Builder[*vhostTLS]
	var first *vhostTLS
	for i := range l.VirtualHosts {
		vh := &l.VirtualHosts[i]
		v, err := newVHostTLS(vh)
		if err != nil {
			return nil, fmt.Errorf("virtual host %q: %w", vh.Name, err)
		}
		if first == nil {
			first = v
		}
		hosts.Add(vh.Hostname, v) // the first VirtualHost of a hostname wins
	}
	if first == nil {
		return nil, fmt.Errorf("HTTPS listener has no virtual host, so no certificate")
	}
	// Without a VirtualHost for any host, the first one is the default.
	hosts.AddName(hostname.Name{Kind: hostname.Any}, first)
	return &sniTable{hosts: hosts.Index()}, nil
}

func newVHostTLS(vh *ir.VirtualHost) (*vhostTLS, error) {
	if vh.TLS == nil || len(vh.TLS.Certificates) == 0 {
		return nil, fmt.Errorf("HTTPS listener has no certificate")
	}
	v := &vhostTLS{}
	var certs hostname.Builder[*tls.Certificate]
	for i, c := range vh.TLS.Certificates {
		cert, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("certificate %q: %w", c.Name, err)
		}
		if i == 0 {
			certs.AddName(hostname.Name{Kind: hostname.Any}, &cert)
		}
		for _, n := range cert.Leaf.DNSNames {
			// The first certificate naming a SAN wins. "*" alone names
			// no host and must not replace the default.
			if name := hostname.Parse(n); name.Kind != hostname.Any {
				certs.AddName(name, &cert)
			}
		}
	}
	v.certs = certs.Index()
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
	v, _ := t.hosts.Lookup(hostname.Canonical(name))
	return v
}

// certificate picks by SAN: exact name, then a wildcard covering exactly
// one label (RFC 6125), else the first certificate.
func (v *vhostTLS) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	c, _ := v.certs.LookupSingleLabel(hostname.Canonical(hello.ServerName))
	return c, nil
}
