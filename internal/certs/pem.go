package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// ErrNoCertificate is the error of a bundle that holds no CERTIFICATE block.
var ErrNoCertificate = errors.New("holds no PEM CERTIFICATE block")

// Certificates returns the certificates of the CERTIFICATE blocks of a PEM
// bundle, in order. Other block types and text between blocks are skipped.
// It fails when a CERTIFICATE block does not parse (naming it by its
// position, from 1) or when there is none (ErrNoCertificate).
func Certificates(bundle []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := bundle; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, ErrNoCertificate
	}
	return out, nil
}

// Encode returns certs as PEM CERTIFICATE blocks, nothing else: what a
// bundle that Certificates accepted holds once comments and other blocks
// are dropped.
func Encode(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// Pool returns a pool of the certificates of a PEM bundle (see
// Certificates for what fails).
func Pool(bundle []byte) (*x509.CertPool, error) {
	certs, err := Certificates(bundle)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// KeyPair parses a PEM certificate chain and its private key, checking that
// they match.
func KeyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	return tls.X509KeyPair(certPEM, keyPEM)
}

// Leaf returns the first certificate of a PEM chain: the one served.
func Leaf(chainPEM []byte) (*x509.Certificate, error) {
	for rest := chainPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, ErrNoCertificate
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// Validity is where a time falls in a certificate's validity period.
type Validity int

const (
	// Valid: from notBefore to notAfter, both included.
	Valid Validity = iota
	// Expired: after notAfter.
	Expired
	// NotYetValid: before notBefore.
	NotYetValid
)

// ValidityAt tells whether c is valid at now.
func ValidityAt(c *x509.Certificate, now time.Time) Validity {
	switch {
	case now.After(c.NotAfter):
		return Expired
	case now.Before(c.NotBefore):
		return NotYetValid
	}
	return Valid
}

// Changes returns the two times at which ValidityAt(c, ·) changes: notBefore,
// and the second after notAfter (notAfter is inclusive).
func Changes(c *x509.Certificate) (validFrom, expiresAt time.Time) {
	return c.NotBefore, c.NotAfter.Add(time.Second)
}
