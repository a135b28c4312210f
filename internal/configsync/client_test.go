package configsync

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

// controller serves a Server (or any handler) on a fixed loopback address,
// so that a test can stop it and start another one in its place.
type controller struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

func startController(t *testing.T, addr string, h http.Handler) *controller {
	t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	c := &controller{addr: ln.Addr().String(), srv: &http.Server{Handler: h}, done: make(chan struct{})}
	go func() { _ = c.srv.Serve(ln); close(c.done) }()
	t.Cleanup(c.stop)
	return c
}

// stop closes the listener and every connection, polls included.
func (c *controller) stop() {
	_ = c.srv.Close()
	<-c.done
}

// fakeProxy records what the client applies and answers with ack.
type fakeProxy struct {
	mu      sync.Mutex
	applied []ir.Config
	refuse  string // when set, every apply is refused with it
}

func (f *fakeProxy) apply(cfg *ir.Config) ir.Ack {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, *cfg)
	if f.refuse != "" {
		return ir.Ack{Version: cfg.Version, Error: f.refuse}
	}
	return ir.Ack{Version: cfg.Version, ListenerErrors: map[string]string{cfg.Listeners[0].Name: "fake"}}
}

func (f *fakeProxy) versions() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []uint64
	for _, c := range f.applied {
		out = append(out, c.Version)
	}
	return out
}

// runClient runs a Client of gw against addr until the test ends.
func runClient(t *testing.T, addr, token string, f *fakeProxy) *Client {
	t.Helper()
	c := &Client{
		URL: "http://" + addr, Gateway: gw, ProxyID: "p1", Token: token,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		PollTimeout: 5 * time.Second,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, f.apply) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5s of cancel")
		}
	})
	return c
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ackedVersion(s *Server, version uint64) func() bool {
	return func() bool {
		a := s.Ack(gw)
		return a != nil && a.Version == version
	}
}

func newSyncServer(token string) *Server {
	s := NewServer(nil)
	s.PollTimeout = 100 * time.Millisecond
	s.Token = token
	return s
}

func TestClientAppliesAndAcks(t *testing.T) {
	s := newSyncServer("")
	s.Publish(gw, cfgPort(80))
	v1 := latest(t, s)
	ctl := startController(t, "127.0.0.1:0", s.Handler())
	f := &fakeProxy{}
	c := runClient(t, ctl.addr, "", f)
	waitFor(t, "the ack of the first version", ackedVersion(s, v1))
	if !c.Ready() {
		t.Error("Ready() = false after an applied config")
	}
	if a := s.Ack(gw); a.ListenerErrors[":80"] != "fake" {
		t.Errorf("ack listener errors: %+v", a)
	}
	s.Publish(gw, cfgPort(81))
	v2 := latest(t, s)
	waitFor(t, "the ack of the second version", ackedVersion(s, v2))
	if got := f.versions(); len(got) != 2 || got[0] != v1 || got[1] != v2 {
		t.Errorf("applied versions %v, want [%d %d]", got, v1, v2)
	}
}

func TestClientNackDoesNotLoop(t *testing.T) {
	s := newSyncServer("")
	s.Publish(gw, cfgPort(80))
	v1 := latest(t, s)
	ctl := startController(t, "127.0.0.1:0", s.Handler())
	f := &fakeProxy{refuse: "bad config"}
	c := runClient(t, ctl.addr, "", f)
	waitFor(t, "the nack", func() bool { a := s.Ack(gw); return a != nil && a.Error == "bad config" && a.Version == v1 })
	time.Sleep(350 * time.Millisecond) // a few poll timeouts
	if got := f.versions(); len(got) != 1 {
		t.Errorf("a refused version was applied %d times (%v), want once", len(got), got)
	}
	if c.Ready() {
		t.Error("Ready() = true though nothing was accepted")
	}
	f.mu.Lock()
	f.refuse = ""
	f.mu.Unlock()
	s.Publish(gw, cfgPort(81))
	waitFor(t, "the ack of the fixed version", ackedVersion(s, latest(t, s)))
	if !c.Ready() {
		t.Error("Ready() = false after an accepted config")
	}
}

func TestClientSurvivesControllerRestart(t *testing.T) {
	s1 := newSyncServer("")
	s1.Publish(gw, cfgPort(80))
	v1 := latest(t, s1)
	ctl := startController(t, "127.0.0.1:0", s1.Handler())
	f := &fakeProxy{}
	runClient(t, ctl.addr, "", f)
	waitFor(t, "the ack of the first version", ackedVersion(s1, v1))

	// The controller restarts: a new Server in its place, which has not
	// computed anything yet. The proxy tells it what it serves.
	ctl.stop()
	time.Sleep(100 * time.Millisecond) // the proxy finds nobody for a while
	s2 := newSyncServer("")
	startController(t, ctl.addr, s2.Handler())
	waitFor(t, "the ack of the served version, sent again", func() bool {
		p := s2.Proxies(gw)
		return len(p) == 1 && p[0].ID == "p1" && p[0].Version == v1
	})
	if got := f.versions(); len(got) != 1 {
		t.Fatalf("applied %v while the controller restarted, want only [%d]", got, v1)
	}

	// The restarted controller publishes the same config: a higher
	// version, applied and acked.
	s2.Publish(gw, cfgPort(80))
	v2 := latest(t, s2)
	if v2 <= v1 {
		t.Fatalf("restarted controller's version %d not above %d", v2, v1)
	}
	waitFor(t, "the ack of the restarted controller's version", ackedVersion(s2, v2))
	if got := f.versions(); len(got) != 2 || got[1] != v2 {
		t.Errorf("applied %v, want [%d %d]", got, v1, v2)
	}
}

func TestClientKeepsConfigWhileControllerAway(t *testing.T) {
	s := newSyncServer("")
	s.Publish(gw, cfgPort(80))
	v1 := latest(t, s)
	ctl := startController(t, "127.0.0.1:0", s.Handler())
	f := &fakeProxy{}
	c := runClient(t, ctl.addr, "", f)
	waitFor(t, "the first ack", ackedVersion(s, v1))

	// Away: first nobody listens, then something answers 503.
	ctl.stop()
	time.Sleep(200 * time.Millisecond)
	var requests atomic.Int32
	startController(t, ctl.addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "controller starting", http.StatusServiceUnavailable)
	}))
	waitFor(t, "the client to retry", func() bool { return requests.Load() >= 3 })
	if got := f.versions(); len(got) != 1 || got[0] != v1 {
		t.Errorf("applied %v while the controller was away, want only [%d]", got, v1)
	}
	if !c.Ready() {
		t.Error("Ready() = false while serving the last config")
	}
}

func TestClientToken(t *testing.T) {
	s := newSyncServer("s3cret")
	s.Publish(gw, cfgPort(80))
	ctl := startController(t, "127.0.0.1:0", s.Handler())
	denied := &fakeProxy{}
	runClient(t, ctl.addr, "wrong", denied)
	f := &fakeProxy{}
	runClient(t, ctl.addr, "s3cret", f)
	waitFor(t, "the ack with the token", ackedVersion(s, latest(t, s)))
	if got := denied.versions(); len(got) != 0 {
		t.Errorf("a client with the wrong token applied %v", got)
	}
}

func TestClientRejectsBadFields(t *testing.T) {
	for _, c := range []*Client{
		{URL: "localhost:80", Gateway: gw, ProxyID: "p"},
		{URL: "http://127.0.0.1:1", Gateway: "gw", ProxyID: "p"},
		{URL: "http://127.0.0.1:1", Gateway: gw},
	} {
		if err := c.Run(context.Background(), nil); err == nil {
			t.Errorf("Run(%+v): no error", c)
		}
	}
	// And a canceled context ends Run with nil.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &Client{URL: "http://127.0.0.1:1", Gateway: gw, ProxyID: "p"}
	if err := c.Run(ctx, nil); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a canceled context: %v", err)
	}
}

func TestBackoffIsCappedWithJitter(t *testing.T) {
	c := &Client{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for n := 1; n < 100; n++ {
		want := min(100*time.Millisecond<<min(n-1, 20), time.Second)
		if d := c.backoff(n); d < want/2 || d > want {
			t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, want/2, want)
		}
	}
}

func TestClientNotStuckOnRejectedAcks(t *testing.T) {
	s := newSyncServer("")
	s.Publish(gw, cfgPort(80))
	h := s.Handler()
	var rejected atomic.Int32
	ctl := startController(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			rejected.Add(1)
			http.Error(w, "ack endpoint broken", http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	}))
	f := &fakeProxy{}
	runClient(t, ctl.addr, "", f)
	waitFor(t, "the first version applied", func() bool { return len(f.versions()) == 1 })
	s.Publish(gw, cfgPort(81))
	v2 := latest(t, s)
	waitFor(t, "the second version applied", func() bool { v := f.versions(); return len(v) == 2 && v[1] == v2 })
	if rejected.Load() < 2 {
		t.Errorf("%d acks tried, want at least 2", rejected.Load())
	}
}
