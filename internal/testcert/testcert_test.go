package testcert

import (
	"crypto/x509"
	"testing"
)

func TestChainsVerify(t *testing.T) {
	ca := NewCA(t, "ca")
	server := ca.Server(t, "a.example.com", "spiffe://example.com/a")
	if _, err := server.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "a.example.com"}); err != nil {
		t.Errorf("server certificate: %v", err)
	}
	if len(server.Cert.URIs) != 1 || server.Cert.URIs[0].String() != "spiffe://example.com/a" {
		t.Errorf("server URIs = %v", server.Cert.URIs)
	}
	client := ca.Client(t, "client")
	if _, err := client.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := client.Cert.Verify(x509.VerifyOptions{Roots: NewCA(t, "other").Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("client certificate verifies under another CA")
	}
}
