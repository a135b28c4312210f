//go:build linux

package readiness

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pair returns a connected client and the server side, registered.
func pair(t *testing.T) (client net.Conn, server net.Conn, w *Waiter) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	w = Register(server)
	if w == nil {
		t.Fatal("Register returned nil on Linux")
	}
	t.Cleanup(w.Close)
	return client, server, w
}

// waitAsync runs Wait in a goroutine and returns its result channel.
func waitAsync(w *Waiter, deadline time.Time) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- w.Wait(deadline) }()
	return ch
}

func mustRead(t *testing.T, c net.Conn, want string) {
	t.Helper()
	buf := make([]byte, 64)
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != want {
		t.Fatalf("read %q, %v; want %q", buf[:n], err, want)
	}
}

func TestWaitUntilData(t *testing.T) {
	client, server, w := pair(t)
	// Registered: the first Wait returns at once (data may predate it).
	if err := w.Wait(time.Time{}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(client, "a")
	mustRead(t, server, "a")
	for _, msg := range []string{"b", "c"} {
		// The poller may report the data just read after the read: that
		// Wait returns at once (a spurious wake, which the contract
		// allows). Absorb it, then wait for real.
		time.Sleep(20 * time.Millisecond)
		_ = w.Wait(time.Now().Add(10 * time.Millisecond))
		done := waitAsync(w, time.Time{})
		select {
		case err := <-done:
			t.Fatalf("Wait returned %v before any data", err)
		case <-time.After(50 * time.Millisecond):
		}
		io.WriteString(client, msg)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Wait did not return after data arrived")
		}
		mustRead(t, server, msg)
	}
}

// Data that arrives while nobody waits makes the next Wait return at once.
func TestDataBeforeWait(t *testing.T) {
	client, server, w := pair(t)
	_ = w.Wait(time.Time{})
	io.WriteString(client, "x")
	time.Sleep(50 * time.Millisecond) // the poller sees it
	select {
	case err := <-waitAsync(w, time.Time{}):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Wait blocked although data had arrived")
	}
	mustRead(t, server, "x")
}

func TestWaitDeadline(t *testing.T) {
	_, _, w := pair(t)
	_ = w.Wait(time.Time{})
	start := time.Now()
	if err := w.Wait(start.Add(50 * time.Millisecond)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("returned after %v", d)
	}
	// A past deadline times out at once; the Waiter still works after.
	if err := w.Wait(time.Now().Add(-time.Second)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("past deadline: got %v", err)
	}
}

func TestInterrupt(t *testing.T) {
	_, _, w := pair(t)
	_ = w.Wait(time.Time{})
	done := waitAsync(w, time.Time{})
	time.Sleep(20 * time.Millisecond)
	w.Interrupt()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Interrupt did not wake Wait")
	}
	if err := w.Wait(time.Time{}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Wait after Interrupt: %v", err)
	}
	w.Interrupt() // twice is fine
}

// Data and the peer's FIN arrive together: the short read that takes the
// data leaves the EOF, which no later arrival announces. Wait must not
// block on it.
func TestEndAfterData(t *testing.T) {
	client, server, w := pair(t)
	io.WriteString(client, "last words")
	client.Close()
	time.Sleep(50 * time.Millisecond) // both seen by the poller
	if err := w.Wait(time.Time{}); err != nil {
		t.Fatal(err)
	}
	mustRead(t, server, "last words")
	select {
	case err := <-waitAsync(w, time.Time{}):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Wait blocked on a connection whose peer had closed")
	}
	if _, err := server.Read(make([]byte, 8)); err != io.EOF {
		t.Fatalf("read after the end: %v, want EOF", err)
	}
}

func TestNilWaiter(t *testing.T) {
	var w *Waiter
	if err := w.Wait(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	w.Interrupt()
	w.Close()
}

// Many connections waiting at once, each woken by its own data only.
func TestManyWaiters(t *testing.T) {
	const n = 50
	type conn struct {
		client, server net.Conn
		w              *Waiter
		done           <-chan error
	}
	conns := make([]conn, n)
	for i := range conns {
		c, s, w := pair(t)
		_ = w.Wait(time.Time{})
		conns[i] = conn{client: c, server: s, w: w, done: waitAsync(w, time.Now().Add(5*time.Second))}
	}
	for i := 0; i < n; i += 2 {
		io.WriteString(conns[i].client, "y")
	}
	for i, c := range conns {
		if i%2 == 1 {
			continue
		}
		if err := <-c.done; err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		mustRead(t, c.server, "y")
	}
	time.Sleep(20 * time.Millisecond)
	for i, c := range conns {
		if i%2 == 0 {
			continue
		}
		select {
		case err := <-c.done:
			t.Fatalf("conn %d woke without data: %v", i, err)
		default:
		}
		c.w.Interrupt()
		if err := <-c.done; !errors.Is(err, ErrInterrupted) {
			t.Fatalf("conn %d: %v", i, err)
		}
	}
}

func TestWaitIdle(t *testing.T) {
	client, server, w := pair(t)
	_ = w.Wait(time.Time{})
	start := time.Now()
	if err := w.WaitIdle(start.Add(100 * time.Millisecond)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 100*time.Millisecond+3*reapEvery {
		t.Fatalf("timed out after %v", d)
	}
	// Still usable: data wakes it, well before its deadline.
	done := make(chan error, 1)
	go func() { done <- w.WaitIdle(time.Now().Add(time.Minute)) }()
	time.Sleep(20 * time.Millisecond)
	io.WriteString(client, "z")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("WaitIdle did not return after data arrived")
	}
	mustRead(t, server, "z")
	// A precise Wait after a WaitIdle is not cut by the old deadline.
	time.Sleep(20 * time.Millisecond)
	_ = w.Wait(time.Now().Add(10 * time.Millisecond)) // absorbs a late report of "z"
	if err := w.Wait(time.Now().Add(2 * reapEvery)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait: %v, want its own timeout", err)
	}
}

// WaitIdle without a deadline is not cut by the sweep.
func TestWaitIdleNoDeadline(t *testing.T) {
	client, server, w := pair(t)
	_ = w.Wait(time.Time{})
	done := make(chan error, 1)
	go func() { done <- w.WaitIdle(time.Time{}) }()
	select {
	case err := <-done:
		t.Fatalf("returned %v without data or deadline", err)
	case <-time.After(3 * reapEvery):
	}
	io.WriteString(client, "z")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mustRead(t, server, "z")
}
