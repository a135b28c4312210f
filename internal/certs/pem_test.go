package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/testcert"
)

func TestCertificatesKeepsOnlyCertificateBlocks(t *testing.T) {
	a, b := testcert.NewCA(t, "a"), testcert.NewCA(t, "b")
	var bundle []byte
	bundle = append(bundle, "# a comment\n"...)
	bundle = append(bundle, a.CertPEM...)
	bundle = append(bundle, a.KeyPEM...) // not a certificate: skipped
	bundle = append(bundle, b.CertPEM...)
	got, err := Certificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Subject.CommonName != "a" || got[1].Subject.CommonName != "b" {
		t.Fatalf("got %d certificates %v, want a then b", len(got), got)
	}
	if want := append(append([]byte{}, a.CertPEM...), b.CertPEM...); !bytes.Equal(Encode(got), want) {
		t.Fatalf("Encode = %q, want the two certificates only: %q", Encode(got), want)
	}
	if _, err := Pool(bundle); err != nil {
		t.Fatal(err)
	}
}

func TestCertificatesFailures(t *testing.T) {
	a := testcert.NewCA(t, "a")
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"empty":         {nil, "holds no PEM CERTIFICATE block"},
		"key only":      {a.KeyPEM, "holds no PEM CERTIFICATE block"},
		"not PEM":       {[]byte("hello"), "holds no PEM CERTIFICATE block"},
		"second is bad": {append(append([]byte{}, a.CertPEM...), bad...), "certificate 2 does not parse: "},
		"first is bad":  {append(append([]byte{}, bad...), a.CertPEM...), "certificate 1 does not parse: "},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Certificates(tc.in)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, perr := Pool(tc.in); perr == nil || perr.Error() != err.Error() {
				t.Fatalf("Pool err = %v, want %v", perr, err)
			}
		})
	}
	if _, err := Certificates(nil); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("err = %v, want ErrNoCertificate", err)
	}
}

func TestLeafIsTheFirstCertificate(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	srv := ca.Server(t, "example.com")
	chain := append(append(append([]byte{}, srv.KeyPEM...), srv.CertPEM...), ca.CertPEM...)
	leaf, err := Leaf(chain)
	if err != nil || !leaf.Equal(srv.Cert) {
		t.Fatalf("Leaf = %v, %v; want the server certificate", leaf, err)
	}
	if _, err := Leaf(srv.KeyPEM); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("Leaf of a key = %v, want ErrNoCertificate", err)
	}
}

func TestKeyPairMustMatch(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	srv, other := ca.Server(t, "a.example"), ca.Server(t, "b.example")
	if _, err := KeyPair(srv.CertPEM, srv.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if _, err := KeyPair(srv.CertPEM, other.KeyPEM); err == nil {
		t.Fatal("a certificate with another certificate's key was accepted")
	}
}

func TestValidityBoundsAreInclusive(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.Add(24 * time.Hour)
	c := &x509.Certificate{NotBefore: from, NotAfter: until}
	for _, tc := range []struct {
		at   time.Time
		want Validity
	}{
		{from.Add(-time.Nanosecond), NotYetValid},
		{from, Valid},
		{until, Valid},
		{until.Add(time.Nanosecond), Expired},
	} {
		if got := ValidityAt(c, tc.at); got != tc.want {
			t.Errorf("ValidityAt(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if f, u := Changes(c); !f.Equal(from) || !u.Equal(until.Add(time.Second)) {
		t.Fatalf("Changes = %v, %v; want %v and one second after %v", f, u, from, until)
	}
}
