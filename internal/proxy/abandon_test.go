package proxy

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/testhold"
)

// released waits until hd holds no request: every upstream connection of
// an abandoned request was closed.
func released(t *testing.T, hd *testhold.Server) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for hd.Active() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the backend still holds %d requests: their upstream connections were not closed", hd.Active())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// abandoner sends a request for path on a fresh connection, waits until
// the backend has it, and closes the connection.
type abandoner func(t *testing.T, addr, path string, arrived <-chan struct{})

func waitArrived(t *testing.T, path string, arrived <-chan struct{}) {
	t.Helper()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not reach the backend", path)
	}
}

// dialMaybeTLS connects to addr, over TLS when tc is set.
func dialMaybeTLS(t *testing.T, addr string, tc *tls.Config) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if tc != nil {
		c, err = tls.Dial("tcp", addr, tc)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func abandonHTTP1(tc *tls.Config, head string) abandoner {
	return func(t *testing.T, addr, path string, arrived <-chan struct{}) {
		c := dialMaybeTLS(t, addr, tc)
		defer c.Close()
		if _, err := fmt.Fprintf(c, head, path); err != nil {
			t.Fatal(err)
		}
		waitArrived(t, path, arrived)
	}
}

// abandonHTTP2 opens HTTP/2 (over TLS when tc is set, else with prior
// knowledge) and sends one request, with a body when body is set.
func abandonHTTP2(tc *tls.Config, body bool) abandoner {
	return func(t *testing.T, addr, path string, arrived <-chan struct{}) {
		c := dialMaybeTLS(t, addr, tc)
		defer c.Close()
		var hb bytes.Buffer
		enc := hpack.NewEncoder(&hb)
		scheme := "http"
		if tc != nil {
			scheme = "https"
		}
		for _, f := range [][2]string{{":method", "POST"}, {":scheme", scheme}, {":authority", "a.example.com"}, {":path", path}} {
			if !body && f[0] == ":method" {
				f[1] = "GET"
			}
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		_, _ = io.WriteString(c, http2.ClientPreface)
		fr := http2.NewFramer(c, c)
		_ = fr.WriteSettings()
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: !body, EndHeaders: true})
		if body {
			_ = fr.WriteData(1, true, []byte("abc"))
		}
		go func() {
			for {
				if _, err := fr.ReadFrame(); err != nil {
					return
				}
			}
		}()
		waitArrived(t, path, arrived)
	}
}

// TestAbandonedRequestReleasesUpstream: a client that closes its
// connection while the backend has not answered gets its upstream
// connection closed, on every path of both engines.
func TestAbandonedRequestReleasesUpstream(t *testing.T) {
	hd := testhold.Start(t, "/")
	h := newHarness(t)
	h.p.upTimeout = 0 // only the clients going away may release anything
	roots := x509.NewCertPool()
	cert := selfSigned(t, roots, "a", "a.example.com")
	fast := prefixRule("/fast", to("hold", hd.Server))
	slow := retryRule("/handler", 1, []int{503}, to("hold", hd.Server)) // retries: the handler path
	routes := route("r", fast, slow)
	plainName, plainPort := h.port()
	tlsName, tlsPort := h.port()
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{
		httpListener(plainName, plainPort, vhost("", routes)),
		{Name: tlsName, Address: "127.0.0.1", Port: tlsPort, Protocol: ir.ProtocolHTTPS, VirtualHosts: []ir.VirtualHost{
			tlsVHost("a.example.com", []ir.Certificate{cert}, routes)}},
	}})
	h1TLS := &tls.Config{RootCAs: roots, ServerName: "a.example.com", NextProtos: []string{"http/1.1"}}
	h2TLS := &tls.Config{RootCAs: roots, ServerName: "a.example.com", NextProtos: []string{"h2"}}
	get := "GET %s HTTP/1.1\r\nHost: a.example.com\r\n\r\n"
	chunked := "POST %s HTTP/1.1\r\nHost: a.example.com\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	for _, tc := range []struct {
		name    string
		addr    string
		abandon abandoner
	}{
		{"http1", plainName, abandonHTTP1(nil, get)},
		{"http1 chunked body", plainName, abandonHTTP1(nil, chunked)},
		{"http1 tls", tlsName, abandonHTTP1(h1TLS, get)},
		{"h2c", plainName, abandonHTTP2(nil, false)},
		{"h2c body", plainName, abandonHTTP2(nil, true)},
		{"h2 tls", tlsName, abandonHTTP2(h2TLS, false)},
	} {
		for _, prefix := range []string{"/fast", "/handler"} {
			t.Run(tc.name+" "+prefix, func(t *testing.T) {
				for i := range 10 {
					path := prefix + "/" + strconv.Itoa(i) + "/" + strings.ReplaceAll(tc.name, " ", "-")
					tc.abandon(t, tc.addr, path, hd.Arrival(path))
				}
				released(t, hd)
			})
		}
	}
}

// TestDefaultUpstreamTimeout: a rule without timeouts waits for the
// response head at most the proxy's upstream timeout, then answers 504 and
// closes the upstream connection; a body that takes longer once its head
// arrived is not cut, and rules with timeouts of their own keep them.
func TestDefaultUpstreamTimeout(t *testing.T) {
	hd := testhold.Start(t, "/")
	slowBody := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		time.Sleep(1500 * time.Millisecond)
		_, _ = io.WriteString(w, "late body")
	}))
	defer slowBody.Close()
	h := newHarness(t)
	h.p.upTimeout = 500 * time.Millisecond
	own := prefixRule("/own", to("hold", hd.Server))
	own.Timeouts.Request = ir.Duration(2500 * time.Millisecond)
	url := h.serve(vhost("", route("r",
		prefixRule("/fast", to("hold", hd.Server)),
		retryRule("/handler", 1, []int{503}, to("hold", hd.Server)),
		prefixRule("/body", to("slow", slowBody)),
		own)))
	h2c := h2cClient()
	for _, c := range []struct {
		name   string
		client *http.Client
	}{{"http1", client}, {"h2c", h2c}} {
		for _, path := range []string{"/fast", "/handler"} {
			t.Run(c.name+" "+path, func(t *testing.T) {
				resp, body := do(t, c.client, "GET", url+path+"/"+c.name, "a.example.com")
				if resp.StatusCode != http.StatusGatewayTimeout {
					t.Fatalf("status %d %q, want 504", resp.StatusCode, body)
				}
				released(t, hd)
			})
		}
		t.Run(c.name+" body after head", func(t *testing.T) {
			resp, body := do(t, c.client, "GET", url+"/body", "a.example.com")
			if resp.StatusCode != 200 || body != "late body" {
				t.Fatalf("got %d %q, want 200 \"late body\"", resp.StatusCode, body)
			}
		})
		t.Run(c.name+" rule timeout", func(t *testing.T) {
			start := time.Now()
			resp, _ := do(t, c.client, "GET", url+"/own/"+c.name, "a.example.com")
			if resp.StatusCode != http.StatusGatewayTimeout || time.Since(start) < 2*time.Second {
				t.Fatalf("got %d after %v, want 504 after the rule's 2.5s", resp.StatusCode, time.Since(start))
			}
			released(t, hd)
		})
	}
}

// TestResetStreamReleasesUpstream: an HTTP/2 stream the client resets
// (RST_STREAM) while the backend has not answered gets its upstream
// connection closed, its connection to the client staying open.
func TestResetStreamReleasesUpstream(t *testing.T) {
	hd := testhold.Start(t, "/")
	h := newHarness(t)
	h.p.upTimeout = 0
	url := h.serve(vhost("", route("r",
		prefixRule("/fast", to("hold", hd.Server)),
		retryRule("/handler", 1, []int{503}, to("hold", hd.Server)))))
	c := dialMaybeTLS(t, strings.TrimPrefix(url, "http://"), nil)
	defer c.Close()
	_, _ = io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, c)
	_ = fr.WriteSettings()
	go func() {
		for {
			if _, err := fr.ReadFrame(); err != nil {
				return
			}
		}
	}()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	id := uint32(1)
	for _, prefix := range []string{"/fast", "/handler"} {
		for i := range 5 {
			path := prefix + "/reset/" + strconv.Itoa(i)
			hb.Reset()
			for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "a.example.com"}, {":path", path}} {
				_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
				t.Fatal(err)
			}
			waitArrived(t, path, hd.Arrival(path))
			if err := fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
				t.Fatal(err)
			}
			released(t, hd)
			id += 2
		}
	}
}
