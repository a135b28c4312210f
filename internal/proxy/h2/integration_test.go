package h2

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"portico.dev/portico/internal/proxy/h1"
	"portico.dev/portico/internal/testcert"
)

// The wiring of the engine: h1.Server hands connections that negotiated h2
// by ALPN, or that start with the cleartext preface, to h2.Server.
func TestServedThroughH1Server(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		name := "cleartext-prior-knowledge"
		if useTLS {
			name = "tls-alpn"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.Proto)
			})
			h2s := NewServer(Config{Handler: handler})
			cfg := h1.Config{Handler: handler, HTTP2: h2s}
			var clientTLS *tls.Config
			if useTLS {
				ca := testcert.NewCA(t, "ca")
				kp := ca.Server(t, "example.com")
				cfg.TLS = &tls.Config{Certificates: []tls.Certificate{kp.TLS()}, NextProtos: []string{"h2", "http/1.1"}}
				clientTLS = &tls.Config{RootCAs: ca.Pool(), ServerName: "example.com"}
			}
			srv := h1.NewServer(cfg)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()

			tr := &http2.Transport{TLSClientConfig: clientTLS}
			url := "https://" + ln.Addr().String() + "/"
			if !useTLS {
				tr.AllowHTTP = true
				tr.DialTLSContext = func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, addr)
				}
				url = "http://" + ln.Addr().String() + "/"
			}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: ioTimeout}
			resp, err := c.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			if b := readAll(t, resp); string(b) != "HTTP/2.0" {
				t.Fatalf("handler saw %q", b)
			}
			// The HTTP/1.1 server's Shutdown shuts the HTTP/2 connections
			// down too.
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			select {
			case err := <-served:
				if err != http.ErrServerClosed {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(ioTimeout):
				t.Fatal("Serve did not return")
			}
		})
	}
}

// CONNECT goes to the handler, which may use the stream as a full-duplex
// tunnel.
func TestConnectTunnel(t *testing.T) {
	t.Parallel()
	type seen struct{ host, uri, method string }
	got := make(chan seen, 1)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.RequestURI, r.Method}
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		buf := make([]byte, 1024)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				w.Write(buf[:n])
				w.(http.Flusher).Flush()
			}
			if err != nil {
				return
			}
		}
	})})
	rc := handshakeRaw(t, ts)
	rc.headers(1, false, hf(":method", "CONNECT", ":authority", "backend.example:443"))
	rc.until("200", func(f http2.Frame) bool { h, ok := f.(*http2.MetaHeadersFrame); return ok && h.StreamID == 1 })
	if s := rc.stream(1); s.status != 200 {
		t.Fatalf("status %d", s.status)
	}
	for _, msg := range []string{"ping", "pong!"} {
		start := rc.stream(1).body.Len()
		rc.data(1, false, []byte(msg))
		for rc.stream(1).body.Len() < start+len(msg) {
			if _, err := rc.next(); err != nil {
				t.Fatalf("echo of %q: %v", msg, err)
			}
		}
	}
	rc.data(1, true, nil)
	s := rc.response(1)
	if !s.ended || s.body.String() != "pingpong!" {
		t.Fatalf("ended %v body %q", s.ended, s.body.String())
	}
	g := recv(t, got)
	if g.method != "CONNECT" || g.host != "backend.example:443" || g.uri != "backend.example:443" {
		t.Errorf("CONNECT request: %+v", g)
	}
}

// A client's larger SETTINGS_MAX_FRAME_SIZE lets the server send larger
// DATA frames, never above it.
func TestClientMaxFrameSize(t *testing.T) {
	t.Parallel()
	payload := pattern(300000, 8)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(payload) })})
	rc := dialRaw(t, ts,
		http2.Setting{ID: http2.SettingMaxFrameSize, Val: 65536},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
	rc.fr.SetMaxReadFrameSize(1 << 20)
	rc.handshake()
	rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(0, 1<<20) })
	rc.get(1, "/")
	s := rc.response(1)
	if s.maxData > 65536 {
		t.Errorf("DATA frame of %d bytes above the client's SETTINGS_MAX_FRAME_SIZE 65536", s.maxData)
	}
	if string(s.body.Bytes()) != string(payload) {
		t.Errorf("body differs")
	}
}
