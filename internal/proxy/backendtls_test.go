package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

// backendCA is a CA that issues the certificates of TLS backends and of the
// proxy's client certificate.
type backendCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newBackendCA(t *testing.T, cn string) *backendCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &backendCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue makes a leaf for the DNS names and URIs given; usage is ServerAuth
// or ClientAuth.
func (ca *backendCA) issue(t *testing.T, usage x509.ExtKeyUsage, names []string, uris ...string) (tls.Certificate, ir.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "leaf"},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	for _, u := range uris {
		pu, _ := url.Parse(u)
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, ir.Certificate{Name: "ns/client", CertPEM: string(certPEM), KeyPEM: string(keyPEM)}
}

// tlsSeen is what tlsBackend answers: what the backend saw of the TLS
// connection.
type tlsSeen struct {
	SNI        string `json:"sni"`
	Proto      string `json:"proto"`
	ClientCert string `json:"clientCert"` // leaf CN, "" when none
}

// tlsBackend is an HTTPS backend with cert; clientCAs, when set, makes it
// require a client certificate they sign. conns counts its connections.
func tlsBackend(t *testing.T, cert tls.Certificate, clientCAs *backendCA, h2 bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen := tlsSeen{SNI: r.TLS.ServerName, Proto: r.Proto}
		if len(r.TLS.PeerCertificates) > 0 {
			seen.ClientCert = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_ = json.NewEncoder(w).Encode(seen)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCAs.cert)
		s.TLS.ClientCAs = pool
		s.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	s.EnableHTTP2 = h2
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s, &conns
}

func tlsTo(name string, s *httptest.Server, settings ir.BackendTLS) ir.Backend {
	b := ir.Backend{Name: "ns/" + name + ":443", Weight: 1, Protocol: ir.BackendHTTP, TLS: &settings}
	b.Endpoints = append(b.Endpoints, endpoint(s.Listener.Addr()))
	return b
}

func getSeen(t *testing.T, url string) (int, tlsSeen) {
	t.Helper()
	resp, body := do(t, client, http.MethodGet, url, "x")
	var seen tlsSeen
	_ = json.Unmarshal([]byte(body), &seen)
	return resp.StatusCode, seen
}

// A backend under a BackendTLSPolicy gets TLS with the policy hostname as
// SNI, verified against the policy's CA for that hostname.
func TestBackendTLSVerifiesHostnameAgainstCA(t *testing.T) {
	h := newHarness(t)
	ca := newBackendCA(t, "backend CA")
	other := newBackendCA(t, "other CA")
	cert, _ := ca.issue(t, x509.ExtKeyUsageServerAuth, []string{"abc.example.com"})
	s, _ := tlsBackend(t, cert, nil, false)
	good := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: ca.pem}
	wrongHost := ir.BackendTLS{ServerName: "mismatch.example.com", CACertificatesPEM: ca.pem}
	wrongCA := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: other.pem}
	url := h.serve(vhost("", route("r",
		prefixRule("/good", tlsTo("good", s, good)),
		prefixRule("/host", tlsTo("host", s, wrongHost)),
		prefixRule("/ca", tlsTo("ca", s, wrongCA)),
	)))
	code, seen := getSeen(t, url+"/good")
	if code != 200 || seen.SNI != "abc.example.com" || seen.Proto != "HTTP/1.1" {
		t.Fatalf("valid policy: %d %+v, want 200 with SNI abc.example.com over HTTP/1.1", code, seen)
	}
	for _, path := range []string{"/host", "/ca"} {
		if code, _ := getSeen(t, url+path); code != http.StatusBadGateway {
			t.Errorf("%s: got %d, want 502 (the backend certificate must not verify)", path, code)
		}
	}
}

// SubjectAltNames replace the hostname for authentication: one match, DNS
// or URI, is enough; the hostname is then only the SNI.
func TestBackendTLSSubjectAltNames(t *testing.T) {
	h := newHarness(t)
	ca := newBackendCA(t, "backend CA")
	cert, _ := ca.issue(t, x509.ExtKeyUsageServerAuth, []string{"abc.example.com"}, "spiffe://abc.example.com/test-identity")
	s, _ := tlsBackend(t, cert, nil, false)
	with := func(sans ...ir.SubjectAltName) ir.BackendTLS {
		return ir.BackendTLS{ServerName: "sni.example.com", CACertificatesPEM: ca.pem, SubjectAltNames: sans}
	}
	cases := []struct {
		name string
		tls  ir.BackendTLS
		want int
	}{
		{"dns", with(ir.SubjectAltName{Hostname: "abc.example.com"}), 200},
		{"dns-mismatch", with(ir.SubjectAltName{Hostname: "dce.example.com"}), 502},
		{"uri", with(ir.SubjectAltName{URI: "spiffe://abc.example.com/test-identity"}), 200},
		{"uri-mismatch", with(ir.SubjectAltName{URI: "spiffe://def.example.com/test-identity"}), 502},
		{"multiple", with(ir.SubjectAltName{URI: "spiffe://def.example.com/x"}, ir.SubjectAltName{Hostname: "abc.example.com"}), 200},
		{"multiple-mismatch", with(ir.SubjectAltName{URI: "spiffe://def.example.com/x"}, ir.SubjectAltName{Hostname: "def.example.com"}), 502},
	}
	var rules []ir.HTTPRule
	for _, c := range cases {
		rules = append(rules, prefixRule("/"+c.name+"/", tlsTo(c.name, s, c.tls)))
	}
	url := h.serve(vhost("", route("r", rules...)))
	for _, c := range cases {
		code, seen := getSeen(t, url+"/"+c.name+"/")
		if code != c.want {
			t.Errorf("%s: got %d, want %d", c.name, code, c.want)
		}
		if code == 200 && seen.SNI != "sni.example.com" {
			t.Errorf("%s: backend saw SNI %q, want the policy hostname", c.name, seen.SNI)
		}
	}
}

// The Gateway's client certificate is presented to backends that require
// one; without it they refuse the handshake.
func TestBackendTLSClientCertificate(t *testing.T) {
	h := newHarness(t)
	ca := newBackendCA(t, "backend CA")
	cert, _ := ca.issue(t, x509.ExtKeyUsageServerAuth, []string{"abc.example.com"})
	_, clientCert := ca.issue(t, x509.ExtKeyUsageClientAuth, nil)
	s, _ := tlsBackend(t, cert, ca, false)
	with := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: ca.pem, ClientCertificate: &clientCert}
	without := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: ca.pem}
	url := h.serve(vhost("", route("r",
		prefixRule("/with", tlsTo("with", s, with)),
		prefixRule("/without", tlsTo("without", s, without)),
	)))
	if code, seen := getSeen(t, url+"/with"); code != 200 || seen.ClientCert != "leaf" {
		t.Fatalf("with a client certificate: %d %+v, want 200 and the certificate seen", code, seen)
	}
	if code, _ := getSeen(t, url+"/without"); code != http.StatusBadGateway {
		t.Fatalf("without a client certificate: got %d, want 502", code)
	}
}

// A backend declared HTTP/2 (h2c) speaks HTTP/2 over TLS under a policy;
// with the same settings, an HTTP/1.1 backend of the same server still
// offers only http/1.1.
func TestBackendTLSHTTP2(t *testing.T) {
	h := newHarness(t)
	ca := newBackendCA(t, "backend CA")
	cert, _ := ca.issue(t, x509.ExtKeyUsageServerAuth, []string{"abc.example.com"})
	s, _ := tlsBackend(t, cert, nil, true)
	settings := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: ca.pem}
	h2 := tlsTo("h2", s, settings)
	h2.Protocol = ir.BackendH2C
	url := h.serve(vhost("", route("r", prefixRule("/h2", h2), prefixRule("/h1", tlsTo("h1", s, settings)))))
	for range 2 {
		if code, seen := getSeen(t, url+"/h2"); code != 200 || seen.Proto != "HTTP/2.0" {
			t.Fatalf("h2c backend: %d %+v, want 200 over HTTP/2.0", code, seen)
		}
		if code, seen := getSeen(t, url+"/h1"); code != 200 || seen.Proto != "HTTP/1.1" {
			t.Fatalf("HTTP/1.1 backend: %d %+v, want 200 over HTTP/1.1", code, seen)
		}
	}
}

// Equal TLS settings keep their pool, and its warm connections, across
// generations; changed settings get a new pool.
func TestBackendTLSPoolsOutliveGenerations(t *testing.T) {
	h := newHarness(t)
	ca := newBackendCA(t, "backend CA")
	cert, _ := ca.issue(t, x509.ExtKeyUsageServerAuth, []string{"abc.example.com", "other.example.com"})
	s, conns := tlsBackend(t, cert, nil, false)
	name, port := h.port()
	cfg := func(v uint64, serverName string) *ir.Config {
		be := tlsTo("s", s, ir.BackendTLS{ServerName: serverName, CACertificatesPEM: ca.pem})
		return &ir.Config{Version: v, Listeners: []ir.Listener{httpListener(name, port,
			vhost("", route("r", prefixRule("/", be), prefixRule("/v"+string(rune('0'+v)), be))))}}
	}
	for v := uint64(1); v <= 3; v++ {
		h.apply(cfg(v, "abc.example.com"))
		if code, _ := getSeen(t, "http://"+name+"/"); code != 200 {
			t.Fatalf("v%d: got %d", v, code)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("backend saw %d connections over 3 generations, want 1", n)
	}
	h.apply(cfg(4, "other.example.com"))
	if code, seen := getSeen(t, "http://"+name+"/"); code != 200 || seen.SNI != "other.example.com" {
		t.Fatalf("after changing the hostname: %d %+v", code, seen)
	}
	if n := h.p.pool.Len(); n != 1 {
		t.Fatalf("pool holds %d transports, want 1 (the old settings' pool is dropped)", n)
	}
}

// TLS settings the proxy cannot load refuse the whole configuration.
func TestBackendTLSBadSettingsRefused(t *testing.T) {
	h := newHarness(t)
	s := echoServer(t, "s")
	name, port := h.port()
	be := to("s", s)
	be.TLS = &ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: "not a certificate"}
	ack := h.p.Apply(&ir.Config{Version: 1, Listeners: []ir.Listener{httpListener(name, port, vhost("", route("r", prefixRule("/", be))))}})
	if !strings.Contains(ack.Error, "caCertificatesPEM") {
		t.Fatalf("Apply: %+v, want an error naming caCertificatesPEM", ack)
	}
}

// The admin view of the configuration never shows a client key.
func TestBackendTLSClientKeyRedacted(t *testing.T) {
	be := ir.Backend{Name: "b", TLS: &ir.BackendTLS{ServerName: "a", ClientCertificate: &ir.Certificate{Name: "c", CertPEM: "cert", KeyPEM: "secret"}}}
	rule := ir.HTTPRule{Backends: []ir.Backend{be}, Filters: ir.HTTPFilters{Mirrors: []ir.Mirror{{Backend: be}}}}
	cfg := ir.Config{Listeners: []ir.Listener{{VirtualHosts: []ir.VirtualHost{{Routes: []ir.HTTPRoute{{Rules: []ir.HTTPRule{rule}}}}}}}}
	b, _ := json.Marshal(cfg.Redacted())
	if strings.Contains(string(b), "secret") {
		t.Fatalf("redacted config shows the key: %s", b)
	}
	if cfg.Listeners[0].VirtualHosts[0].Routes[0].Rules[0].Backends[0].TLS.ClientCertificate.KeyPEM != "secret" {
		t.Fatal("Redacted changed the original")
	}
}
