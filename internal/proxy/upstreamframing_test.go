package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

// serveConns accepts connections on a loopback port until the test ends
// and hands each to handle in a goroutine of its own.
func serveConns(t *testing.T, handle func(c net.Conn)) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return ln.Addr()
}

// rawBackend answers every request it reads with the bytes answer gives
// for the request line, then closes the connection if close says so.
func rawBackend(t *testing.T, answer func(line string) (resp string, close bool)) net.Addr {
	t.Helper()
	return serveConns(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			for { // skip the rest of the head (no bodies here)
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == "\r\n" {
					break
				}
			}
			resp, closeAfter := answer(strings.TrimSpace(line))
			if _, err := io.WriteString(c, resp); err != nil || closeAfter {
				return
			}
		}
	})
}

// TestUpstreamResponseFraming checks what the client gets for answers a
// backend frames well or badly: bad framing is 502 (never a body cut at a
// guessed place), chunked bodies and trailers pass, a body delimited by
// the close is re-framed, hop-by-hop fields are dropped.
func TestUpstreamResponseFraming(t *testing.T) {
	answers := map[string]string{
		"/two-lengths":  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		"/bad-te":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
		"/bare-lf":      "HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\nContent-Length: 0\r\n\r\n",
		"/switching":    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
		"/chunked":      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n",
		"/close":        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
		"/hop":          "HTTP/1.1 200 OK\r\nConnection: X-Hop, keep-alive\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Stay: 1\r\nContent-Length: 2\r\n\r\nok",
		"/bad-chunk":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
		"/short":        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
		"/status-line":  "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
		"/no-reason":    "HTTP/1.1 204\r\n\r\n",
		"/http10-close": "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	}
	addr := rawBackend(t, func(line string) (string, bool) {
		f := strings.Fields(line)
		a := answers[f[1]]
		return a, f[1] == "/close" || f[1] == "/short" || f[1] == "/http10-close" || strings.HasPrefix(f[1], "/bad")
	})
	h := newHarness(t)
	be := ir.Backend{Name: "ns/raw:80", Weight: 1, Protocol: ir.BackendHTTP, Endpoints: []ir.Endpoint{endpoint(addr)}}
	base := h.serve(vhost("", route("all", prefixRule("/", be))))
	proxyAddr := strings.TrimPrefix(base, "http://")

	cases := []struct {
		path    string
		code    int
		netCode int // net/http's, where it differs
		body    string
		check   func(t *testing.T, hdr, trailer map[string][]string)
		closed  bool
	}{
		{path: "/two-lengths", code: 502},
		{path: "/bad-te", code: 502},
		{path: "/bare-lf", code: 502, netCode: 200}, // net/http's reader takes bare LF
		{path: "/switching", code: 502},
		{path: "/status-line", code: 502},
		{path: "/chunked", code: 200, body: "hello world", check: func(t *testing.T, hdr, trailer map[string][]string) {
			if got := trailer["X-Sum"]; len(got) != 1 || got[0] != "42" {
				t.Errorf("trailer X-Sum %q, want 42", got)
			}
		}},
		{path: "/close", code: 200, body: "until close"},
		{path: "/hop", code: 200, body: "ok", check: func(t *testing.T, hdr, _ map[string][]string) {
			if _, ok := hdr["X-Hop"]; ok {
				t.Error("X-Hop, listed in Connection, reached the client")
			}
			if _, ok := hdr["Keep-Alive"]; ok {
				t.Error("Keep-Alive reached the client")
			}
			if hdr["X-Stay"] == nil {
				t.Error("X-Stay was dropped")
			}
		}},
		{path: "/no-reason", code: 204},
		{path: "/http10-close", code: 200, body: "ok"},
	}
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			// Two requests on one connection: the second shows the first
			// left the connection in a good state (or was cut).
			raw := "GET " + c.path + " HTTP/1.1\r\nHost: x\r\n\r\n"
			codes, _, resps := exchange(t, proxyAddr, raw, []string{"GET"}, 3*time.Second)
			want := c.code
			if c.netCode != 0 && engineName() == "nethttp" {
				want = c.netCode
			}
			if len(codes) == 0 || codes[0] != want {
				t.Fatalf("statuses %v, want %d first", codes, want)
			}
			if want != c.code {
				return
			}
			r := resps[0]
			b, _ := io.ReadAll(r.Body)
			if c.body != "" && string(b) != c.body {
				t.Errorf("body %q, want %q", b, c.body)
			}
			if c.check != nil {
				c.check(t, r.Header, r.Trailer)
			}
		})
	}
	// A body cut short by the upstream: the client sees an incomplete
	// answer (its connection is closed), never a complete one.
	t.Run("short", func(t *testing.T) {
		c, err := net.Dial("tcp", proxyAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		all, _ := io.ReadAll(c)
		// h1 streams the head and what came; net/http sends nothing.
		if engineName() == "h1" && !strings.Contains(string(all), "hello") || strings.Contains(string(all), "Content-Length: 5\r\n") {
			t.Errorf("answer %q", all)
		}
		if strings.Contains(string(all), "0\r\n\r\n") && strings.Contains(string(all), "chunked") {
			t.Errorf("a cut body was ended cleanly: %q", all)
		}
	})
}

// TestSlowHeaders: a client that sends its head too slowly is answered
// 408 and disconnected (h1); an idle keep-alive connection is closed.
func TestSlowHeaders(t *testing.T) {
	if engineName() != "h1" {
		t.Skip("net/http's timeouts are fixed at 30 s")
	}
	h := &harness{t: t, lns: map[string]net.Listener{}}
	h.p = New(Options{Logger: testLogger(t), DrainTimeout: time.Second, Listen: h.listen,
		Engine: H1{ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 500 * time.Millisecond}})
	t.Cleanup(func() { _ = h.p.Shutdown(t.Context()) })
	base := h.serve(vhost("", route("all", prefixRule("/", to("e", echoServer(t, "e"))))))
	addr := strings.TrimPrefix(base, "http://")

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
	time.Sleep(100 * time.Millisecond)
	io.WriteString(c, "X-Slow: 1\r\n") // still trickling, never ends
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	all, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(all), "HTTP/1.1 408 ") {
		t.Errorf("answer %q, want 408", all)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("closed after %v", d)
	}

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	start = time.Now()
	_ = idle.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _ := idle.Read(make([]byte, 1))
	if n != 0 || time.Since(start) > 2*time.Second {
		t.Errorf("idle connection: read %d bytes, open for %v", n, time.Since(start))
	}

	// Idle after a request (the wait for the next one is a readiness
	// wait, see package readiness): closed after IdleTimeout too.
	used, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer used.Close()
	io.WriteString(used, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = used.SetReadDeadline(time.Now().Add(3 * time.Second))
	br := bufio.NewReader(used)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start = time.Now()
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle after a request: %v, want EOF", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("idle after a request: closed after %v, want about 500ms", d)
	}
}
