package h1

import (
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// DisableReadiness keeps client connections (Config) and upstream
// connections (PoolOptions) off package readiness; by default both are on
// it where epoll exists. The switch is an option: nothing reads the
// environment.
func TestDisableReadiness(t *testing.T) {
	t.Setenv("PORTICO_READINESS", "off") // ignored: only the CLI reads it
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	accept := func() net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			t.Cleanup(func() { c.Close() })
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	for _, disabled := range []bool{false, true} {
		wantWaiter := !disabled && runtime.GOOS == "linux"

		s := NewServer(Config{Handler: http.NotFoundHandler(), DisableReadiness: disabled})
		client, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c := newConn(s, accept())
		if got := c.wait != nil; got != wantWaiter {
			t.Errorf("DisableReadiness %v: client connection registered %v, want %v", disabled, got, wantWaiter)
		}
		c.wait.Close()
		client.Close()

		uc, err := NewPool(PoolOptions{DisableReadiness: disabled}).Endpoint(ln.Addr().String()).get(time.Time{}, true, true)
		if err != nil {
			t.Fatal(err)
		}
		accept()
		if got := uc.wait != nil; got != wantWaiter {
			t.Errorf("DisableReadiness %v: upstream connection registered %v, want %v", disabled, got, wantWaiter)
		}
		uc.close()
	}
}
