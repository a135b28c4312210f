package h1

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// errListener fails its first accepts with errs, then accepts for real.
type errListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (l *errListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

// Accept errors other than "closed" (out of descriptors, out of buffers)
// do not end Serve: it backs off and serves the next connection.
func TestServeSurvivesAcceptErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	el := &errListener{Listener: ln}
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ECONNABORTED} {
		el.errs = append(el.errs, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", e)})
	}
	done := make(chan struct{}, 1)
	s := NewServer(Config{
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }),
		ConnDone: func() { done <- struct{}{} },
	})
	served := make(chan error, 1)
	go func() { served <- s.Serve(el) }()
	defer s.Close()

	c, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		select {
		case err := <-served:
			t.Fatalf("Serve returned %v after accept errors", err)
		default:
		}
		t.Fatal(err)
	}
	resp.Body.Close()
	c.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("got %d", resp.StatusCode)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("ConnDone not called when the connection ended")
	}
	s.Close()
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve after Close: %v, want ErrServerClosed", err)
	}
}
