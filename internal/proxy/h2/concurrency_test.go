package h2

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"portico.dev/portico/internal/proxy/h1"
)

// 120 requests in flight at once on one connection, all answered right.
func TestManyConcurrentStreams(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		const n = 120
		var inflight, peak atomic.Int32
		all := make(chan struct{})
		var once sync.Once
		remotes := sync.Map{}
		ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			remotes.Store(r.RemoteAddr, true)
			if r.URL.Path == "/warmup" {
				return
			}
			cur := inflight.Add(1)
			defer inflight.Add(-1)
			for {
				p := peak.Load()
				if cur <= p || peak.CompareAndSwap(p, cur) {
					break
				}
			}
			if cur == n {
				once.Do(func() { close(all) })
			}
			select {
			case <-all:
			case <-time.After(ioTimeout):
			}
			if r.Method == "POST" {
				b, _ := io.ReadAll(r.Body)
				fmt.Fprintf(w, "%s:%s", r.URL.Path, b)
				return
			}
			fmt.Fprintf(w, "%s", r.URL.Path)
		})}, opts...)
		c, _ := ts.client(t)
		// Open the connection first so every request shares it.
		if resp, err := c.Get(ts.url("/warmup")); err != nil {
			t.Fatal(err)
		} else {
			readAll(t, resp)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := fmt.Sprintf("/r%d", i)
				var resp *http.Response
				var err error
				want := path
				if i%3 == 0 {
					body := fmt.Sprintf("body-%d", i)
					resp, err = c.Post(ts.url(path), "text/plain", stringsReader(body))
					want = path + ":" + body
				} else {
					resp, err = c.Get(ts.url(path))
				}
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil || string(b) != want {
					errs <- fmt.Errorf("%s: got %q, %v", path, b, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if p := peak.Load(); p < n {
			t.Errorf("at most %d handlers ran at once, want %d", p, n)
		}
		count := 0
		remotes.Range(func(any, any) bool { count++; return true })
		if count != 1 {
			t.Errorf("requests came over %d connections, want 1", count)
		}
	})
}

func TestMaxConcurrentStreamsRefused(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 8)
	ts := startServer(t, Config{MaxConcurrentStreams: 2, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			started <- struct{}{}
			select {
			case <-release:
			case <-time.After(ioTimeout):
			}
		}
		io.WriteString(w, r.URL.Path)
	})})
	rc := handshakeRaw(t, ts)
	if v, ok := rc.serverSettings[http2.SettingMaxConcurrentStreams]; !ok || v != 2 {
		t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS %d (%v), want 2", v, ok)
	}
	rc.get(1, "/block")
	rc.get(3, "/block")
	waitCh(t, started, "stream 1")
	waitCh(t, started, "stream 3")
	rc.get(5, "/third")
	rc.expectRST(5, http2.ErrCodeRefusedStream)
	close(release)
	for _, id := range []uint32{1, 3} {
		if s := rc.response(id); s.status != 200 || s.body.String() != "/block" {
			t.Errorf("stream %d: %d %q", id, s.status, s.body.String())
		}
	}
	// Room again: a new stream is served (the refused one stays refused).
	rc.get(7, "/after")
	if s := rc.response(7); s.status != 200 || s.body.String() != "/after" {
		t.Errorf("stream 7: %d %q", s.status, s.body.String())
	}
}

func TestClientResetCancelsHandler(t *testing.T) {
	t.Parallel()
	type result struct {
		ctxErr  error
		readErr error
	}
	started := make(chan struct{}, 2)
	results := make(chan result, 2)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		var res result
		if r.Method == "POST" {
			_, res.readErr = io.ReadAll(r.Body) // blocks: the client sends part of the body
		}
		select {
		case <-r.Context().Done():
			res.ctxErr = r.Context().Err()
		case <-time.After(ioTimeout):
		}
		results <- res
	})})

	t.Run("raw", func(t *testing.T) {
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/", "content-length", "100"))
		rc.data(1, false, []byte("partial"))
		waitCh(t, started, "handler")
		rc.mustWrite(func() error { return rc.fr.WriteRSTStream(1, http2.ErrCodeCancel) })
		res := recv(t, results)
		if res.ctxErr != context.Canceled {
			t.Errorf("handler context error %v, want Canceled", res.ctxErr)
		}
		if res.readErr == nil {
			t.Errorf("body read after client reset: no error")
		}
		// The connection still works.
		rc.get(3, "/")
		recv(t, started)
		rc.mustWrite(func() error { return rc.fr.WriteRSTStream(3, http2.ErrCodeCancel) })
		recv(t, results)
	})
	t.Run("transport", func(t *testing.T) {
		c, _ := ts.client(t)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.url("/"), nil)
		done := make(chan error, 1)
		go func() {
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		waitCh(t, started, "handler")
		cancel()
		if err := recv(t, done); err == nil {
			t.Errorf("canceled request succeeded")
		}
		select {
		case res := <-results:
			if res.ctxErr != context.Canceled {
				t.Errorf("handler context error %v, want Canceled", res.ctxErr)
			}
		case <-time.After(ioTimeout):
			t.Fatal("handler not canceled")
		}
	})
}

// RFC 9113 section 5.4.2: an endpoint MUST NOT send RST_STREAM in response
// to RST_STREAM. Once the client reset a stream, the server sends nothing
// more on it.
func TestNoResetInResponseToReset(t *testing.T) {
	t.Parallel()
	returned := make(chan struct{}, 2)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { returned <- struct{}{} }()
		if r.URL.Path == "/streaming" {
			w.Write(make([]byte, 100))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(ioTimeout):
		}
	})})
	for _, path := range []string{"/waiting", "/streaming"} {
		t.Run(path, func(t *testing.T) {
			rc := handshakeRaw(t, ts)
			rc.get(1, path)
			if path == "/streaming" {
				rc.until("first DATA", func(f http2.Frame) bool { _, ok := f.(*http2.DataFrame); return ok })
			} else {
				time.Sleep(50 * time.Millisecond) // let the handler start
			}
			rc.mustWrite(func() error { return rc.fr.WriteRSTStream(1, http2.ErrCodeCancel) })
			waitCh(t, returned, "handler return")
			time.Sleep(100 * time.Millisecond) // let the stream finish
			for _, f := range rc.ping() {
				if f.Header().StreamID == 1 {
					t.Errorf("after the client's RST_STREAM the server sent %s", frameSummary(f))
				}
			}
		})
	}
}

func TestConnectionCloseCancelsContexts(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 4)
	canceled := make(chan error, 4)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		if r.Method == "POST" {
			if _, err := io.ReadAll(r.Body); err == nil {
				t.Errorf("body read ended without error on a closed connection")
			}
		}
		select {
		case <-r.Context().Done():
			canceled <- r.Context().Err()
		case <-time.After(ioTimeout):
			canceled <- nil
		}
	})})
	rc := handshakeRaw(t, ts)
	rc.get(1, "/a")
	rc.get(3, "/b")
	rc.headers(5, false, reqFields("POST", "/c"))
	for i := 0; i < 3; i++ {
		waitCh(t, started, "handlers")
	}
	rc.nc.Close()
	for i := 0; i < 3; i++ {
		if err := recv(t, canceled); err != context.Canceled {
			t.Errorf("handler context: %v, want Canceled", err)
		}
	}
}

// Stream IDs must be strictly increasing; many short streams in a row on
// one connection (with HPACK state carried over) are all served.
func TestSequentialStreamsOneConnection(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-N"))
	})})
	rc := handshakeRaw(t, ts)
	for i := uint32(0); i < 300; i++ {
		id := 2*i + 1
		n := fmt.Sprint(i)
		rc.get(id, "/", "x-n", n, "x-same", "same-value-for-the-dynamic-table")
		if s := rc.response(id); s.status != 200 || s.body.String() != n {
			t.Fatalf("stream %d: %d %q", id, s.status, s.body.String())
		}
	}
}

func stringsReader(s string) io.Reader { return &stringReader{s: s} }

// stringReader hides its length from http.NewRequest.
type stringReader struct{ s string }

func (r *stringReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// RFC 9113 section 5.1.2: streams the client reset are closed and do not
// count toward SETTINGS_MAX_CONCURRENT_STREAMS, even while their handlers
// are still winding down.
func TestResetStreamsDoNotCountTowardLimit(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 4)
	ts := startServer(t, Config{MaxConcurrentStreams: 2, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-to-stop" {
			started <- struct{}{}
			time.Sleep(500 * time.Millisecond) // ignores cancellation for a while
			return
		}
		io.WriteString(w, "ok")
	})})
	rc := handshakeRaw(t, ts)
	rc.get(1, "/slow-to-stop")
	rc.get(3, "/slow-to-stop")
	waitCh(t, started, "handler 1")
	waitCh(t, started, "handler 3")
	rc.mustWrite(func() error { return rc.fr.WriteRSTStream(1, http2.ErrCodeCancel) })
	rc.mustWrite(func() error { return rc.fr.WriteRSTStream(3, http2.ErrCodeCancel) })
	rc.get(5, "/")
	s := rc.response(5)
	if s.rst {
		t.Fatalf("stream 5 reset with %v while the client had no open stream", s.rstCode)
	}
	if s.status != 200 || s.body.String() != "ok" {
		t.Fatalf("stream 5: %d %q", s.status, s.body.String())
	}
}

// A handler that answers without reading a large request body: the client
// gets the answer, and the unread bytes are given back to the connection's
// window (otherwise the connection stalls after a few such requests).
func TestHandlerIgnoresRequestBody(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/read" {
			n, err := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "read %d %v", n, err)
			return
		}
		if r.URL.Path == "/close" {
			r.Body.Close()
		}
		io.WriteString(w, "early")
	})})
	c, _ := ts.client(t)
	c.Timeout = 3 * time.Second
	body := make([]byte, 2<<20)
	for i := 0; i < 8; i++ {
		for _, path := range []string{"/ignore", "/close"} {
			resp, err := c.Post(ts.url(path), "application/octet-stream", bytesReader(body))
			if err != nil {
				t.Fatalf("%s #%d: %v", path, i, err)
			}
			if b := readAll(t, resp); string(b) != "early" {
				t.Fatalf("%s #%d: %q", path, i, b)
			}
		}
	}
	resp, err := c.Post(ts.url("/read"), "application/octet-stream", bytesReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp); string(b) != fmt.Sprintf("read %d <nil>", len(body)) {
		t.Fatalf("after ignored bodies: %q", b)
	}
	if n := ts.accepts.Load(); n != 1 {
		t.Errorf("%d connections used, want 1", n)
	}
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b: b} }

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// A stream's final frames reach the client even when the connection closes
// right after them (graceful close after a client GOAWAY), while another
// writer (PING answers) shares the connection.
func TestFinalFramesNotLostOnClose(t *testing.T) {
	t.Parallel()
	release := make(chan struct{}, 1)
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(ioTimeout):
		}
		io.WriteString(w, "final")
	})})
	// 300 PINGs in one write: the server reads them all at once (no unread
	// bytes when it closes, so no TCP reset destroys what it sent).
	var pings bytes.Buffer
	pf := http2.NewFramer(&pings, nil)
	for j := 0; j < 300; j++ {
		pf.WritePing(false, [8]byte{byte(j)})
	}
	lost := 0
	const n = 60
	for i := 0; i < n; i++ {
		rc := handshakeRaw(t, ts)
		rc.autoWindow = false
		rc.get(1, "/")
		rc.mustWrite(func() error { return rc.fr.WriteGoAway(1, http2.ErrCodeNo, nil) })
		time.Sleep(time.Millisecond)
		select {
		case release <- struct{}{}:
		case <-time.After(ioTimeout):
			t.Fatal("handler not waiting")
		}
		rc.mustWrite(func() error { _, err := rc.nc.Write(pings.Bytes()); return err })
		s := rc.stream(1)
		acks := 0
		var err error
		for err == nil {
			var f http2.Frame
			f, err = rc.next()
			if p, ok := f.(*http2.PingFrame); ok && p.IsAck() {
				acks++
			}
		}
		if !s.ended || s.body.String() != "final" {
			lost++
			if lost <= 3 {
				t.Logf("iteration %d: connection closed (%v) after %d PING acks, without the answer (status %d)", i, err, acks, s.status)
			}
		}
		rc.nc.Close()
	}
	if lost > 0 {
		t.Errorf("%d of %d answers lost: the server closed the connection with frames still buffered", lost, n)
	}
}

// Request body bytes the server buffered and then discarded because the
// stream was reset (by the client, or for a stream error) are given back to
// the connection's flow-control window: otherwise the connection's window
// shrinks for good, and the client can no longer send any body.
func TestDiscardedBodyReturnsConnectionWindow(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ignore" { // answers without reading its body
			io.WriteString(w, "ignored")
			return
		}
		if r.URL.Path == "/block" { // never reads its body
			select {
			case <-r.Context().Done():
			case <-time.After(ioTimeout):
			}
			return
		}
		n, err := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "read %d %v", n, err)
	})})
	// Below the 1 MiB windows; what is left of them (64 KiB) is less than
	// the quarter window the server waits for before a WINDOW_UPDATE.
	const part = 960 << 10
	check := func(t *testing.T, rc *rawConn, id uint32) {
		t.Helper()
		// Another body of the same size must get through: the server must
		// grant the discarded bytes back with WINDOW_UPDATE.
		rc.headers(id, false, reqFields("POST", "/read"))
		rc.sendBody(id, make([]byte, part), true)
		if s := rc.response(id); s.body.String() != fmt.Sprintf("read %d <nil>", part) {
			t.Fatalf("stream %d: %d %q", id, s.status, s.body.String())
		}
	}
	t.Run("client-reset", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/block"))
		rc.sendBody(1, make([]byte, part), false)
		rc.ping() // the server has buffered it all
		rc.mustWrite(func() error { return rc.fr.WriteRSTStream(1, http2.ErrCodeCancel) })
		check(t, rc, 3)
	})
	t.Run("stream-error", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/block", "content-length", fmt.Sprint(part)))
		rc.sendBody(1, make([]byte, part), false)
		rc.sendBody(1, []byte("beyond content-length"), false)
		rc.expectRST(1, http2.ErrCodeProtocol)
		check(t, rc, 3)
	})
	t.Run("handler-returns", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/ignore"))
		rc.sendBody(1, make([]byte, part), false)
		if s := rc.response(1); s.body.String() != "ignored" {
			t.Fatalf("stream 1: %d %q", s.status, s.body.String())
		}
		rc.ping()
		check(t, rc, 3)
	})
}

// HTTP/2 "rapid reset" (CVE-2023-44487): a client that opens streams and
// resets them at once must not get more handlers (or upstream requests)
// running at the same time than SETTINGS_MAX_CONCURRENT_STREAMS allows, even
// though reset streams no longer count for the protocol's limit. (net/http
// queues the handlers beyond the limit and ends the connection with
// ENHANCE_YOUR_CALM when too many pile up.)
func TestRapidResetBounded(t *testing.T) {
	t.Parallel()
	const limit = 8
	const streams = 100
	var running, peak atomic.Int32
	enter := func() {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
	}
	up := startUpstream(t, func(r *upRequest) (string, bool) {
		enter()
		defer running.Add(-1)
		time.Sleep(300 * time.Millisecond)
		return okAnswer("slow"), false
	})
	rt := fixedRoute(t, up.addr, nil, nil, 0, 0)
	ts := startServer(t, Config{MaxConcurrentStreams: limit, Handler: routed{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			enter()
			defer running.Add(-1)
			time.Sleep(300 * time.Millisecond) // ignores the cancellation
		}),
		route: func(r *Request) *h1.Route {
			if r.Path() == "/fast" {
				return rt
			}
			return nil
		},
	}})
	for _, path := range []string{"/handler", "/fast"} {
		t.Run(path, func(t *testing.T) {
			peak.Store(0)
			rc := handshakeRaw(t, ts)
			var batch bytes.Buffer
			fr := http2.NewFramer(&batch, nil)
			for i := uint32(0); i < streams; i++ {
				id := 2*i + 1
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.encode(reqFields("GET", path)), EndStream: true, EndHeaders: true})
				fr.WriteRSTStream(id, http2.ErrCodeCancel)
			}
			rc.mustWrite(func() error { _, err := rc.nc.Write(batch.Bytes()); return err })
			// Let the server take it all in (or give up on the connection).
			deadline := time.Now().Add(250 * time.Millisecond)
			for time.Now().Before(deadline) && rc.goAway == nil {
				if _, err := rc.nextWithin(time.Until(deadline)); err != nil {
					break
				}
			}
			if p := peak.Load(); p > limit {
				t.Errorf("%d %s requests ran at once for %d streams opened and reset at once, SETTINGS_MAX_CONCURRENT_STREAMS %d", p, path, streams, limit)
			}
			rc.nc.Close()
			eventually(t, "requests to end", func() bool { return running.Load() == 0 })
		})
	}
}
