// Package testhold is a backend for tests that never answers: it records
// each request's arrival (by path) and holds the request until the proxy
// closes its connection (net/http then ends the request's context) or the
// test ends. Active counts the requests held, so a test can tell that
// the proxy closed every upstream connection it abandoned.
package testhold

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Server is a running holding backend.
type Server struct {
	*httptest.Server
	active atomic.Int64
	mu     sync.Mutex
	got    map[string]chan struct{}
}

// Start runs a Server on loopback until t ends. Requests whose path does
// not start with prefix are answered 200 "ok" at once.
func Start(t testing.TB, prefix string) *Server {
	s := &Server{got: map[string]chan struct{}{}}
	end := make(chan struct{})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) < len(prefix) || r.URL.Path[:len(prefix)] != prefix {
			_, _ = io.WriteString(w, "ok")
			return
		}
		s.active.Add(1)
		defer s.active.Add(-1)
		_, _ = io.Copy(io.Discard, r.Body)
		s.arrived(r.URL.Path)
		select {
		case <-r.Context().Done():
		case <-end:
		}
	}))
	t.Cleanup(func() { close(end); s.Close() })
	return s
}

// Arrival returns the channel closed when a request for path arrives
// (again: a retry is the same arrival).
func (s *Server) Arrival(path string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chanLocked(path)
}

// Forget drops the record of path.
func (s *Server) Forget(path string) {
	s.mu.Lock()
	delete(s.got, path)
	s.mu.Unlock()
}

// Active is the number of requests held.
func (s *Server) Active() int64 { return s.active.Load() }

func (s *Server) arrived(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chanLocked(path)
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (s *Server) chanLocked(path string) chan struct{} {
	ch, ok := s.got[path]
	if !ok {
		ch = make(chan struct{})
		s.got[path] = ch
	}
	return ch
}
