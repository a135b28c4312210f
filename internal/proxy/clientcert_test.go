package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/testcert"
)

// clientValidation makes the settings that validate client certificates against ca.
func clientValidation(ca *testcert.CA, optional bool) *ir.ClientValidation {
	return &ir.ClientValidation{CACertificates: []ir.CACertificate{{Name: "ConfigMap ns/ca", PEM: string(ca.CertPEM)}}, Optional: optional}
}

// mtlsClient trusts roots, sends sni and presents cert (none when nil). It
// keeps its connections for reuse.
func mtlsClient(roots *x509.CertPool, sni string, cert *tls.Certificate) *http.Client {
	c := tlsClient(roots, sni)
	if cert != nil {
		c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{*cert}
	}
	return c
}

// status sends a GET with Host host and returns the status, or 0 and the
// error when the TLS handshake or the request failed.
func status(c *http.Client, url, host string) (int, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestClientCertificateValidation(t *testing.T) {
	h := newHarness(t)
	roots := x509.NewCertPool()
	serverCert := selfSigned(t, roots, "server", "a.example.com", "b.example.com", "f.example.com")
	trusted, other := testcert.NewCA(t, "trusted"), testcert.NewCA(t, "other")
	good, bad := trusted.Client(t, "good").TLS(), other.Client(t, "bad").TLS()
	r := route("r", prefixRule("/", to("echo", echoServer(t, "echo"))))
	certs := []ir.Certificate{serverCert}
	required := tlsVHost("a.example.com", certs, r)
	required.TLS.ClientValidation = clientValidation(trusted, false)
	fallback := tlsVHost("f.example.com", certs, r)
	fallback.TLS.ClientValidation = clientValidation(trusted, true)
	// b comes first: a handshake without SNI gets its settings.
	name, port := h.port()
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTPS,
		VirtualHosts: []ir.VirtualHost{tlsVHost("b.example.com", certs, r), required, fallback}}}})
	url := "https://" + name + "/"

	for _, tc := range []struct {
		name      string
		sni, host string
		cert      *tls.Certificate
		want      int // 0: the handshake fails
	}{
		{"required, trusted certificate", "a.example.com", "a.example.com", &good, 200},
		{"required, certificate of another CA", "a.example.com", "a.example.com", &bad, 0},
		{"required, no certificate", "a.example.com", "a.example.com", nil, 0},
		{"no validation", "b.example.com", "b.example.com", nil, 200},
		{"no validation, Host of a validating host", "b.example.com", "a.example.com", nil, 421},
		{"no SNI, Host of a validating host", "", "a.example.com", nil, 421},
		{"no SNI, Host of a validating host, certificate sent", "", "a.example.com", &good, 421},
		{"fallback, trusted certificate", "f.example.com", "f.example.com", &good, 200},
		{"fallback, certificate of another CA", "f.example.com", "f.example.com", &bad, 200},
		{"fallback, no certificate", "f.example.com", "f.example.com", nil, 200},
	} {
		c := mtlsClient(roots, tc.sni, tc.cert)
		if tc.sni == "" {
			c.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
		}
		got, err := status(c, url, tc.host)
		if got != tc.want {
			t.Errorf("%s: got %d (%v), want %d", tc.name, got, err, tc.want)
		}
		c.CloseIdleConnections()
	}
}

// A connection set up before validation was turned on must not keep
// reaching the host without a certificate.
func TestClientCertificateValidationAfterReload(t *testing.T) {
	h := newHarness(t)
	roots := x509.NewCertPool()
	serverCert := selfSigned(t, roots, "server", "a.example.com")
	ca := testcert.NewCA(t, "ca")
	r := route("r", prefixRule("/", to("echo", echoServer(t, "echo"))))
	name, port := h.port()
	listener := func(cv *ir.ClientValidation) ir.Listener {
		vh := tlsVHost("a.example.com", []ir.Certificate{serverCert}, r)
		vh.TLS.ClientValidation = cv
		return ir.Listener{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTPS, VirtualHosts: []ir.VirtualHost{vh}}
	}
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{listener(nil)}})
	c := mtlsClient(roots, "a.example.com", nil)
	defer c.CloseIdleConnections()
	url := "https://" + name + "/"
	if got, err := status(c, url, "a.example.com"); got != 200 {
		t.Fatalf("before: got %d (%v)", got, err)
	}
	h.apply(&ir.Config{Version: 2, Listeners: []ir.Listener{listener(clientValidation(ca, false))}})
	if got, err := status(c, url, "a.example.com"); got != 421 {
		t.Fatalf("same connection after validation was turned on: got %d (%v), want 421", got, err)
	}
	c.CloseIdleConnections()
	if got, _ := status(c, url, "a.example.com"); got != 0 {
		t.Fatalf("new connection without a certificate: got %d, want a failed handshake", got)
	}
	cert := ca.Client(t, "client").TLS()
	if got, err := status(mtlsClient(roots, "a.example.com", &cert), url, "a.example.com"); got != 200 {
		t.Fatalf("new connection with a certificate: got %d (%v)", got, err)
	}
}

func TestClientCertificateValidationRefusesBadCA(t *testing.T) {
	h := newHarness(t)
	roots := x509.NewCertPool()
	vh := tlsVHost("a.example.com", []ir.Certificate{selfSigned(t, roots, "server", "a.example.com")})
	vh.TLS.ClientValidation = &ir.ClientValidation{CACertificates: []ir.CACertificate{{Name: "ConfigMap ns/bad", PEM: "not a certificate"}}}
	name, port := h.port()
	ack := h.p.Apply(&ir.Config{Version: 1, Listeners: []ir.Listener{{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTPS, VirtualHosts: []ir.VirtualHost{vh}}}})
	if !contains(ack.InvalidListeners[name], "ConfigMap ns/bad") {
		t.Fatalf("got %+v, want an error naming the CA", ack)
	}
}
