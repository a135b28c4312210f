package filter

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

type mirrored struct {
	backend, method, path, header, body string
	ctxErr                              error
}

// recordSender collects mirrored requests.
type recordSender struct {
	mu  sync.Mutex
	got []mirrored
	ch  chan struct{}
}

func newRecordSender() *recordSender { return &recordSender{ch: make(chan struct{}, 100)} }

func (s *recordSender) Mirror(b *ir.Backend, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.got = append(s.got, mirrored{b.Name, r.Method, r.URL.Path, r.Header.Get("X-Mod"), string(body), r.Context().Err()})
	s.mu.Unlock()
	s.ch <- struct{}{}
}

func (s *recordSender) wait(t *testing.T, n int) []mirrored {
	t.Helper()
	for range n {
		select {
		case <-s.ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("mirror not sent")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mirrored(nil), s.got...)
}

// readBackend reads the whole body, as a transport does.
func readBackend(got *string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*got = string(b)
		w.WriteHeader(http.StatusOK)
	})
}

func TestMirrorCopiesModifiedRequestAndBody(t *testing.T) {
	s := newRecordSender()
	f := &ir.HTTPFilters{
		RequestHeaders: &ir.HeaderModifier{Set: []ir.Header{{Name: "X-Mod", Value: "yes"}}},
		Mirrors:        []ir.Mirror{{Backend: ir.Backend{Name: "ns/m1:80"}}, {Backend: ir.Backend{Name: "ns/m2:80"}, Numerator: 1, Denominator: 1}},
	}
	var mainBody string
	h := Chain(f, 80, readBackend(&mainBody), s)
	r := httptest.NewRequest("POST", "/upload", strings.NewReader("payload"))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if mainBody != "payload" {
		t.Errorf("main body %q", mainBody)
	}
	got := s.wait(t, 2)
	names := map[string]bool{}
	for _, m := range got {
		names[m.backend] = true
		if m.method != "POST" || m.path != "/upload" || m.header != "yes" || m.body != "payload" || m.ctxErr != nil {
			t.Errorf("mirrored %+v", m)
		}
	}
	if !names["ns/m1:80"] || !names["ns/m2:80"] {
		t.Errorf("mirrors sent to %v", names)
	}
}

func TestMirrorWithoutBody(t *testing.T) {
	s := newRecordSender()
	var seen seen
	Mirror(&ir.Mirror{Backend: ir.Backend{Name: "m"}}, s)(&seen).ServeHTTP(httptest.NewRecorder(), newReq("GET", "gw", "/x"))
	if got := s.wait(t, 1); got[0].path != "/x" || got[0].body != "" {
		t.Errorf("mirrored %+v", got[0])
	}
}

func TestMirrorSkipped(t *testing.T) {
	big := strings.Repeat("x", MaxMirrorBody+1)
	cases := []struct {
		name string
		m    ir.Mirror
		body string
		read bool
	}{
		{"zero share", ir.Mirror{Numerator: 0, Denominator: 100}, "", true},
		{"body over the cap", ir.Mirror{}, big, true},
		{"body not read to the end", ir.Mirror{}, "abc", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newRecordSender()
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
			if c.name == "body over the cap" {
				r.ContentLength = -1 // chunked: found out while teeing
			}
			var mainBody string
			next := readBackend(&mainBody)
			if !c.read {
				next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
			}
			Mirror(&c.m, s)(next).ServeHTTP(httptest.NewRecorder(), r)
			if c.read && mainBody != c.body {
				t.Errorf("main body changed: %d bytes", len(mainBody))
			}
			select {
			case <-s.ch:
				t.Errorf("mirrored")
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}

func TestMirrorShare(t *testing.T) {
	s := &countSender{}
	h := Mirror(&ir.Mirror{Numerator: 1, Denominator: 4}, s)(http.NotFoundHandler())
	const n = 4000
	for range n {
		h.ServeHTTP(httptest.NewRecorder(), newReq("GET", "gw", "/"))
	}
	// Sends run on their own goroutines: wait until the count settles.
	for last := int64(-1); last != s.n.Load(); time.Sleep(20 * time.Millisecond) {
		last = s.n.Load()
	}
	if got := s.n.Load(); got < n/4-200 || got > n/4+200 {
		t.Errorf("mirrored %d of %d, want about %d", got, n, n/4)
	}
}

type countSender struct{ n atomic.Int64 }

func (s *countSender) Mirror(*ir.Backend, *http.Request) { s.n.Add(1) }
