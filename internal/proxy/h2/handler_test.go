package h2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// modes runs f over cleartext with prior knowledge and over TLS with ALPN.
func modes(t *testing.T, f func(t *testing.T, opts ...serverOpt)) {
	t.Run("cleartext", func(t *testing.T) { t.Parallel(); f(t) })
	t.Run("tls", func(t *testing.T) { t.Parallel(); f(t, withTLS()) })
}

// pattern returns n deterministic pseudo-random bytes.
func pattern(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

type seenRequest struct {
	method, proto, host, remote, path, query, uri string
	protoMajor, protoMinor                        int
	tls                                           bool
	alpn, sni                                     string
	header                                        http.Header
	contentLength                                 int64
	localAddr                                     net.Addr
}

func TestHandlerRequestAndResponseBasics(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		seen := make(chan seenRequest, 1)
		ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := seenRequest{method: r.Method, proto: r.Proto, protoMajor: r.ProtoMajor, protoMinor: r.ProtoMinor,
				host: r.Host, remote: r.RemoteAddr, path: r.URL.Path, query: r.URL.RawQuery, uri: r.RequestURI,
				tls: r.TLS != nil, header: r.Header.Clone(), contentLength: r.ContentLength}
			if r.TLS != nil {
				s.alpn, s.sni = r.TLS.NegotiatedProtocol, r.TLS.ServerName
			}
			s.localAddr, _ = r.Context().Value(http.LocalAddrContextKey).(net.Addr)
			if b, err := io.ReadAll(r.Body); err != nil || len(b) != 0 {
				t.Errorf("bodyless request: read %q, %v", b, err)
			}
			seen <- s
			io.WriteString(w, "hello")
		})}, opts...)
		c, _ := ts.client(t)
		var local string
		req, _ := http.NewRequest("GET", ts.url("/a/b?x=1&y=2"), nil)
		req.Host = "example.com:8443"
		req.Header.Set("X-Test", "v1")
		req.Header.Add("X-Test", "v2")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { local = i.Conn.LocalAddr().String() },
		}))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != 200 || string(body) != "hello" || resp.Proto != "HTTP/2.0" {
			t.Fatalf("got %d %s %q", resp.StatusCode, resp.Proto, body)
		}
		if got := resp.Header.Get("Content-Length"); got != "5" || resp.ContentLength != 5 {
			t.Errorf("Content-Length %q (%d), want 5 for a small finished body", got, resp.ContentLength)
		}
		if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q, want sniffed text/plain; charset=utf-8", got)
		}
		if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || time.Since(d).Abs() > time.Minute {
			t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
		}
		s := recv(t, seen)
		if s.method != "GET" || s.proto != "HTTP/2.0" || s.protoMajor != 2 || s.protoMinor != 0 {
			t.Errorf("method %q proto %q %d.%d", s.method, s.proto, s.protoMajor, s.protoMinor)
		}
		if s.host != "example.com:8443" {
			t.Errorf("r.Host %q, want the :authority example.com:8443", s.host)
		}
		if s.remote != local {
			t.Errorf("r.RemoteAddr %q, want the client's address %q", s.remote, local)
		}
		if s.path != "/a/b" || s.query != "x=1&y=2" || s.uri != "/a/b?x=1&y=2" {
			t.Errorf("path %q query %q uri %q", s.path, s.query, s.uri)
		}
		if got := s.header["X-Test"]; len(got) != 2 || got[0] != "v1" || got[1] != "v2" {
			t.Errorf("X-Test %q", got)
		}
		if _, ok := s.header["Host"]; ok {
			t.Errorf("r.Header has Host: %q", s.header["Host"])
		}
		if s.contentLength != 0 {
			t.Errorf("ContentLength %d for a bodyless request", s.contentLength)
		}
		if s.localAddr == nil || s.localAddr.String() != ts.addr {
			t.Errorf("LocalAddrContextKey %v, want %s", s.localAddr, ts.addr)
		}
		isTLS := len(opts) > 0
		if s.tls != isTLS {
			t.Errorf("r.TLS set %v, want %v", s.tls, isTLS)
		}
		if isTLS && (s.alpn != "h2" || s.sni != "example.com") {
			t.Errorf("TLS ALPN %q SNI %q", s.alpn, s.sni)
		}
	})
}

func TestHandlerHEAD(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "HEAD" {
			t.Errorf("method %s", r.Method)
		}
		w.Header().Set("X-H", "1")
		io.WriteString(w, "hello world")
	})})
	c, _ := ts.client(t)
	resp, err := c.Head(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("X-H") != "1" {
		t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp.ContentLength != 11 {
		t.Errorf("HEAD Content-Length %d, want 11 (what GET would send)", resp.ContentLength)
	}

	// On the wire: one HEADERS frame with END_STREAM, no DATA.
	rc := handshakeRaw(t, ts)
	rc.headers(1, true, reqFields("HEAD", "/"))
	s := rc.response(1)
	if s.status != 200 || s.frames != 0 || len(s.blocks) != 1 {
		t.Errorf("HEAD: status %d, %d DATA frames, %d header blocks", s.status, s.frames, len(s.blocks))
	}
}

func TestHandlerPOSTBodies(t *testing.T) {
	t.Parallel()
	type result struct {
		n      int64
		sum    string
		cl     int64
		err    error
		header string
	}
	results := make(chan result, 10)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		res := result{n: n, sum: hex.EncodeToString(h.Sum(nil)), cl: r.ContentLength, err: err, header: r.Header.Get("Content-Length")}
		results <- res
		fmt.Fprintf(w, "%d %s", n, res.sum)
	})})
	c, _ := ts.client(t)
	for _, tc := range []struct {
		name  string
		size  int
		known bool
	}{
		{"small", 11, true},
		{"empty-with-body-frame", 0, false},
		{"16KiB-unknown-length", 16 << 10, false},
		{"8MiB", 8 << 20, true},
		{"8MiB-unknown-length", 8 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := pattern(tc.size, uint64(tc.size))
			var body io.Reader = bytes.NewReader(payload)
			if !tc.known {
				body = io.MultiReader(body) // hides the length: no content-length field
			}
			req, _ := http.NewRequest("POST", ts.url("/upload"), body)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, resp)
			want := fmt.Sprintf("%d %s", tc.size, sum(payload))
			if resp.StatusCode != 200 || string(got) != want {
				t.Errorf("got %d %q, want %q", resp.StatusCode, got, want)
			}
			res := recv(t, results)
			if res.err != nil {
				t.Errorf("handler read error: %v", res.err)
			}
			wantCL := int64(tc.size)
			if !tc.known {
				wantCL = -1
			}
			if res.cl != wantCL {
				t.Errorf("r.ContentLength %d, want %d (header %q)", res.cl, wantCL, res.header)
			}
		})
	}
}

// The request body buffer holds at most what the client may send ahead
// (the flow-control window), even when the handler reads more slowly than
// the client sends and never catches up completely.
func TestRequestBodyBufferBounded(t *testing.T) {
	t.Parallel()
	const size = 12 << 20
	payload := pattern(size, 7)
	maxCap := make(chan int, 1)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := r.Body.(*pipe)
		if !ok {
			t.Errorf("body is %T", r.Body)
			return
		}
		h := sha256.New()
		buf := make([]byte, 8<<10)
		most := 0
		for i := 0; ; i++ {
			n, err := r.Body.Read(buf)
			h.Write(buf[:n])
			if i%16 == 0 {
				time.Sleep(100 * time.Microsecond) // a reader slower than loopback
			}
			p.mu.Lock()
			most = max(most, cap(p.buf))
			p.mu.Unlock()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("read: %v", err)
				return
			}
		}
		maxCap <- most
		io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
	})})
	c, _ := ts.client(t)
	resp, err := c.Post(ts.url("/"), "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); string(got) != sum(payload) {
		t.Fatalf("handler read a different body")
	}
	// The window is recvWindow (1 MiB); allow the append growth factor.
	if most := recv(t, maxCap); most > 4*recvWindow {
		t.Errorf("request body buffer grew to %d bytes for a %d byte body (window %d): consumed bytes are never dropped while the reader lags", most, size, recvWindow)
	}
}

func TestHandlerLargeResponseSlowReader(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		const size = 6 << 20 // above the x/net client's 4 MiB stream window
		payload := pattern(size, 3)
		handlerDone := make(chan struct{})
		ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(handlerDone)
			for p := payload; len(p) > 0; {
				n := min(len(p), 64<<10)
				if _, err := w.Write(p[:n]); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				p = p[n:]
			}
		})}, opts...)
		c, _ := ts.client(t)
		resp, err := c.Get(ts.url("/big"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.ContentLength != -1 {
			t.Errorf("Content-Length %d for a streamed body, want none", resp.ContentLength)
		}
		// Do not read for a while: the server must stop at the window.
		time.Sleep(100 * time.Millisecond)
		select {
		case <-handlerDone:
			t.Fatalf("handler finished writing %d bytes before the client read anything", size)
		default:
		}
		var got bytes.Buffer
		buf := make([]byte, 16<<10)
		for i := 0; ; i++ {
			n, err := resp.Body.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("after %d bytes: %v", got.Len(), err)
			}
			if i%64 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
		if got.Len() != size || !bytes.Equal(got.Bytes(), payload) {
			t.Fatalf("received %d bytes, different from the %d sent", got.Len(), size)
		}
		waitCh(t, handlerDone, "handler")
	})
}

// A client with a tiny SETTINGS_INITIAL_WINDOW_SIZE: the server sends no
// more than the window allows and resumes on WINDOW_UPDATE, or when SETTINGS
// raises the initial window.
func TestHandlerResponseRespectsTinyWindow(t *testing.T) {
	t.Parallel()
	const size = 20000
	payload := pattern(size, 11)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(payload)
	})
	ts := startServer(t, Config{Handler: handler})

	// readData reads DATA on stream 1 until want bytes came (or END_STREAM),
	// checking the window is never exceeded.
	readData := func(t *testing.T, rc *rawConn, window *int, want int) {
		t.Helper()
		s := rc.stream(1)
		start := s.body.Len()
		for s.body.Len()-start < want && !s.done() {
			before := s.body.Len()
			f, err := rc.next()
			if err != nil {
				t.Fatalf("after %d bytes: %v", s.body.Len(), err)
			}
			if d, ok := f.(*http2.DataFrame); ok && d.StreamID == 1 {
				*window -= s.body.Len() - before
				if *window < 0 {
					t.Fatalf("server sent %d bytes beyond the stream window", -*window)
				}
			}
		}
	}
	quiet := func(t *testing.T, rc *rawConn) {
		t.Helper()
		f, err := rc.nextWithin(150 * time.Millisecond)
		if err == nil {
			t.Fatalf("server sent %s with the window exhausted", frameSummary(f))
		}
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("read: %v", err)
		}
	}

	t.Run("window-update", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 100})
		rc.autoWindow = false
		rc.get(1, "/")
		window := 100
		readData(t, rc, &window, 100)
		quiet(t, rc)
		rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(1, 1000) })
		window += 1000
		readData(t, rc, &window, 1000)
		quiet(t, rc)
		rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(1, 1<<20) })
		window += 1 << 20
		s := rc.response(1)
		if !s.ended || !bytes.Equal(s.body.Bytes(), payload) {
			t.Fatalf("ended %v, got %d bytes, want the %d sent", s.ended, s.body.Len(), size)
		}
	})
	t.Run("settings-raise", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 100})
		rc.autoWindow = false
		rc.get(1, "/")
		window := 100
		readData(t, rc, &window, 100)
		quiet(t, rc)
		// RFC 9113 section 6.9.2: a new initial window adjusts open streams.
		rc.mustWrite(func() error {
			return rc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535})
		})
		s := rc.response(1)
		if !s.ended || !bytes.Equal(s.body.Bytes(), payload) {
			t.Fatalf("ended %v, got %d bytes, want the %d sent", s.ended, s.body.Len(), size)
		}
	})
	t.Run("connection-window", func(t *testing.T) {
		t.Parallel()
		const big = 100000 // above the 65535 connection window
		bigPayload := pattern(big, 5)
		ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(bigPayload) })})
		rc := handshakeRaw(t, ts, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
		rc.autoWindow = false
		rc.get(1, "/")
		window := 65535 // the connection's
		readData(t, rc, &window, 65535)
		quiet(t, rc)
		rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(0, 1<<20) })
		s := rc.response(1)
		if !s.ended || !bytes.Equal(s.body.Bytes(), bigPayload) {
			t.Fatalf("ended %v, got %d bytes, want the %d sent", s.ended, s.body.Len(), big)
		}
	})
	t.Run("max-frame-size", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(1, "/")
		s := rc.response(1)
		if s.maxData > 16384 {
			t.Errorf("DATA frame of %d bytes above the default SETTINGS_MAX_FRAME_SIZE", s.maxData)
		}
		if !bytes.Equal(s.body.Bytes(), payload) {
			t.Errorf("body differs")
		}
	})
}

func TestContentTypeSniffing(t *testing.T) {
	t.Parallel()
	html := "<html><body>" + strings.Repeat("x", 100) + "</body></html>"
	bigHTML := "<html><body>" + strings.Repeat("x", 10000) + "</body></html>"
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small-html":
			io.WriteString(w, html)
		case "/explicit":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, html)
		case "/suppressed":
			w.Header()["Content-Type"] = nil
			io.WriteString(w, html)
		case "/big-html-one-write":
			io.WriteString(w, bigHTML)
		case "/big-html-small-writes":
			for i := 0; i < len(bigHTML); i += 100 {
				io.WriteString(w, bigHTML[i:min(i+100, len(bigHTML))])
			}
		case "/flushed-html":
			io.WriteString(w, html)
			w.(http.Flusher).Flush()
			io.WriteString(w, "more")
		case "/no-content":
			w.WriteHeader(http.StatusNoContent)
		case "/empty":
		}
	})})
	c, _ := ts.client(t)
	for _, tc := range []struct{ path, want string }{
		{"/small-html", "text/html; charset=utf-8"},
		{"/explicit", "application/json"},
		{"/suppressed", ""},
		{"/big-html-one-write", "text/html; charset=utf-8"},
		{"/big-html-small-writes", "text/html; charset=utf-8"},
		{"/flushed-html", "text/html; charset=utf-8"},
		{"/no-content", ""},
		{"/empty", ""},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			resp, err := c.Get(ts.url(tc.path))
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			got, ok := resp.Header["Content-Type"]
			if tc.want == "" {
				if ok {
					t.Errorf("Content-Type %q, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("Content-Type %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDateHeader(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/own" {
			w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		}
		if r.URL.Path == "/big" {
			w.Write(make([]byte, 10000))
		}
	})})
	c, _ := ts.client(t)
	for _, path := range []string{"/", "/big", "/own"} {
		resp, err := c.Get(ts.url(path))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		dates := resp.Header.Values("Date")
		if len(dates) != 1 {
			t.Errorf("%s: Date fields %q, want one", path, dates)
			continue
		}
		if path == "/own" {
			if dates[0] != "Mon, 02 Jan 2006 15:04:05 GMT" {
				t.Errorf("handler's Date replaced by %q", dates[0])
			}
		} else if d, err := http.ParseTime(dates[0]); err != nil || time.Since(d).Abs() > time.Minute {
			t.Errorf("%s: Date %q: %v", path, dates[0], err)
		}
	}
}

func TestResponseHeaderFieldsOnTheWire(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-MiXeD-CaSe"] = []string{"m"} // not canonical
		h.Set("X-Canonical", "c")
		h.Add("Set-Cookie", "a=1")
		h.Add("Set-Cookie", "b=2")
		// Connection-specific fields are malformed in HTTP/2 (RFC 9113
		// section 8.2.2): they must not be sent.
		h.Set("Connection", "close")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Transfer-Encoding", "chunked")
		h.Set("Upgrade", "websocket")
		h.Set("Proxy-Connection", "keep-alive")
		h.Set("Bad Name", "x")
		h.Set("X-Bad-Value", "a\r\nb")
		io.WriteString(w, "ok")
	})})
	rc := handshakeRaw(t, ts)
	rc.get(1, "/")
	s := rc.response(1)
	if s.status != 200 || s.body.String() != "ok" {
		t.Fatalf("got %d %q", s.status, s.body.String())
	}
	for _, f := range s.header {
		if f.Name != strings.ToLower(f.Name) {
			t.Errorf("field name %q not lower case", f.Name)
		}
		switch f.Name {
		case "connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "bad name", "x-bad-value":
			t.Errorf("field %q: %q sent", f.Name, f.Value)
		}
	}
	if got := s.get("x-mixed-case"); got != "m" {
		t.Errorf("x-mixed-case %q", got)
	}
	if got := s.get("x-canonical"); got != "c" {
		t.Errorf("x-canonical %q", got)
	}
	if got := s.values("set-cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Errorf("set-cookie %q", got)
	}
	if s.header[0].Name != ":status" {
		t.Errorf("first field %q, want :status", s.header[0].Name)
	}
}

func TestResponseTrailers(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("b", 10000)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := "abc"
		if r.URL.Query().Get("big") != "" {
			body = big
		}
		switch r.URL.Path {
		case "/declared":
			w.Header().Set("Trailer", "X-Sum, X-Count")
			io.WriteString(w, body)
			w.Header().Set("X-Sum", "s1")
			w.Header().Set("X-Count", "3")
		case "/prefix":
			io.WriteString(w, body)
			w.Header().Set(http.TrailerPrefix+"X-Late", "late")
		case "/flushed":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, body)
			w.(http.Flusher).Flush()
			w.Header().Set("X-Sum", "flushed")
		case "/no-body":
			w.Header().Set("Trailer", "X-Sum")
			w.Header().Set("X-Sum", "empty")
		}
	})})
	c, _ := ts.client(t)
	for _, tc := range []struct {
		path string
		want map[string]string
	}{
		{"/declared", map[string]string{"X-Sum": "s1", "X-Count": "3"}},
		{"/declared?big=1", map[string]string{"X-Sum": "s1", "X-Count": "3"}},
		{"/prefix", map[string]string{"X-Late": "late"}},
		{"/prefix?big=1", map[string]string{"X-Late": "late"}},
		{"/flushed", map[string]string{"X-Sum": "flushed"}},
		{"/no-body", map[string]string{"X-Sum": "empty"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := c.Get(ts.url(tc.path))
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			wantBody := "abc"
			if strings.Contains(tc.path, "big") {
				wantBody = big
			}
			if tc.path == "/no-body" {
				wantBody = ""
			}
			if string(body) != wantBody {
				t.Errorf("body %d bytes, want %d", len(body), len(wantBody))
			}
			for k, v := range tc.want {
				if got := resp.Trailer.Get(k); got != v {
					t.Errorf("trailer %s = %q, want %q (trailers %v)", k, got, v, resp.Trailer)
				}
			}
			if resp.ContentLength != -1 && resp.Header.Get("Content-Length") != "" {
				t.Errorf("Content-Length %q on a response with trailers", resp.Header.Get("Content-Length"))
			}
		})
	}

	// On the wire: the trailers are a last HEADERS frame, END_STREAM, no
	// pseudo-fields, lower-case names.
	rc := handshakeRaw(t, ts)
	rc.get(1, "/declared")
	s := rc.response(1)
	if len(s.trailer) != 2 {
		t.Fatalf("trailer block %v", s.trailer)
	}
	for _, f := range s.trailer {
		if strings.HasPrefix(f.Name, ":") || f.Name != strings.ToLower(f.Name) {
			t.Errorf("trailer field %q", f.Name)
		}
	}
}

func TestRequestTrailers(t *testing.T) {
	t.Parallel()
	type seen struct {
		before, after http.Header
		header        http.Header
		body          string
	}
	got := make(chan seen, 2)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{before: r.Trailer.Clone(), header: r.Header.Clone()}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		s.body, s.after = string(b), r.Trailer.Clone()
		got <- s
	})})

	t.Run("transport", func(t *testing.T) {
		c, _ := ts.client(t)
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("POST", ts.url("/"), pr)
		req.Trailer = http.Header{"X-Req-Sum": nil}
		go func() {
			io.WriteString(pw, "body bytes")
			req.Trailer.Set("X-Req-Sum", "abc")
			pw.Close()
		}()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		s := recv(t, got)
		if s.body != "body bytes" {
			t.Errorf("body %q", s.body)
		}
		if _, ok := s.before["X-Req-Sum"]; !ok || s.before.Get("X-Req-Sum") != "" {
			t.Errorf("r.Trailer before EOF %v, want the declared key without value", s.before)
		}
		if v := s.after.Get("X-Req-Sum"); v != "abc" {
			t.Errorf("r.Trailer after EOF %v, want X-Req-Sum: abc", s.after)
		}
		if _, ok := s.header["Trailer"]; ok {
			t.Errorf("r.Header keeps Trailer %q", s.header["Trailer"])
		}
	})
	t.Run("raw-undeclared", func(t *testing.T) {
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/", "trailer", "x-declared"))
		rc.data(1, false, []byte("xyz"))
		rc.headers(1, true, hf("x-declared", "d", "x-undeclared", "u"))
		s := rc.response(1)
		if s.status != 200 {
			t.Fatalf("status %d", s.status)
		}
		r := recv(t, got)
		if r.body != "xyz" || r.after.Get("X-Declared") != "d" {
			t.Errorf("body %q trailers %v", r.body, r.after)
		}
		if _, ok := r.after["X-Undeclared"]; ok {
			t.Errorf("undeclared trailer visible: %v", r.after)
		}
	})
}

func TestExpectContinue(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ignore" {
			io.WriteString(w, "not read")
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		w.Write(b)
	})})

	t.Run("read", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/echo", "expect", "100-continue", "content-length", "5"))
		// The 100 must come before any body is sent.
		rc.until("100 Continue", func(f http2.Frame) bool {
			h, ok := f.(*http2.MetaHeadersFrame)
			return ok && h.StreamID == 1
		})
		s := rc.stream(1)
		if len(s.infos) != 1 || s.infos[0] != 100 || s.status != 0 {
			t.Fatalf("first answer: infos %v status %d, want a lone 100", s.infos, s.status)
		}
		rc.data(1, true, []byte("hello"))
		s = rc.response(1)
		if s.status != 200 || s.body.String() != "hello" {
			t.Fatalf("got %d %q", s.status, s.body.String())
		}
	})
	t.Run("not-read", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/ignore", "expect", "100-continue", "content-length", "5"))
		s := rc.response(1)
		if len(s.infos) != 0 || s.status != 200 || s.body.String() != "not read" {
			t.Fatalf("infos %v status %d body %q, want 200 without 100", s.infos, s.status, s.body.String())
		}
	})
	t.Run("transport", func(t *testing.T) {
		t.Parallel()
		c, _ := ts.client(t)
		var got100 bool
		req, _ := http.NewRequest("POST", ts.url("/echo"), strings.NewReader("hello"))
		req.Header.Set("Expect", "100-continue")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{Got100Continue: func() { got100 = true }}))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if b := readAll(t, resp); string(b) != "hello" {
			t.Errorf("body %q", b)
		}
		_ = got100 // the x/net client may send the body before the 100
	})
}

func TestFlusherStreams(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		release := make(chan struct{}, 2)
		ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/headers-only" {
				w.Header().Set("X-Early", "1")
				w.(http.Flusher).Flush()
			} else {
				io.WriteString(w, "first")
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("flush: %v", err)
				}
			}
			select {
			case <-release:
			case <-time.After(ioTimeout):
				t.Errorf("client never saw the flushed part")
			}
			io.WriteString(w, "second")
		})}, opts...)
		c, _ := ts.client(t)

		resp, err := c.Get(ts.url("/flush"))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
			t.Fatalf("first chunk %q: %v", buf, err)
		}
		release <- struct{}{}
		if rest := readAll(t, resp); string(rest) != "second" {
			t.Fatalf("rest %q", rest)
		}

		resp, err = c.Get(ts.url("/headers-only"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("X-Early") != "1" {
			t.Errorf("headers %v", resp.Header)
		}
		release <- struct{}{}
		if rest := readAll(t, resp); string(rest) != "second" {
			t.Fatalf("body %q", rest)
		}
	})
}

func TestInformationalResponses(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Add("Link", "</app.js>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("X-Final", "1")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "ok")
		w.WriteHeader(http.StatusEarlyHints) // after the final answer: ignored
	})})
	c, _ := ts.client(t)
	var mu sync.Mutex
	var infos []int
	var links [][]string
	req, _ := http.NewRequest("GET", ts.url("/"), nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			infos = append(infos, code)
			links = append(links, h["Link"])
			return nil
		},
	}))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp); resp.StatusCode != 200 || string(b) != "ok" || resp.Header.Get("X-Final") != "1" {
		t.Fatalf("got %d %q %v", resp.StatusCode, b, resp.Header)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(infos) != 2 || infos[0] != 103 || infos[1] != 103 {
		t.Fatalf("1xx answers %v, want two 103", infos)
	}
	if len(links[0]) != 1 || len(links[1]) != 2 {
		t.Errorf("Link fields of the 103s: %q", links)
	}

	// Raw: the 103 is a HEADERS frame without END_STREAM before the final one.
	rc := handshakeRaw(t, ts)
	rc.get(1, "/")
	s := rc.response(1)
	if len(s.infos) != 2 || s.status != 200 || len(s.blocks) != 3 {
		t.Errorf("infos %v status %d blocks %d", s.infos, s.status, len(s.blocks))
	}
}

func TestHandlerPanic(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/panic-late":
			w.Write(make([]byte, 10000))
			w.(http.Flusher).Flush()
			panic("late boom")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, "ok")
	})})
	rc := handshakeRaw(t, ts)
	rc.get(1, "/panic")
	rc.expectRST(1, http2.ErrCodeInternal)
	rc.get(3, "/panic-late")
	if s := rc.response(3); !s.rst || s.rstCode != http2.ErrCodeInternal || s.ended {
		t.Errorf("panic after the headers: rst %v %v ended %v", s.rst, s.rstCode, s.ended)
	}
	rc.get(5, "/abort")
	rc.expectRST(5, http2.ErrCodeInternal)
	rc.get(7, "/ok")
	if s := rc.response(7); s.status != 200 || s.body.String() != "ok" {
		t.Fatalf("after panics: %d %q", s.status, s.body.String())
	}

	// With the x/net client: an error for that request, the connection
	// serves the next ones.
	c, _ := ts.client(t)
	if resp, err := c.Get(ts.url("/panic")); err == nil {
		resp.Body.Close()
		t.Errorf("panic answered %d", resp.StatusCode)
	}
	resp, err := c.Get(ts.url("/ok"))
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp); string(b) != "ok" {
		t.Fatalf("after panic: %q", b)
	}
	// The server ended no connection. (How many the client opens is its
	// own business: Go 1.27's client may dial again while its view of the
	// connection's free streams catches up.)
	if a, n := ts.accepts.Load(), ts.active.Load(); n != a {
		t.Errorf("%d of %d connections ended after handler panics, want none", a-n, a)
	}
}

func TestRequestHeaderMapping(t *testing.T) {
	t.Parallel()
	type seen struct {
		host    string
		cookie  []string
		cookies int
		header  http.Header
	}
	got := make(chan seen, 4)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{host: r.Host, cookie: r.Header["Cookie"], cookies: len(r.Cookies()), header: r.Header.Clone()}
	})})
	rc := handshakeRaw(t, ts)

	// Cookie fields are joined with "; " (RFC 9113 section 8.2.3).
	rc.get(1, "/", "cookie", "a=1", "x-other", "o", "cookie", "b=2", "cookie", "c=3")
	if s := rc.response(1); s.status != 200 {
		t.Fatalf("status %d", s.status)
	}
	s := recv(t, got)
	if len(s.cookie) != 1 || s.cookie[0] != "a=1; b=2; c=3" || s.cookies != 3 {
		t.Errorf("Cookie %q (%d cookies), want one field a=1; b=2; c=3", s.cookie, s.cookies)
	}
	if s.header.Get("X-Other") != "o" {
		t.Errorf("X-Other %q", s.header.Get("X-Other"))
	}

	// No :authority: the Host field is the host.
	rc.headers(3, true, hf(":method", "GET", ":scheme", "http", ":path", "/", "host", "h.example:81"))
	if s := rc.response(3); s.status != 200 {
		t.Fatalf("status %d", s.status)
	}
	if s := recv(t, got); s.host != "h.example:81" {
		t.Errorf("r.Host %q, want the Host field h.example:81", s.host)
	}
}

// The handler's response Content-Length: set on small finished bodies,
// kept when the handler sets it, absent when the body is streamed.
func TestResponseContentLength(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/4096":
			w.Write(make([]byte, 4096))
		case "/4097":
			w.Write(make([]byte, 4097))
		case "/declared":
			w.Header().Set("Content-Length", "10000")
			w.Write(make([]byte, 10000))
		case "/too-long":
			w.Header().Set("Content-Length", "3")
			if _, err := io.WriteString(w, "abcd"); err != http.ErrContentLength {
				t.Errorf("writing beyond Content-Length: %v, want ErrContentLength", err)
			}
		case "/304":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotModified)
		}
	})})
	c, _ := ts.client(t)
	for _, tc := range []struct {
		path string
		cl   string
		n    int
	}{
		{"/4096", "4096", 4096},
		{"/4097", "", 4097},
		{"/declared", "10000", 10000},
		{"/304", "", 0},
	} {
		resp, err := c.Get(ts.url(tc.path))
		if err != nil {
			t.Fatal(err)
		}
		b := readAll(t, resp)
		if got := resp.Header.Get("Content-Length"); got != tc.cl || len(b) != tc.n {
			t.Errorf("%s: Content-Length %q body %d, want %q %d", tc.path, got, len(b), tc.cl, tc.n)
		}
		if tc.path == "/304" && resp.Header.Get("Content-Type") != "" {
			t.Errorf("304 with Content-Type %q", resp.Header.Get("Content-Type"))
		}
	}
	resp, err := c.Get(ts.url("/too-long"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "abc" && len(b) != 0 {
		t.Errorf("too-long: body %q", b)
	}
	_ = strconv.Itoa
}

// Handlers get the server's BaseContext and HTTPServer values.
func TestHandlerContextValues(t *testing.T) {
	t.Parallel()
	type key struct{}
	hs := &http.Server{}
	got := make(chan context.Context, 1)
	ts := startServer(t, Config{
		BaseContext: context.WithValue(context.Background(), key{}, "base"),
		HTTPServer:  hs,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Context()
		}),
	})
	c, _ := ts.client(t)
	resp, err := c.Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	ctx := recv(t, got)
	if ctx.Value(key{}) != "base" {
		t.Errorf("BaseContext value missing")
	}
	if ctx.Value(http.ServerContextKey) != hs {
		t.Errorf("ServerContextKey %v", ctx.Value(http.ServerContextKey))
	}
	select {
	case <-ctx.Done():
	case <-time.After(ioTimeout):
		t.Errorf("request context not canceled after the handler returned")
	}
}

// Response header blocks larger than a frame go out as HEADERS and
// CONTINUATION frames.
func TestLargeResponseHeaders(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("h", 50000)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", big)
		w.Header().Set("Trailer", "X-Big-Trailer")
		io.WriteString(w, "body")
		w.Header().Set("X-Big-Trailer", big)
	})})
	c, _ := ts.client(t)
	resp, err := c.Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, resp)
	if string(b) != "body" || resp.Header.Get("X-Big") != big || resp.Trailer.Get("X-Big-Trailer") != big {
		t.Fatalf("body %q, header %d bytes, trailer %d bytes", b, len(resp.Header.Get("X-Big")), len(resp.Trailer.Get("X-Big-Trailer")))
	}
}
