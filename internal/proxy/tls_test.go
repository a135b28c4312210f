package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/testcert"
)

// selfSigned makes a certificate for names, signed by a CA of its own that is
// added to pool so clients trust it.
func selfSigned(t *testing.T, pool *x509.CertPool, name string, names ...string) ir.Certificate {
	t.Helper()
	ca := testcert.NewCA(t, name+" CA")
	pool.AddCert(ca.Cert)
	leaf := ca.Server(t, names...)
	return ir.Certificate{Name: "ns/" + name, CertPEM: string(leaf.CertPEM), KeyPEM: string(leaf.KeyPEM)}
}

func tlsVHost(hostname string, certs []ir.Certificate, routes ...ir.HTTPRoute) ir.VirtualHost {
	vh := vhost(hostname, routes...)
	vh.TLS = &ir.TLS{Certificates: certs}
	return vh
}

// tlsClient trusts pool, sends sni and speaks h2 when it can.
func tlsClient(pool *x509.CertPool, sni string) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: sni},
		ForceAttemptHTTP2: true,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestHTTPSChoosesCertificateBySNI(t *testing.T) {
	h := newHarness(t)
	roots := x509.NewCertPool()
	certA := selfSigned(t, roots, "a", "a.example.com")
	certB := selfSigned(t, roots, "b", "*.b.example.com")
	certOther := selfSigned(t, roots, "other", "other.example.com")
	be := to("echo", echoServer(t, "echo"))
	r := route("r", prefixRule("/", be))
	name, port := h.port()
	l := ir.Listener{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTPS, VirtualHosts: []ir.VirtualHost{
		tlsVHost("a.example.com", []ir.Certificate{certA}, r),
		tlsVHost("*.b.example.com", []ir.Certificate{certB}, r),
		tlsVHost("", []ir.Certificate{certA, certOther}, r),
	}}
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{l}})

	for _, tc := range []struct {
		sni, host string
		wantCert  string
		wantCode  int
	}{
		{"a.example.com", "a.example.com", "a.example.com", 200},
		{"x.b.example.com", "x.b.example.com", "*.b.example.com", 200},
		{"y.x.b.example.com", "y.x.b.example.com", "*.b.example.com", 200}, // wildcard listener: one or more labels
		// The catch-all virtual host picks among its certificates by SAN.
		{"other.example.com", "other.example.com", "other.example.com", 200},
		// Host selects another virtual host than SNI did: misdirected.
		{"a.example.com", "x.b.example.com", "a.example.com", http.StatusMisdirectedRequest},
	} {
		c := tlsClient(roots, tc.sni)
		if tc.wantCert == "*.b.example.com" && tc.sni == "y.x.b.example.com" {
			// The certificate does not cover two labels; check the pick, not the name.
			c.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
		}
		resp, _ := do(t, c, "GET", "https://"+name+"/", tc.host)
		if resp.StatusCode != tc.wantCode {
			t.Errorf("SNI %s Host %s: got %d, want %d", tc.sni, tc.host, resp.StatusCode, tc.wantCode)
		}
		if got := resp.TLS.PeerCertificates[0].DNSNames[0]; got != tc.wantCert {
			t.Errorf("SNI %s: got certificate %s, want %s", tc.sni, got, tc.wantCert)
		}
		if resp.Proto != "HTTP/2.0" || resp.TLS.NegotiatedProtocol != "h2" {
			t.Errorf("SNI %s: got %s (ALPN %q), want HTTP/2.0 over h2", tc.sni, resp.Proto, resp.TLS.NegotiatedProtocol)
		}
	}
}

func TestHTTPSServesHTTP1AndForwardedProto(t *testing.T) {
	h := newHarness(t)
	roots := x509.NewCertPool()
	cert := selfSigned(t, roots, "a", "a.example.com")
	name, port := h.port()
	l := ir.Listener{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTPS, VirtualHosts: []ir.VirtualHost{
		tlsVHost("a.example.com", []ir.Certificate{cert}, route("r", prefixRule("/", to("echo", echoServer(t, "echo"))))),
	}}
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{l}})

	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "a.example.com", NextProtos: []string{"http/1.1"}}}}
	resp, body := do(t, c, "GET", "https://"+name+"/", "a.example.com")
	if resp.StatusCode != 200 || resp.Proto != "HTTP/1.1" {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Proto)
	}
	if want := `"X-Forwarded-Proto":["https"]`; !contains(body, want) {
		t.Errorf("backend saw %s, want %s", body, want)
	}
}

func TestHTTPSWithoutSNIGetsDefaultCertificate(t *testing.T) {
	h := newHarness(t)
	roots := x509.NewCertPool()
	cert := selfSigned(t, roots, "a", "a.example.com")
	name, port := h.port()
	l := ir.Listener{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTPS, VirtualHosts: []ir.VirtualHost{
		tlsVHost("a.example.com", []ir.Certificate{cert}, route("r", prefixRule("/", to("echo", echoServer(t, "echo"))))),
	}}
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{l}})
	conn, err := tls.Dial("tcp", name, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates[0].DNSNames[0]; got != "a.example.com" {
		t.Fatalf("got %s", got)
	}
}

func TestHTTPSRefusesBadCertificate(t *testing.T) {
	h := newHarness(t)
	name, port := h.port()
	bad := ir.Certificate{Name: "ns/bad", CertPEM: "not a cert", KeyPEM: "nor a key"}
	l := ir.Listener{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTPS, VirtualHosts: []ir.VirtualHost{tlsVHost("", []ir.Certificate{bad})}}
	ack := h.p.Apply(&ir.Config{Version: 1, Listeners: []ir.Listener{l}})
	if ack.Error != "" || !contains(ack.InvalidListeners[name], `certificate "ns/bad"`) {
		t.Fatalf("got %+v, want the listener invalid, naming the certificate", ack)
	}
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	if len(h.p.sockets) != 0 {
		t.Fatal("the invalid listener's socket was opened")
	}
}

func newRoots() *x509.CertPool { return x509.NewCertPool() }
