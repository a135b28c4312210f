package kubernetes

import (
	"context"
	"testing"
	"time"
)

func TestMailboxCoalesces(t *testing.T) {
	m := newMailbox()
	for range 100 {
		m.Poke()
	}
	if !m.Wait(context.Background(), 0) {
		t.Fatal("Wait returned false")
	}
	quiet, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if m.Wait(quiet, 0) {
		t.Error("100 pokes woke the loop more than once")
	}
}

func TestMailboxDebounceAbsorbsTheBurst(t *testing.T) {
	m := newMailbox()
	m.Poke()
	done := make(chan bool)
	go func() { done <- m.Wait(context.Background(), 300*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond) // inside the debounce
	for range 10 {
		m.Poke()
	}
	if !<-done {
		t.Fatal("Wait returned false")
	}
	quiet, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if m.Wait(quiet, 0) {
		t.Error("pokes during the debounce woke the loop again")
	}
}

func TestMailboxWaitEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if newMailbox().Wait(ctx, time.Second) {
		t.Error("Wait returned true on a cancelled context")
	}
}
