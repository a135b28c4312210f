package h2

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// eventually polls cond for up to ioTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func slowServer(t *testing.T, cfg Config, opts ...serverOpt) (ts *testServer, started chan struct{}, release chan struct{}) {
	started, release = make(chan struct{}, 16), make(chan struct{})
	cfg.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			case <-time.After(ioTimeout):
				t.Errorf("slow handler never released")
			}
			io.WriteString(w, "slow done ")
			w.Write(make([]byte, 100000)) // more than one window's worth
			return
		}
		io.WriteString(w, "quick")
	})
	return startServer(t, cfg, opts...), started, release
}

func TestShutdownGraceful(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		ts, started, release := slowServer(t, Config{}, opts...)
		rc := handshakeRaw(t, ts)
		rc.get(1, "/slow")
		waitCh(t, started, "slow handler")

		shutdownErr := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*ioTimeout)
			defer cancel()
			shutdownErr <- ts.Shutdown(ctx)
		}()
		g := rc.until("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }).(*http2.GoAwayFrame)
		if g.ErrCode != http2.ErrCodeNo {
			t.Fatalf("GOAWAY %v, want NO_ERROR", g.ErrCode)
		}
		if g.LastStreamID < 1 {
			t.Errorf("GOAWAY last stream %d: stream 1 is being served", g.LastStreamID)
		}
		select {
		case err := <-shutdownErr:
			t.Fatalf("Shutdown returned %v with a stream in flight", err)
		case <-time.After(50 * time.Millisecond):
		}

		// A new stream after the GOAWAY is refused (not processed).
		rc.get(3, "/quick")
		for {
			f, err := rc.next()
			if err != nil {
				t.Fatalf("waiting for stream 3's refusal: %v", err)
			}
			if g, ok := f.(*http2.GoAwayFrame); ok {
				if g.ErrCode != http2.ErrCodeNo || g.LastStreamID >= 3 {
					t.Fatalf("second GOAWAY(%v, last %d)", g.ErrCode, g.LastStreamID)
				}
				continue
			}
			if h, ok := f.(*http2.MetaHeadersFrame); ok && h.StreamID == 3 {
				t.Fatalf("stream 3 opened after GOAWAY was served: %v", h.Fields)
			}
			if rst, ok := f.(*http2.RSTStreamFrame); ok && rst.StreamID == 3 {
				if rst.ErrCode != http2.ErrCodeRefusedStream {
					t.Fatalf("stream 3 reset with %v, want REFUSED_STREAM", rst.ErrCode)
				}
				break
			}
		}

		// The stream in flight completes, in full.
		close(release)
		s := rc.response(1)
		if s.status != 200 || !s.ended || !strings.HasPrefix(s.body.String(), "slow done ") || s.body.Len() != 100010 {
			t.Fatalf("in-flight stream: %d, ended %v, %d bytes, rst %v", s.status, s.ended, s.body.Len(), s.rst)
		}
		rc.expectClosed()
		select {
		case err := <-shutdownErr:
			if err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		case <-time.After(ioTimeout):
			t.Fatal("Shutdown did not return after the connection closed")
		}
		eventually(t, "ServeConn to return", func() bool { return ts.active.Load() == 0 })
	})
}

func TestShutdownWithTransport(t *testing.T) {
	t.Parallel()
	ts, started, release := slowServer(t, Config{})
	c, _ := ts.client(t)
	type result struct {
		body []byte
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := c.Get(ts.url("/slow"))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{b, err}
	}()
	waitCh(t, started, "slow handler")
	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- ts.Shutdown(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	r := recv(t, res)
	if r.err != nil || len(r.body) != 100010 {
		t.Fatalf("in-flight request: %d bytes, %v", len(r.body), r.err)
	}
	select {
	case err := <-shutdownErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Shutdown did not return")
	}
}

func TestShutdownIdleConnection(t *testing.T) {
	t.Parallel()
	ts, _, _ := slowServer(t, Config{})
	rc := handshakeRaw(t, ts)
	works := func() {
		rc.get(1, "/")
		if s := rc.response(1); s.body.String() != "quick" {
			t.Fatalf("%q", s.body.String())
		}
	}
	works()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		done <- ts.Shutdown(ctx)
	}()
	rc.expectGoAway(http2.ErrCodeNo)
	rc.expectClosed() // after the closing PING, which rc acknowledges
	if err := recv(t, done); err != nil {
		t.Fatal(err)
	}
	// A client that answers PINGs is let go at once, not after the linger.
	if d := time.Since(start); d > goAwayLinger/2 {
		t.Errorf("Shutdown of an idle connection took %v", d)
	}

	// New connections are closed at once.
	rc2 := newRaw(t, ts.dial(t))
	rc2.write(func() error { _, err := io.WriteString(rc2.nc, http2.ClientPreface); return err })
	rc2.write(func() error { return rc2.fr.WriteSettings() })
	rc2.expectClosed()
	if rc2.gotSettings {
		t.Errorf("a connection accepted after Shutdown got the server's SETTINGS")
	}
}

// A request that crosses the graceful GOAWAY (sent before the client read
// it) is refused, not lost to a reset socket: the connection stays open
// until the client acknowledges the PING that follows the GOAWAY, then
// ends with a clean close.
func TestGoAwayCrossingRequestRefused(t *testing.T) {
	t.Parallel()
	ts, _, _ := slowServer(t, Config{IdleTimeout: 200 * time.Millisecond})
	rc := handshakeRaw(t, ts)
	rc.noPingAck = true
	rc.get(1, "/")
	if s := rc.response(1); s.body.String() != "quick" {
		t.Fatalf("stream 1: %d %q", s.status, s.body.String())
	}
	if g := rc.expectGoAway(http2.ErrCodeNo); g.LastStreamID != 1 { // the idle timeout's
		t.Fatalf("GOAWAY last stream %d, want 1", g.LastStreamID)
	}
	rc.get(3, "/") // as a client sends it before reading the GOAWAY
	var ping []byte
	refused := false
	for ping == nil || !refused {
		f, err := rc.next()
		if err != nil {
			t.Fatalf("waiting for the PING and stream 3's refusal: %v (ping %q, refused %v)", err, ping, refused)
		}
		switch f := f.(type) {
		case *http2.PingFrame:
			if !f.IsAck() {
				ping = append([]byte(nil), f.Data[:]...)
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == 3 {
				if f.ErrCode != http2.ErrCodeRefusedStream {
					t.Fatalf("stream 3 reset with %v, want REFUSED_STREAM", f.ErrCode)
				}
				refused = true
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == 3 {
				t.Fatalf("stream 3 served after the GOAWAY: %v", f.Fields)
			}
		}
	}
	acked := time.Now()
	rc.mustWrite(func() error { return rc.fr.WritePing(true, [8]byte(ping)) })
	_ = rc.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	if f, err := rc.fr.ReadFrame(); err != io.EOF {
		t.Fatalf("after the PING ack: frame %v, error %v; want a clean close (EOF)", f, err)
	}
	if d := time.Since(acked); d > goAwayLinger/2 {
		t.Errorf("closed %v after the ack, want at once", d)
	}
}

// A client that never answers the closing PING is closed after
// goAwayLinger.
func TestGoAwayLingerBounded(t *testing.T) {
	t.Parallel()
	ts, _, _ := slowServer(t, Config{IdleTimeout: 100 * time.Millisecond})
	rc := handshakeRaw(t, ts)
	rc.noPingAck = true
	rc.expectGoAway(http2.ErrCodeNo)
	start := time.Now()
	rc.expectClosed()
	if d := time.Since(start); d < goAwayLinger*3/4 || d > 3*goAwayLinger {
		t.Errorf("closed %v after the GOAWAY, want about %v", d, goAwayLinger)
	}
}

// A connection whose client has not sent its preface yet does not hold
// Shutdown up.
func TestShutdownBeforePreface(t *testing.T) {
	t.Parallel()
	ts, _, _ := slowServer(t, Config{})
	nc := ts.dial(t)
	eventually(t, "ServeConn", func() bool { return ts.active.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(ioTimeout))
	b, _ := io.ReadAll(nc)
	_ = b
}

func TestShutdownContextExpires(t *testing.T) {
	t.Parallel()
	ts, started, _ := slowServer(t, Config{})
	rc := handshakeRaw(t, ts)
	rc.get(1, "/slow")
	waitCh(t, started, "slow handler")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
	ts.Close()
	rc.expectClosed()
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	// Requests every idle/5 keep a connection in use with room for a
	// loaded machine's delays.
	const idle = 500 * time.Millisecond
	ts, _, _ := slowServer(t, Config{IdleTimeout: idle})

	t.Run("never-used", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		rc := handshakeRaw(t, ts)
		rc.expectGoAway(http2.ErrCodeNo)
		rc.expectClosed()
		if d := time.Since(start); d < idle-20*time.Millisecond || d > 10*idle {
			t.Errorf("closed after %v, IdleTimeout %v", d, idle)
		}
	})
	t.Run("after-requests", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		// Requests every idle/5 keep it open past the timeout.
		var id uint32 = 1
		start := time.Now()
		var idleSince time.Time
		for {
			rc.get(id, "/")
			if s := rc.response(id); s.body.String() != "quick" {
				t.Fatalf("stream %d: %d %q", id, s.status, s.body.String())
			}
			idleSince = time.Now()
			if rc.goAway != nil {
				t.Fatalf("GOAWAY(%v) on a connection in use", rc.goAway.ErrCode)
			}
			if time.Since(start) > 3*idle {
				break
			}
			id += 2
			time.Sleep(idle / 5)
		}
		last := id
		g := rc.expectGoAway(http2.ErrCodeNo)
		rc.expectClosed()
		if d := time.Since(idleSince); d < idle-20*time.Millisecond {
			t.Errorf("closed %v after the last stream, IdleTimeout %v", d, idle)
		}
		if g.LastStreamID != last {
			t.Errorf("GOAWAY last stream %d, want %d", g.LastStreamID, last)
		}
	})
	t.Run("goaway-last-stream-id", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		for _, id := range []uint32{1, 3} {
			rc.get(id, "/")
			if s := rc.response(id); s.body.String() != "quick" {
				t.Fatalf("stream %d: %d %q", id, s.status, s.body.String())
			}
		}
		g := rc.expectGoAway(http2.ErrCodeNo)
		// RFC 9113 section 6.8: the last stream ID is the highest the
		// server may have acted on (3 here), not 0, which tells the client
		// no stream was processed.
		if g.LastStreamID != 3 {
			t.Errorf("idle GOAWAY last stream ID %d, want 3 (the last stream processed)", g.LastStreamID)
		}
	})
}

// IdleTimeout closes connections without streams; a stream that takes
// longer than IdleTimeout to answer is not cut.
func TestIdleTimeoutSparesActiveStreams(t *testing.T) {
	t.Parallel()
	const idle = 300 * time.Millisecond
	ts := startServer(t, Config{IdleTimeout: idle, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/late":
			time.Sleep(2 * idle)
			io.WriteString(w, "late")
		case "/trickle":
			for i := 0; i < 5; i++ {
				io.WriteString(w, "x")
				w.(http.Flusher).Flush()
				time.Sleep(idle / 5)
			}
		}
	})})
	for _, tc := range []struct{ path, body string }{{"/late", "late"}, {"/trickle", "xxxxx"}} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			rc := handshakeRaw(t, ts)
			rc.get(1, tc.path)
			s := rc.stream(1)
			for !s.done() {
				if _, err := rc.next(); err != nil {
					t.Fatalf("stream %s cut after %q: %v (GOAWAY %v)", tc.path, s.body.String(), err, rc.goAway)
				}
			}
			if s.status != 200 || s.body.String() != tc.body || !s.ended {
				t.Fatalf("%d %q ended %v rst %v", s.status, s.body.String(), s.ended, s.rst)
			}
		})
	}
}

func TestPrefaceTimeout(t *testing.T) {
	t.Parallel()
	ts, _, _ := slowServer(t, Config{PrefaceTimeout: 200 * time.Millisecond})
	nc := ts.dial(t)
	start := time.Now()
	nc.SetReadDeadline(time.Now().Add(ioTimeout))
	io.ReadAll(nc)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("connection without preface closed after %v", d)
	}
}

func TestCloseClosesEverything(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		ts, started, _ := slowServer(t, Config{}, opts...)
		busy1, busy2, idle := handshakeRaw(t, ts), handshakeRaw(t, ts), handshakeRaw(t, ts)
		busy1.get(1, "/slow")
		busy2.get(1, "/slow")
		busy2.get(3, "/slow")
		for i := 0; i < 3; i++ {
			waitCh(t, started, "handlers")
		}
		ts.Close()
		for _, rc := range []*rawConn{busy1, busy2, idle} {
			rc.expectClosed()
		}
		eventually(t, "every ServeConn to return", func() bool { return ts.active.Load() == 0 })
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown after Close: %v", err)
		}
	})
}

// A client that stops reading (its TCP window full) must not hold up
// Shutdown past its context, nor Close: both have to reach the other
// connections and return.
func TestShutdownNotBlockedByStuckClient(t *testing.T) {
	t.Parallel()
	const idle = 4 * time.Second // the write deadline that eventually frees a stuck write
	writing := make(chan struct{}, 1)
	ts := startServer(t, Config{IdleTimeout: idle, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		for i := 0; i < 256; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if i == 0 {
				writing <- struct{}{}
			}
		}
	})})
	stuck := handshakeRaw(t, ts, http2.Setting{ID: http2.SettingInitialWindowSize, Val: maxWindow})
	stuck.mustWrite(func() error { return stuck.fr.WriteWindowUpdate(0, maxWindow-defaultWindow) })
	stuck.get(1, "/flood")
	waitCh(t, writing, "handler writing")
	time.Sleep(300 * time.Millisecond) // the socket buffers fill up; the server's write blocks
	other := handshakeRaw(t, ts)

	start := time.Now()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		done <- ts.Shutdown(ctx)
	}()
	select {
	case err := <-done:
		if err != context.DeadlineExceeded {
			t.Errorf("Shutdown: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Shutdown returned after %v, its context expired after 200ms", d)
		}
	case <-time.After(2 * idle):
		t.Fatal("Shutdown never returned")
	}
	closed := make(chan struct{})
	start = time.Now()
	go func() { ts.Close(); close(closed) }()
	select {
	case <-closed:
		if d := time.Since(start); d > time.Second {
			t.Errorf("Close took %v", d)
		}
	case <-time.After(2 * idle):
		t.Fatal("Close never returned")
	}
	other.expectClosed()
	stuck.nc.Close()
}
