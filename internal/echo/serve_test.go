package echo

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"portico.dev/portico/internal/testcert"
)

// startServe runs Serve in the background and returns the bound addresses;
// the cleanup cancels it and checks that it returned nil.
func startServe(t *testing.T, opts Options) (plain, secure net.Addr, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type addrs struct{ plain, secure net.Addr }
	ready := make(chan addrs, 1)
	opts.OnListening = func(p, s net.Addr) { ready <- addrs{p, s} }
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, opts) }()
	var a addrs
	select {
	case a = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("Serve did not start listening within 10s")
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10s of cancel")
		}
	}
	t.Cleanup(stop)
	return a.plain, a.secure, stop
}

func decodeEcho(t *testing.T, resp *http.Response) Echo {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e Echo
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("status %d, body is not echo JSON: %v\n%s", resp.StatusCode, err, body)
	}
	return e
}

func TestServeHTTP1AndH2COnOnePort(t *testing.T) {
	opts := testOptions()
	opts.HTTPPort = ""
	opts.Listen = "127.0.0.1:0"
	plain, _, _ := startServe(t, opts)
	url := "http://" + plain.String() + "/hello"

	h1 := &http.Client{Transport: &http.Transport{}}
	resp, err := h1.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	e := decodeEcho(t, resp)
	if e.Proto != "HTTP/1.1" {
		t.Errorf("HTTP/1.1 client: proto = %q", e.Proto)
	}
	if want := strconv.Itoa(plain.(*net.TCPAddr).Port); e.HTTPPort != want {
		t.Errorf("httpPort = %q, want the bound port %s", e.HTTPPort, want)
	}

	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	resp, err = (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatalf("h2c (prior knowledge) request: %v", err)
	}
	if e := decodeEcho(t, resp); e.Proto != "HTTP/2.0" {
		t.Errorf("h2c client: proto = %q, want HTTP/2.0", e.Proto)
	}
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "echo CA")
	cert := ca.Server(t, "echo.example.com")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, cert.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, cert.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Listen, opts.TLSListen = "127.0.0.1:0", "127.0.0.1:0"
	opts.TLSCertFile, opts.TLSKeyFile = certFile, keyFile
	_, secure, _ := startServe(t, opts)

	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.Pool(), ServerName: "echo.example.com"},
		ForceAttemptHTTP2: true,
	}
	resp, err := (&http.Client{Transport: tr}).Get("https://" + secure.String() + "/secure")
	if err != nil {
		t.Fatal(err)
	}
	e := decodeEcho(t, resp)
	if e.TLS == nil {
		t.Fatal("echo over TLS has no tls field")
	}
	if e.TLS.ServerName != "echo.example.com" || e.TLS.NegotiatedProtocol != "h2" || e.Proto != "HTTP/2.0" {
		t.Errorf("tls = %+v, proto %s; want SNI echo.example.com and h2", *e.TLS, e.Proto)
	}
	if e.TLS.Version != "TLSv1.3" || e.TLS.CipherSuite == "" {
		t.Errorf("tls version %q cipher %q", e.TLS.Version, e.TLS.CipherSuite)
	}
}

func TestServeClosesWebSocketsOnShutdown(t *testing.T) {
	opts := testOptions()
	opts.Listen = "127.0.0.1:0"
	plain, _, stop := startServe(t, opts)
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+plain.String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop() // Returns only once Serve has; it must not wait for the socket.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("read after shutdown: %v, want a going-away close", err)
	}
}

func TestServeRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no listen", Options{}},
		{"tls without cert", Options{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0"}},
		{"tls with missing files", Options{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", TLSCertFile: "/nonexistent/c", TLSKeyFile: "/nonexistent/k"}},
		{"bad address", Options{Listen: "127.0.0.1:notaport"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := Serve(ctx, tt.opts); err == nil {
				t.Error("Serve returned nil, want an error")
			}
		})
	}
}
