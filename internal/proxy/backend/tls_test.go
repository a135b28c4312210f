package backend

import (
	"encoding/pem"
	"strings"
	"testing"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/testcert"
)

// The proxy loads backend trust roots with the parser the graph validated
// them with (package certs): a bundle the graph would refuse is refused here
// too, rather than trusted in part.
func TestBackendTrustRootsParseLikeTheGraph(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	broken := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	for _, tc := range []struct {
		name, pem, want string
	}{
		{"certificate and key", string(ca.CertPEM) + string(ca.KeyPEM), ""},
		{"a broken certificate", string(ca.CertPEM) + broken, "tls.caCertificatesPEM certificate 2 does not parse: "},
		{"a key only", string(ca.KeyPEM), "tls.caCertificatesPEM holds no PEM CERTIFICATE block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newClientTLS(&ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: tc.pem})
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
