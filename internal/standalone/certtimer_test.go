package standalone

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

func tlsSecret(t *testing.T, name string, notBefore, notAfter time.Time) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "a.example"}, DNSNames: []string{"a.example"},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	b64 := func(typ string, b []byte) string {
		return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}))
	}
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: %s\n  tls.key: %s\n",
		name, b64("CERTIFICATE", der), b64("PRIVATE KEY", kd))
}

// A certificate that expires while the gateway runs is reported when it
// expires, without any file change.
func TestCertificateExpiryWhileRunningIsLoggedAndInStatus(t *testing.T) {
	dir := t.TempDir()
	notAfter := time.Now().Add(3 * time.Second).Truncate(time.Second)
	writeYAML(t, dir, "gw.yaml", gwHTTPS+"---\n"+tlsSecret(t, "cert", time.Now().Add(-time.Hour), notAfter))
	r, log := newTestRunner(t, dir)
	start(t, r)
	if out := log.take(); strings.Contains(out, "expired") || !strings.Contains(out, "configuration version 1 applied") {
		t.Fatalf("the certificate is valid at start:\n%s", out)
	}
	want := "Gateway default/gw: spec.listeners[https].tls.certificateRefs[0]: Secret default/cert: the certificate expired at " +
		notAfter.UTC().Format(time.RFC3339)
	deadline := time.Now().Add(30 * time.Second)
	var out string
	for !strings.Contains(out, want) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q:\n%s", want, out)
		}
		time.Sleep(100 * time.Millisecond)
		out += log.take()
	}
	found := false
	for _, c := range conditionStates(r.Status()) {
		if c.where == "Gateway default/gw listener https" && c.cond.Type == "ResolvedRefs" {
			found = c.cond.Status == "True" && strings.Contains(c.cond.Message, "expired at")
		}
	}
	if !found {
		t.Errorf("the listener's ResolvedRefs message does not say the certificate expired: %+v", r.Status())
	}
}
