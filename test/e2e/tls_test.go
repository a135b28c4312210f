package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"portico.dev/portico/internal/testcert"
)

// TestHTTPS terminates TLS with certificates from kubernetes.io/tls Secrets:
// two HTTPS listeners share a port, SNI picks the certificate, h2 is
// negotiated by ALPN and HTTP/1.1 still works.
func TestHTTPS(t *testing.T) {
	a, b := startBackend(t, "echo-a"), startBackend(t, "echo-b")
	ca := testcert.NewCA(t, "portico e2e CA")
	certA, certB := ca.Server(t, "a.example.com"), ca.Server(t, "b.example.com")
	port := freePort(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", join(
		gatewayYAML("gw",
			listener{Name: "https-a", Protocol: "HTTPS", Port: port, Hostname: "a.example.com", CertSecrets: []string{"cert-a"}},
			listener{Name: "https-b", Protocol: "HTTPS", Port: port, Hostname: "b.example.com", CertSecrets: []string{"cert-b"}},
		),
		tlsSecretYAML("cert-a", certA.CertPEM, certA.KeyPEM),
		tlsSecretYAML("cert-b", certB.CertPEM, certB.KeyPEM),
	))
	writeFile(t, dir, "backends.yaml", servicesYAML(a, b))
	writeFile(t, dir, "routes.yaml", join(
		routeYAML("a", "gw", []string{"a.example.com"}, "/", nil, to("echo-a")),
		routeYAML("b", "gw", []string{"b.example.com"}, "/", nil, to("echo-b")),
	))
	p := startPortico(t, dir)

	if cfg, err := p.adminGet("/config"); err != nil {
		t.Errorf("admin /config: %v", err)
	} else if bytes.Contains(cfg, []byte("PRIVATE KEY")) {
		t.Error("admin /config shows a private key; keys must be redacted")
	}

	h2 := tlsClient(port, ca.Pool(), true)
	h1 := tlsClient(port, ca.Pool(), false)
	tests := []struct {
		name      string
		client    *http.Client
		host      string
		wantPod   string
		wantProto string
	}{
		{"h2 a", h2, "a.example.com", "echo-a", "HTTP/2.0"},
		{"h2 b", h2, "b.example.com", "echo-b", "HTTP/2.0"},
		{"http/1.1 a", h1, "a.example.com", "echo-a", "HTTP/1.1"},
		{"http/1.1 b", h1, "b.example.com", "echo-b", "HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := "https://" + tt.host + ":" + strconv.Itoa(port) + "/secure"
			var ans answer
			eventually(t, readyTimeout, "an HTTPS answer from "+url, func() error {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				var err error
				if ans, err = do(tt.client, req); err != nil {
					return err
				}
				return expectPod(ans, tt.wantPod)
			})
			if ans.Proto != tt.wantProto {
				t.Errorf("client leg proto %s, want %s", ans.Proto, tt.wantProto)
			}
			if ans.TLS == nil || len(ans.TLS.PeerCertificates) == 0 {
				t.Fatal("no TLS state in the answer")
			}
			if names := ans.TLS.PeerCertificates[0].DNSNames; !slices.Contains(names, tt.host) {
				t.Errorf("SNI %s got a certificate for %v", tt.host, names)
			}
			if ans.Echo.Path != "/secure" {
				t.Errorf("backend saw path %q", ans.Echo.Path)
			}
		})
	}

	t.Run("unknown SNI", func(t *testing.T) {
		// No listener for c.example.com: the handshake fails, or the
		// request is not routed. It must never reach a backend.
		req, _ := http.NewRequest(http.MethodGet, "https://c.example.com:"+strconv.Itoa(port)+"/", nil)
		ans, err := do(h1, req)
		if err == nil && ans.Status == http.StatusOK {
			t.Errorf("c.example.com answered 200 from %q; want a TLS failure or 404", ans.Echo.Pod)
		}
	})
}

// tlsClient dials 127.0.0.1:port whatever the URL host, so URLs can carry
// the hostname used for SNI and Host.
func tlsClient(port int, roots *x509.CertPool, h2 bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	cfg := &tls.Config{RootCAs: roots}
	if !h2 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(port))
			},
			TLSClientConfig:   cfg,
			ForceAttemptHTTP2: h2,
		},
	}
}
