//go:build linux

package readiness

import (
	"net"
	"testing"
	"time"
)

// hookPair returns a connected client and server side, the server side
// registered with h (data: whether arrivals are watched too).
func hookPair(t *testing.T, h Hooks, data bool) (client, server net.Conn, w *Waiter) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	if w = RegisterHooks(server, h, data); w == nil {
		t.Fatal("RegisterHooks returned nil on Linux")
	}
	t.Cleanup(w.Close)
	return client, server, w
}

func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

func TestOnHangup(t *testing.T) {
	for _, data := range []bool{true, false} {
		hung := make(chan struct{}, 2)
		client, _, _ := hookPair(t, Hooks{OnHangup: func() { hung <- struct{}{} }}, data)
		client.Write([]byte("x")) // data alone is no hang-up
		select {
		case <-hung:
			t.Fatalf("data=%v: OnHangup ran before the peer closed", data)
		case <-time.After(50 * time.Millisecond):
		}
		client.Close()
		within(t, hung, "OnHangup after the peer closed")
		select {
		case <-hung:
			t.Fatalf("data=%v: OnHangup ran twice", data)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestArmExpires(t *testing.T) {
	expired := make(chan struct{}, 2)
	_, _, w := hookPair(t, Hooks{OnExpire: func() { expired <- struct{}{} }}, true)
	w.Arm(10 * time.Millisecond)
	within(t, expired, "OnExpire after the armed deadline")
	if w.Disarm() {
		t.Error("Disarm reported a running deadline after it expired")
	}
	// Disarmed in time, it never fires.
	w.Arm(time.Hour)
	if !w.Disarm() {
		t.Error("Disarm reported an expiry an hour early")
	}
	w.Arm(2 * reapEvery)
	if !w.Disarm() {
		t.Error("Disarm right after Arm reported an expiry")
	}
	select {
	case <-expired:
		t.Fatal("OnExpire ran for a disarmed deadline")
	case <-time.After(4 * reapEvery):
	}
}
