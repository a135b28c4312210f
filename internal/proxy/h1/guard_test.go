package h1

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"portico.dev/portico/internal/testcert"
)

// guardPair returns the client end of a loopback connection and a Guard
// on the server end.
func guardPair(t *testing.T) (client net.Conn, g *Guard) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	g = NewGuard(server)
	_ = g.SetDeadline(time.Now().Add(5 * time.Second)) // as net/http sets one
	return client, g
}

// TestGuardPassesValidRequests: well-framed pipelined requests reach the
// reader byte for byte, leading empty lines dropped.
func TestGuardPassesValidRequests(t *testing.T) {
	client, g := guardPair(t)
	reqs := "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
		"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n" +
		"GET /d HTTP/1.1\r\nHost: a\r\n\r\n"
	go func() { _, _ = io.WriteString(client, "\r\n"+reqs); client.(*net.TCPConn).CloseWrite() }()
	got, err := io.ReadAll(g)
	if err != nil || string(got) != reqs {
		t.Fatalf("read %q, %v; want %q", got, err, reqs)
	}
}

// TestGuardRefuses: an ambiguous head is answered as the h1 server
// answers it and never reaches the reader, nor does what follows it.
func TestGuardRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		raw    string
		status int
	}{
		"CL and TE":  {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", 400},
		"bare LF":    {"GET /a HTTP/1.1\nHost: a\r\n\r\n", 400},
		"obs-fold":   {"GET /a HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400},
		"two CLs":    {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400},
		"coding":     {"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		"head 100 K": {"GET /a HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 100<<10) + "\r\n\r\n", 431},
	} {
		t.Run(name, func(t *testing.T) {
			client, g := guardPair(t)
			go func() { _, _ = io.WriteString(client, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n"+tc.raw) }()
			got, _ := io.ReadAll(g)
			if want := "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n"; string(got) != want {
				t.Errorf("the reader got %q, want only %q", got, want)
			}
			resp, err := http.ReadResponse(bufio.NewReader(client), nil)
			if err != nil || resp.StatusCode != tc.status || !resp.Close {
				t.Fatalf("answer %v, %v; want %d with Connection: close", resp, err, tc.status)
			}
		})
	}
}

// TestGuardMalformedChunk: a malformed chunked body is a read error under
// the body, then the end.
func TestGuardMalformedChunk(t *testing.T) {
	client, g := guardPair(t)
	head := "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	go func() { _, _ = io.WriteString(client, head+"zz\r\nabc\r\n0\r\n\r\n") }()
	buf := make([]byte, len(head))
	if _, err := io.ReadFull(g, buf); err != nil || string(buf) != head {
		t.Fatalf("head %q, %v", buf, err)
	}
	if n, err := g.Read(buf); n != 0 || err != errChunk {
		t.Fatalf("body read %d, %v; want the chunk error", n, err)
	}
	if _, err := g.Read(buf); err != io.EOF {
		t.Fatalf("then %v, want EOF", err)
	}
}

// TestGuardUpgrade: after a 101 the bytes pass unchecked; after a refused
// upgrade the next request is checked.
func TestGuardUpgrade(t *testing.T) {
	up := "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	for _, accept := range []bool{true, false} {
		client, g := guardPair(t)
		next := "\x81\x05hello\r\n\r\n" // WebSocket bytes, or a bad head
		go func() { _, _ = io.WriteString(client, up+next) }()
		buf := make([]byte, len(up))
		if _, err := io.ReadFull(g, buf); err != nil {
			t.Fatal(err)
		}
		status := "HTTP/1.1 101 Switching Protocols\r\n\r\n"
		if !accept {
			status = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		}
		if _, err := io.WriteString(g, status); err != nil {
			t.Fatal(err)
		}
		rest := make([]byte, 64)
		n, err := g.Read(rest)
		if accept && (err != nil || string(rest[:n]) != next) {
			t.Errorf("after 101: read %q, %v; want %q", rest[:n], err, next)
		}
		if !accept && (n != 0 || err != io.EOF) {
			t.Errorf("after a refused upgrade: read %q, %v; want the garbage refused", rest[:n], err)
		}
	}
}

// TestGuardALPNH2Preface: over TLS with ALPN h2, the preface passes and
// what follows it is not checked as HTTP/1.1; anything else ends the
// connection without an answer (RFC 9113 3.4), where an HTTP/1.1 400
// would be a protocol the client did not choose.
func TestGuardALPNH2Preface(t *testing.T) {
	ca := testcert.NewCA(t, "guard-ca")
	cert := ca.Server(t, "guard.example")
	for name, tc := range map[string]struct {
		send string
		pass bool
	}{
		"preface":         {send: http2.ClientPreface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00", pass: true},
		"invalid preface": {send: "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"},
		"HTTP/1.1 on h2":  {send: "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
	} {
		t.Run(name, func(t *testing.T) {
			raw, server := net.Pipe()
			t.Cleanup(func() { raw.Close(); server.Close() })
			client := tls.Client(raw, &tls.Config{RootCAs: ca.Pool(), ServerName: "guard.example", NextProtos: []string{"h2"}})
			g := NewGuard(tls.Server(server, &tls.Config{Certificates: []tls.Certificate{cert.TLS()}, NextProtos: []string{"h2", "http/1.1"}}))
			_ = g.SetDeadline(time.Now().Add(5 * time.Second))
			go func() {
				if client.Handshake() == nil {
					_, _ = io.WriteString(client, tc.send)
				}
			}()
			got := make([]byte, len(tc.send))
			n, err := io.ReadFull(g, got)
			if tc.pass {
				if err != nil || string(got) != tc.send {
					t.Fatalf("read %q, %v; want the bytes sent", got[:n], err)
				}
				return
			}
			if n != 0 || err != io.EOF {
				t.Fatalf("read %q, %v; want nothing and the end", got[:n], err)
			}
		})
	}
}
