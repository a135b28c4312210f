package h2

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"portico.dev/portico/internal/proxy/h1"
)

// fastServer serves every eligible request on the fast path to rt (the
// handler fails the test), counting RouteH2 calls.
func fastServer(t *testing.T, rt *h1.Route, opts ...serverOpt) (*testServer, *atomic.Int32) {
	var calls atomic.Int32
	ts := startServer(t, Config{Handler: routed{Handler: noHandler(t), route: func(*Request) *h1.Route {
		calls.Add(1)
		return rt
	}}}, opts...)
	return ts, &calls
}

func okAnswer(body string, fields ...string) string {
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\n")
	for _, f := range fields {
		b.WriteString(f + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

func TestFastGETForwarding(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		up := startUpstream(t, func(r *upRequest) (string, bool) {
			return "HTTP/1.1 200 OK\r\n" +
				"Content-Type: text/plain\r\n" +
				"Connection: X-Hop, keep-alive\r\n" +
				"X-Hop: 1\r\n" +
				"Keep-Alive: timeout=5\r\n" +
				"Proxy-Connection: keep-alive\r\n" +
				"Upgrade: foo\r\n" +
				"X-Keep: yes\r\n" +
				"Set-Cookie: s=1\r\n" +
				"Set-Cookie: t=2\r\n" +
				"Content-Length: 5\r\n\r\nhello", false
		})
		ts, calls := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0), opts...)
		rc := handshakeRaw(t, ts)
		rc.get(1, "/p/a%2Fb?q=1&r=2",
			"cookie", "a=1", "x-forwarded-for", "1.2.3.4", "cookie", "b=2", "x-custom", "c", "te", "trailers",
			"x-forwarded-host", "spoofed", "x-forwarded-proto", "spoofed", "forwarded", "for=9.9.9.9")
		s := rc.response(1)
		if s.status != 200 || s.body.String() != "hello" || !s.ended {
			t.Fatalf("got %d %q ended %v", s.status, s.body.String(), s.ended)
		}
		if calls.Load() != 1 {
			t.Errorf("RouteH2 called %d times", calls.Load())
		}
		// The response: hop-by-hop fields gone, the rest relayed in lower case.
		for _, f := range s.header {
			if f.Name != strings.ToLower(f.Name) {
				t.Errorf("field %q not lower case", f.Name)
			}
			switch f.Name {
			case "connection", "x-hop", "keep-alive", "proxy-connection", "upgrade", "transfer-encoding":
				t.Errorf("hop-by-hop field %s: %s relayed", f.Name, f.Value)
			}
		}
		if s.get("x-keep") != "yes" || s.get("content-type") != "text/plain" || s.get("content-length") != "5" {
			t.Errorf("header %v", s.header)
		}
		if got := s.values("set-cookie"); len(got) != 2 {
			t.Errorf("set-cookie %q", got)
		}
		if _, err := http.ParseTime(s.get("date")); err != nil {
			t.Errorf("date %q: %v", s.get("date"), err)
		}

		// The upstream request.
		r := up.last(t)
		if !strings.HasPrefix(r.head, "GET /p/a%2Fb?q=1&r=2 HTTP/1.1\r\nHost: example.com\r\n") {
			t.Errorf("request head %q", r.head)
		}
		if got := r.Header["Cookie"]; len(got) != 1 || got[0] != "a=1; b=2" {
			t.Errorf("Cookie %q, want one field a=1; b=2", got)
		}
		if got := r.Header["X-Forwarded-For"]; len(got) != 1 || got[0] != "1.2.3.4, 127.0.0.1" {
			t.Errorf("X-Forwarded-For %q, want [1.2.3.4, 127.0.0.1]", got)
		}
		if got := r.Header["X-Forwarded-Host"]; len(got) != 1 || got[0] != "example.com" {
			t.Errorf("X-Forwarded-Host %q", got)
		}
		proto := "http"
		if len(opts) > 0 {
			proto = "https"
		}
		if got := r.Header["X-Forwarded-Proto"]; len(got) != 1 || got[0] != proto {
			t.Errorf("X-Forwarded-Proto %q, want %s", got, proto)
		}
		if got := r.Header.Get("X-Custom"); got != "c" {
			t.Errorf("X-Custom %q", got)
		}
		if got := r.Header.Get("Te"); got != "trailers" {
			t.Errorf("Te %q", got)
		}
		if _, ok := r.Header["Forwarded"]; ok {
			t.Errorf("Forwarded passed on: %q", r.Header["Forwarded"])
		}
		if r.Header.Get("Content-Length") != "" || r.Header.Get("Transfer-Encoding") != "" {
			t.Errorf("GET with framing fields: %q", r.head)
		}

		// The same with the x/net client.
		c, _ := ts.client(t)
		resp, err := c.Get(ts.url("/x"))
		if err != nil {
			t.Fatal(err)
		}
		if b := readAll(t, resp); string(b) != "hello" || resp.Header.Get("X-Keep") != "yes" {
			t.Fatalf("client: %q %v", b, resp.Header)
		}
		if up.last(t).Host != ts.addr {
			t.Errorf("Host %q, want the :authority %s", up.last(t).Host, ts.addr)
		}
		if up.conns.Load() != 1 {
			t.Errorf("%d upstream connections for sequential requests, want 1 (keep-alive)", up.conns.Load())
		}
	})
}

func TestFastUpstreamFraming(t *testing.T) {
	t.Parallel()
	bigBody := string(pattern(300000, 9))
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		switch r.URL.Path {
		case "/chunked":
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
				"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other-Trailer: o\r\n\r\n", false
		case "/chunked-no-trailers":
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false
		case "/close":
			return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", true
		case "/close-big":
			return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + bigBody, true
		case "/length-big":
			return okAnswer(bigBody), false
		case "/empty":
			return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false
		case "/204":
			return "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", false
		case "/304":
			return "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nContent-Type: text/html\r\nEtag: \"e\"\r\n\r\n", false
		case "/1xx":
			return "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + okAnswer("final"), false
		}
		return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false
	})
	ts, _ := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0))
	c, _ := ts.client(t)

	for _, tc := range []struct {
		path, body string
		status     int
		trailers   map[string]string
	}{
		{"/chunked", "hello world", 200, map[string]string{"X-Checksum": "abc", "X-Other-Trailer": "o"}},
		{"/chunked-no-trailers", "abc", 200, nil},
		{"/close", "until the end", 200, nil},
		{"/close-big", bigBody, 200, nil},
		{"/length-big", bigBody, 200, nil},
		{"/empty", "", 200, nil},
		{"/204", "", 204, nil},
		{"/304", "", 304, nil},
		{"/1xx", "final", 200, nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := c.Get(ts.url(tc.path))
			if err != nil {
				t.Fatal(err)
			}
			b := readAll(t, resp)
			if resp.StatusCode != tc.status || string(b) != tc.body {
				t.Fatalf("got %d, %d bytes, want %d, %d bytes", resp.StatusCode, len(b), tc.status, len(tc.body))
			}
			for k, v := range tc.trailers {
				if got := resp.Trailer.Get(k); got != v {
					t.Errorf("trailer %s %q, want %q (all %v)", k, got, v, resp.Trailer)
				}
			}
			if resp.Header.Get("Transfer-Encoding") != "" || resp.Header.Get("Connection") != "" {
				t.Errorf("framing fields relayed: %v", resp.Header)
			}
		})
	}

	// On the wire: the chunked trailers are one last HEADERS frame with
	// END_STREAM, and 204/304 carry no length.
	rc := handshakeRaw(t, ts)
	rc.get(1, "/chunked")
	s := rc.response(1)
	if len(s.blocks) != 2 || len(s.trailer) != 2 || !s.ended {
		t.Errorf("chunked: %d header blocks, trailers %v", len(s.blocks), s.trailer)
	}
	for _, f := range s.trailer {
		if f.Name != strings.ToLower(f.Name) || strings.HasPrefix(f.Name, ":") {
			t.Errorf("trailer field %q", f.Name)
		}
	}
	rc.get(3, "/304")
	s = rc.response(3)
	if s.get("content-length") != "" || s.get("content-type") != "" || s.get("etag") != `"e"` || s.frames != 0 {
		t.Errorf("304: header %v, %d DATA frames", s.header, s.frames)
	}
	rc.get(5, "/204")
	if s = rc.response(5); s.get("content-length") != "" || s.get("x-a") != "1" || s.frames != 0 {
		t.Errorf("204: header %v", s.header)
	}
}

func TestFastLargeBodySlowClient(t *testing.T) {
	t.Parallel()
	const size = 6 << 20
	body := pattern(size, 21)
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		if r.URL.Path == "/close" {
			return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + string(body), true
		}
		return okAnswer(string(body)), false
	})
	ts, _ := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0))
	c, _ := ts.client(t)
	for _, path := range []string{"/length", "/close"} {
		resp, err := c.Get(ts.url(path))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // the server fills the client's window and waits
		var got bytes.Buffer
		buf := make([]byte, 32<<10)
		for i := 0; ; i++ {
			n, err := resp.Body.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: after %d bytes: %v", path, got.Len(), err)
			}
			if i%32 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		resp.Body.Close()
		if !bytes.Equal(got.Bytes(), body) {
			t.Fatalf("%s: got %d bytes, want the %d sent", path, got.Len(), size)
		}
	}
}

func TestFastHEAD(t *testing.T) {
	t.Parallel()
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		if r.Method != "HEAD" {
			t.Errorf("upstream got %s", r.Method)
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nX-H: 1\r\n\r\n", false
	})
	ts, _ := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0))
	rc := handshakeRaw(t, ts)
	rc.headers(1, true, reqFields("HEAD", "/h"))
	s := rc.response(1)
	if s.status != 200 || s.get("content-length") != "1234" || s.get("x-h") != "1" || s.frames != 0 || len(s.blocks) != 1 {
		t.Errorf("HEAD: %d %v, %d DATA frames", s.status, s.header, s.frames)
	}
	// The upstream connection is reused: no body was expected.
	rc.headers(3, true, reqFields("HEAD", "/h"))
	if s := rc.response(3); s.status != 200 {
		t.Errorf("second HEAD: %d", s.status)
	}
	if n := up.conns.Load(); n != 1 {
		t.Errorf("%d upstream connections, want 1", n)
	}
}

func TestFastUpstreamDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	resp := h1.ComposeEdits(&h1.HeaderModifier{Add: []h1.Header{{Name: "X-Edit", Value: "e"}}})
	ts, _ := fastServer(t, fixedRoute(t, addr, nil, resp, 0, 0))
	c, _ := ts.client(t)
	r, err := c.Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, r)
	if r.StatusCode != 502 || string(b) != "upstream connect error\n" {
		t.Fatalf("got %d %q, want 502 upstream connect error", r.StatusCode, b)
	}
	if r.Header.Get("Content-Type") != "text/plain; charset=utf-8" || r.ContentLength != int64(len(b)) {
		t.Errorf("header %v", r.Header)
	}
	if r.Header.Get("X-Edit") != "e" {
		t.Errorf("response edits not applied to the 502: %v", r.Header)
	}
	rc := handshakeRaw(t, ts)
	rc.headers(1, true, reqFields("HEAD", "/"))
	if s := rc.response(1); s.status != 502 || s.frames != 0 {
		t.Errorf("HEAD: %d with %d DATA frames", s.status, s.frames)
	}
}

func TestFastTimeouts(t *testing.T) {
	t.Parallel()
	// The upstream answers late enough that a timeout answered in time
	// is told apart from the upstream's answer even on a loaded machine
	// (the race detector, every package's tests at once).
	const late = 2 * time.Second
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		time.Sleep(late)
		return okAnswer("late"), false
	})
	for _, tc := range []struct {
		name             string
		request, backend time.Duration
		status           int
		body             string
	}{
		{"backendRequest", 0, 100 * time.Millisecond, 504, "upstream request timeout\n"},
		{"request", 100 * time.Millisecond, 0, 504, "request timeout\n"},
		{"none", 0, 0, 200, "late"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts, _ := fastServer(t, fixedRoute(t, up.addr, nil, nil, tc.request, tc.backend))
			c, _ := ts.client(t)
			start := time.Now()
			resp, err := c.Get(ts.url("/slow"))
			if err != nil {
				t.Fatal(err)
			}
			b := readAll(t, resp)
			if resp.StatusCode != tc.status || string(b) != tc.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, b, tc.status, tc.body)
			}
			if tc.status == 504 && time.Since(start) > late*3/4 {
				t.Errorf("timeout answered after %v", time.Since(start))
			}
		})
	}
}

func TestFastHeaderEdits(t *testing.T) {
	t.Parallel()
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		return okAnswer("ok", "X-Resp-Set: orig", "X-Resp-Add: orig", "X-Resp-Remove: gone"), false
	})
	reqEdits := h1.ComposeEdits(&h1.HeaderModifier{
		Set:    []h1.Header{{Name: "X-Set", Value: "s"}},
		Add:    []h1.Header{{Name: "X-Add", Value: "a"}},
		Remove: []string{"X-Remove"},
	})
	respEdits := h1.ComposeEdits(&h1.HeaderModifier{
		Set:    []h1.Header{{Name: "X-Resp-Set", Value: "s"}},
		Add:    []h1.Header{{Name: "X-Resp-Add", Value: "a"}},
		Remove: []string{"X-Resp-Remove"},
	})
	ts, _ := fastServer(t, fixedRoute(t, up.addr, reqEdits, respEdits, 0, 0))
	rc := handshakeRaw(t, ts)
	rc.get(1, "/", "x-set", "orig", "x-add", "orig", "x-remove", "gone", "x-untouched", "u")
	s := rc.response(1)
	if s.status != 200 || s.body.String() != "ok" {
		t.Fatalf("got %d %q", s.status, s.body.String())
	}
	r := up.last(t)
	if got := r.Header["X-Set"]; len(got) != 1 || got[0] != "s" {
		t.Errorf("upstream X-Set %q, want [s]", got)
	}
	if got := r.Header["X-Add"]; len(got) != 2 || got[0] != "orig" || got[1] != "a" {
		t.Errorf("upstream X-Add %q, want [orig a]", got)
	}
	if got, ok := r.Header["X-Remove"]; ok {
		t.Errorf("upstream X-Remove %q, want removed", got)
	}
	if r.Header.Get("X-Untouched") != "u" {
		t.Errorf("upstream X-Untouched %q", r.Header.Get("X-Untouched"))
	}
	if got := s.values("x-resp-set"); len(got) != 1 || got[0] != "s" {
		t.Errorf("x-resp-set %q, want [s]", got)
	}
	if got := s.values("x-resp-add"); len(got) != 2 || got[0] != "orig" || got[1] != "a" {
		t.Errorf("x-resp-add %q, want [orig a]", got)
	}
	if got := s.values("x-resp-remove"); len(got) != 0 {
		t.Errorf("x-resp-remove %q, want removed", got)
	}
}

// Requests with a body are the handler's; bodyless ones (END_STREAM on
// HEADERS) go to the fast path, POST with Content-Length: 0.
func TestFastBodyRequestsGoToHandler(t *testing.T) {
	t.Parallel()
	up := startUpstream(t, func(r *upRequest) (string, bool) { return okAnswer("upstream"), false })
	rt := fixedRoute(t, up.addr, nil, nil, 0, 0)
	var handled atomic.Int32
	var routes atomic.Int32
	ts := startServer(t, Config{Handler: routed{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handled.Add(1)
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "handler %s", b)
		}),
		route: func(*Request) *h1.Route { routes.Add(1); return rt },
	}})
	rc := handshakeRaw(t, ts)
	rc.headers(1, false, reqFields("POST", "/with-body", "content-length", "4"))
	rc.data(1, true, []byte("data"))
	if s := rc.response(1); s.body.String() != "handler data" {
		t.Errorf("POST with body: %d %q, want the handler's answer", s.status, s.body.String())
	}
	// HEADERS without END_STREAM and an empty DATA: still a body stream.
	rc.headers(3, false, reqFields("POST", "/empty-data"))
	rc.data(3, true, nil)
	if s := rc.response(3); s.body.String() != "handler " {
		t.Errorf("POST with empty DATA: %d %q", s.status, s.body.String())
	}
	if len(up.requests()) != 0 {
		t.Errorf("upstream got %d requests for body requests", len(up.requests()))
	}
	rc.headers(5, true, reqFields("POST", "/no-body"))
	if s := rc.response(5); s.body.String() != "upstream" {
		t.Errorf("bodyless POST: %d %q, want the upstream's answer", s.status, s.body.String())
	}
	r := up.last(t)
	if r.Method != "POST" || r.Header.Get("Content-Length") != "0" {
		t.Errorf("upstream POST: %q", r.head)
	}
	if handled.Load() != 2 {
		t.Errorf("handler ran %d times, want 2", handled.Load())
	}
}

func TestFastRouterSeesRequest(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		type seen struct {
			method, host, path, query, sni string
			multi, cookie, absent          []string
		}
		var mu sync.Mutex
		var got []seen
		ts := startServer(t, Config{Handler: routed{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fallback") }),
			route: func(r *Request) *h1.Route {
				s := seen{method: strings.Clone(r.Method()), host: strings.Clone(r.Host()), path: strings.Clone(r.Path()),
					query: strings.Clone(r.RawQuery()), sni: strings.Clone(r.SNI())}
				for _, v := range r.HeaderValues("X-Multi") {
					s.multi = append(s.multi, strings.Clone(v))
				}
				for _, v := range r.HeaderValues("COOKIE") {
					s.cookie = append(s.cookie, strings.Clone(v))
				}
				s.absent = append(s.absent, r.HeaderValues("x-absent")...)
				mu.Lock()
				got = append(got, s)
				mu.Unlock()
				return nil // the handler serves it
			},
		}}, opts...)
		rc := handshakeRaw(t, ts)
		rc.headers(1, true, hf(":method", "GET", ":scheme", "https", ":authority", "Example.COM:8443", ":path", "/a%20b/c?x=1&y=%2F",
			"x-multi", "one", "cookie", "a=1", "x-multi", "two", "cookie", "b=2"))
		if s := rc.response(1); s.body.String() != "fallback" {
			t.Fatalf("nil route: %d %q, want the handler", s.status, s.body.String())
		}
		rc.headers(3, true, hf(":method", "DELETE", ":scheme", "http", ":path", "/", "host", "from-host-field"))
		rc.response(3)
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 2 {
			t.Fatalf("RouteH2 called %d times", len(got))
		}
		s := got[0]
		if s.method != "GET" || s.host != "Example.COM:8443" || s.path != "/a%20b/c" || s.query != "x=1&y=%2F" {
			t.Errorf("method %q host %q path %q query %q", s.method, s.host, s.path, s.query)
		}
		if len(s.multi) != 2 || s.multi[0] != "one" || s.multi[1] != "two" {
			t.Errorf("HeaderValues(X-Multi) %q", s.multi)
		}
		if len(s.cookie) != 1 || s.cookie[0] != "a=1; b=2" {
			t.Errorf("HeaderValues(COOKIE) %q, want [a=1; b=2]", s.cookie)
		}
		if len(s.absent) != 0 {
			t.Errorf("HeaderValues(x-absent) %q", s.absent)
		}
		wantSNI := ""
		if len(opts) > 0 {
			wantSNI = "example.com"
		}
		if s.sni != wantSNI {
			t.Errorf("SNI %q, want %q", s.sni, wantSNI)
		}
		if got[1].method != "DELETE" || got[1].host != "from-host-field" {
			t.Errorf("second: method %q host %q", got[1].method, got[1].host)
		}
	})
}

func TestFastConcurrent(t *testing.T) {
	t.Parallel()
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		if r.URL.Query().Get("chunked") != "" {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(r.RequestURI), r.RequestURI), false
		}
		return okAnswer(r.RequestURI), false
	})
	ts, calls := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0))
	c, _ := ts.client(t)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uri := fmt.Sprintf("/c/%d", i)
			if i%2 == 0 {
				uri += "?chunked=1"
			}
			resp, err := c.Get(ts.url(uri))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || string(b) != uri {
				errs <- fmt.Errorf("%s: %q %v", uri, b, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if calls.Load() != n {
		t.Errorf("RouteH2 called %d times, want %d", calls.Load(), n)
	}
}

// A client reset while the fast path relays a large answer stops the relay
// without disturbing the connection.
func TestFastClientReset(t *testing.T) {
	t.Parallel()
	body := string(pattern(2<<20, 4))
	up := startUpstream(t, func(r *upRequest) (string, bool) { return okAnswer(body), false })
	ts, _ := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0))
	rc := handshakeRaw(t, ts)
	rc.autoWindow = false
	rc.get(1, "/big")
	rc.until("first DATA", func(f http2.Frame) bool { _, ok := f.(*http2.DataFrame); return ok })
	rc.mustWrite(func() error { return rc.fr.WriteRSTStream(1, http2.ErrCodeCancel) })
	rc.autoWindow = true
	rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(0, 16<<20) })
	time.Sleep(100 * time.Millisecond)
	for _, f := range rc.ping() {
		if rst, ok := f.(*http2.RSTStreamFrame); ok && rst.StreamID == 1 {
			t.Errorf("server answered the client's RST_STREAM with %s (RFC 9113 section 5.4.2)", frameSummary(f))
		}
	}
	rc.get(3, "/big")
	if s := rc.response(3); s.status != 200 || s.body.Len() != len(body) {
		t.Errorf("after reset: %d, %d bytes", s.status, s.body.Len())
	}
}

// An upstream answer cut short must not reach the client as a complete
// one: the stream is reset.
func TestFastTruncatedUpstreamBody(t *testing.T) {
	t.Parallel()
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		switch r.URL.Path {
		case "/short-length":
			return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", true
		case "/short-chunked":
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc", true
		case "/bad-chunked":
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", true
		case "/no-answer":
			return "", true
		case "/garbage":
			return "SMTP ready\r\n\r\n", true
		}
		return okAnswer("?"), false
	})
	ts, _ := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0))
	rc := handshakeRaw(t, ts)
	id := uint32(1)
	for _, path := range []string{"/short-length", "/short-chunked", "/bad-chunked"} {
		rc.get(id, path)
		s := rc.response(id)
		if s.ended || !s.rst {
			t.Errorf("%s: answer %d %q ended cleanly (END_STREAM), want RST_STREAM", path, s.status, s.body.String())
		}
		id += 2
	}
	for _, path := range []string{"/no-answer", "/garbage"} {
		rc.get(id, path)
		s := rc.response(id)
		if s.status != 502 || s.body.String() != "upstream connect error\n" {
			t.Errorf("%s: %d %q, want 502", path, s.status, s.body.String())
		}
		id += 2
	}
}

// A pooled upstream connection the upstream closed while idle: a GET is
// sent again on a new connection.
func TestFastStalePooledConnection(t *testing.T) {
	t.Parallel()
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		return okAnswer("fresh"), true // closes without saying so
	})
	ts, _ := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0))
	c, _ := ts.client(t)
	for i := 0; i < 3; i++ {
		resp, err := c.Get(ts.url("/"))
		if err != nil {
			t.Fatal(err)
		}
		if b := readAll(t, resp); resp.StatusCode != 200 || string(b) != "fresh" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Finished fast-path streams are reused (newStream): frames a client sends
// about a stream that just ended (WINDOW_UPDATE, RST_STREAM) must not
// reach the stream that reuses its memory, and every answer carries its
// own request's path and fields. Run it with -race.
func TestFastStreamReuse(t *testing.T) {
	t.Parallel()
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		return okAnswer(r.RequestURI + " " + r.Header.Get("X-N")), false
	})
	ts, _ := fastServer(t, fixedRoute(t, up.addr, nil, nil, 0, 0))
	rc := handshakeRaw(t, ts)
	id := uint32(1)
	for wave := 0; wave < 30; wave++ {
		ids := make([]uint32, 8)
		for i := range ids {
			ids[i] = id
			rc.get(id, fmt.Sprintf("/w%d/s%d", wave, id), "x-n", fmt.Sprint(id))
			id += 2
		}
		reset := ids[wave%len(ids)] // one reset while in flight
		rc.mustWrite(func() error { return rc.fr.WriteRSTStream(reset, http2.ErrCodeCancel) })
		for _, sid := range ids {
			if sid == reset {
				continue
			}
			s := rc.response(sid)
			if want := fmt.Sprintf("/w%d/s%d %d", wave, sid, sid); s.status != 200 || s.body.String() != want {
				t.Fatalf("stream %d: %d %q, want 200 %q", sid, s.status, s.body.String(), want)
			}
			rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(sid, 1000) })
			rc.mustWrite(func() error { return rc.fr.WriteRSTStream(sid, http2.ErrCodeCancel) })
		}
	}
	rc.ping()
	if rc.goAway != nil {
		t.Fatalf("GOAWAY(%v): the connection did not survive", rc.goAway.ErrCode)
	}
}
