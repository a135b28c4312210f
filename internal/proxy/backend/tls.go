package backend

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"portico.dev/portico/internal/certs"
	"portico.dev/portico/internal/ir"
)

// Backend TLS (BackendTLSPolicy): the proxy is a TLS client of the
// endpoints. It sends ServerName as SNI and verifies the certificate
// against the policy's CA bundle (or the system roots): for ServerName, or,
// when SubjectAltNames are given, for at least one of them instead. ALPN
// offers http/1.1, or h2 for backends declared HTTP/2 (appProtocol
// kubernetes.io/h2c, which under a policy means HTTP/2 over TLS). The
// Gateway's client certificate, if any, is presented whenever the backend
// asks for one.

// sessionCacheSize bounds the TLS sessions kept per pool (one endpoint and
// its settings) for resumption.
const sessionCacheSize = 64

// clientTLS returns the fingerprint and client configuration of t, nil and
// "" for cleartext. Configurations are built once per generation and
// fingerprint (each transport then takes its own copy); the fingerprint keys
// the pools, so equal settings keep their warm connections across
// generations.
func (b *Builder) clientTLS(t *ir.BackendTLS) (string, *tls.Config, error) {
	if t == nil {
		return "", nil, nil
	}
	fp := tlsFingerprint(t)
	if tc, ok := b.tls[fp]; ok {
		return fp, tc, nil
	}
	tc, err := newClientTLS(t)
	if err != nil {
		return "", nil, err
	}
	b.tls[fp] = tc
	return fp, tc, nil
}

func tlsFingerprint(t *ir.BackendTLS) string {
	b, _ := json.Marshal(t)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// newClientTLS builds the client configuration of t.
func newClientTLS(t *ir.BackendTLS) (*tls.Config, error) {
	if t.ServerName == "" {
		return nil, errors.New("tls.serverName is required")
	}
	tc := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	switch {
	case t.CACertificatesPEM != "":
		pool, err := certs.Pool([]byte(t.CACertificatesPEM))
		if err != nil {
			return nil, fmt.Errorf("tls.caCertificatesPEM %v", err)
		}
		tc.RootCAs = pool
	case !t.SystemRoots:
		return nil, errors.New("tls has no trust anchors: set caCertificatesPEM or systemRoots")
	}
	// nil RootCAs is the system pool.
	if c := t.ClientCertificate; c != nil {
		cert, err := certs.KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("tls.clientCertificate %s: %v", c.Name, err)
		}
		// Presented whenever asked for, whatever CAs the backend lists: the
		// backend decides whether it is acceptable.
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	if len(t.SubjectAltNames) > 0 {
		for i, san := range t.SubjectAltNames {
			if (san.Hostname == "") == (san.URI == "") {
				return nil, fmt.Errorf("tls.subjectAltNames[%d]: exactly one of hostname and uri must be set", i)
			}
		}
		// The chain is verified below, against the names given instead of
		// ServerName (which is then only the SNI).
		roots, sans := tc.RootCAs, t.SubjectAltNames
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error { return verifySANs(cs, roots, sans) }
	}
	return tc, nil
}

// verifySANs verifies the backend's chain against roots (nil: the system
// pool) and requires one of sans in its leaf certificate.
func verifySANs(cs tls.ConnectionState, roots *x509.CertPool, sans []ir.SubjectAltName) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("backend presented no certificate")
	}
	leaf := cs.PeerCertificates[0]
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("backend certificate: %w", err)
	}
	for _, san := range sans {
		if matchesSAN(leaf, san) {
			return nil
		}
	}
	var want []string
	for _, san := range sans {
		want = append(want, san.Hostname+san.URI)
	}
	return fmt.Errorf("backend certificate matches none of the subjectAltNames %s", strings.Join(want, ", "))
}

func matchesSAN(leaf *x509.Certificate, san ir.SubjectAltName) bool {
	switch {
	case san.URI != "":
		for _, u := range leaf.URIs {
			if u.String() == san.URI {
				return true
			}
		}
	case strings.HasPrefix(san.Hostname, "*."):
		// A wildcard name matches the same wildcard in the certificate.
		for _, n := range leaf.DNSNames {
			if strings.EqualFold(n, san.Hostname) {
				return true
			}
		}
	default:
		return leaf.VerifyHostname(san.Hostname) == nil
	}
	return false
}
