package proxy

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/testcert"
)

// tlsSeen is what tlsBackend answers: what the backend saw of the TLS
// connection.
type tlsSeen struct {
	SNI        string `json:"sni"`
	Proto      string `json:"proto"`
	ClientCert string `json:"clientCert"` // leaf CN, "" when none
}

// tlsBackend is an HTTPS backend with cert; clientCAs, when set, makes it
// require a client certificate they sign. conns counts its connections.
func tlsBackend(t *testing.T, cert tls.Certificate, clientCAs *testcert.CA, h2 bool) (*httptest.Server, *atomic.Int64) {
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
		s.TLS.ClientCAs = clientCAs.Pool()
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
	ca := testcert.NewCA(t, "backend CA")
	other := testcert.NewCA(t, "other CA")
	cert := ca.Server(t, "abc.example.com").TLS()
	s, _ := tlsBackend(t, cert, nil, false)
	good := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: string(ca.CertPEM)}
	wrongHost := ir.BackendTLS{ServerName: "mismatch.example.com", CACertificatesPEM: string(ca.CertPEM)}
	wrongCA := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: string(other.CertPEM)}
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
	ca := testcert.NewCA(t, "backend CA")
	cert := ca.Server(t, "abc.example.com", "spiffe://abc.example.com/test-identity").TLS()
	s, _ := tlsBackend(t, cert, nil, false)
	with := func(sans ...ir.SubjectAltName) ir.BackendTLS {
		return ir.BackendTLS{ServerName: "sni.example.com", CACertificatesPEM: string(ca.CertPEM), SubjectAltNames: sans}
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
	ca := testcert.NewCA(t, "backend CA")
	cert := ca.Server(t, "abc.example.com").TLS()
	client := ca.Client(t, "leaf")
	clientCert := ir.Certificate{Name: "ns/client", CertPEM: string(client.CertPEM), KeyPEM: string(client.KeyPEM)}
	s, _ := tlsBackend(t, cert, ca, false)
	with := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: string(ca.CertPEM), ClientCertificate: &clientCert}
	without := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: string(ca.CertPEM)}
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
	ca := testcert.NewCA(t, "backend CA")
	cert := ca.Server(t, "abc.example.com").TLS()
	s, _ := tlsBackend(t, cert, nil, true)
	settings := ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: string(ca.CertPEM)}
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
	ca := testcert.NewCA(t, "backend CA")
	cert := ca.Server(t, "abc.example.com", "other.example.com").TLS()
	s, conns := tlsBackend(t, cert, nil, false)
	name, port := h.port()
	cfg := func(v uint64, serverName string) *ir.Config {
		be := tlsTo("s", s, ir.BackendTLS{ServerName: serverName, CACertificatesPEM: string(ca.CertPEM)})
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

// TLS settings the proxy cannot load make their listener invalid.
func TestBackendTLSBadSettingsRefused(t *testing.T) {
	h := newHarness(t)
	s := echoServer(t, "s")
	name, port := h.port()
	be := to("s", s)
	be.TLS = &ir.BackendTLS{ServerName: "abc.example.com", CACertificatesPEM: "not a certificate"}
	ack := h.p.Apply(&ir.Config{Version: 1, Listeners: []ir.Listener{httpListener(name, port, vhost("", route("r", prefixRule("/", be))))}})
	if !strings.Contains(ack.InvalidListeners[name], "caCertificatesPEM") {
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
