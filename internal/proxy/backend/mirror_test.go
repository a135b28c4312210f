package backend

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

// With every slot busy, a copy is dropped at once rather than queued.
func TestMirrorDropsWhenFull(t *testing.T) {
	release := make(chan struct{})
	var seen atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		<-release
	}))
	defer s.Close()
	defer close(release)
	host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	be := &ir.Backend{Name: "ns/mirror:80", Endpoints: []ir.Endpoint{{Address: host, Port: int32(p)}}}

	pool := NewPool(nil)
	defer pool.Close()
	b := pool.NewBuilder()
	lim := NewMirrorLimiter(1, 2*time.Second)
	m := b.NewMirrors(lim)
	b.AddMirror(m, be)

	req := func() *http.Request { r, _ := http.NewRequest("GET", "/copy", nil); return r }
	go m.Mirror(be, req())
	for start := time.Now(); seen.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 2*time.Second {
			t.Fatal("first copy never arrived")
		}
	}
	start := time.Now()
	m.Mirror(be, req()) // no slot: returns at once
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("second copy waited %v", d)
	}
	if seen.Load() != 1 {
		t.Fatalf("backend saw %d copies, want 1", seen.Load())
	}
	// Unknown backends are ignored.
	m.Mirror(&ir.Backend{Name: "ns/unknown:80"}, req())
}
