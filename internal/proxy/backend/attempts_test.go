package backend

import (
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

func TestBackoffDoublesWithJitterAndCap(t *testing.T) {
	a := newAttempts(nil, Policy{Retry: &ir.Retry{Attempts: 5, Backoff: ir.Duration(100 * time.Millisecond)}}, nil)
	for n, want := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		want *= time.Millisecond
		for range 50 {
			if d := a.delay(n); d < want/2 || d > want {
				t.Fatalf("delay(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if d := a.delay(100); d > time.Second {
		t.Fatalf("delay(100) = %v overflowed the cap", d)
	}
}

func TestDefaultBackoff(t *testing.T) {
	a := newAttempts(nil, Policy{Retry: &ir.Retry{Attempts: 1}}, nil)
	if a.backoff != defaultBackoff {
		t.Fatalf("backoff %v, want %v", a.backoff, defaultBackoff)
	}
	if a := newAttempts(nil, Policy{Retry: &ir.Retry{Attempts: 0, Codes: []int{500}}}, nil); a.retries != 0 || a.codes.has(500) {
		t.Fatal("zero attempts must not retry")
	}
}

func TestCodeSet(t *testing.T) {
	var s codeSet
	for _, c := range []int{500, 502, 599, 100} {
		s.add(c)
	}
	s.add(-1)
	s.add(1000)
	for c, want := range map[int]bool{500: true, 502: true, 599: true, 100: true, 501: false, 200: false, -1: false, 1000: false} {
		if s.has(c) != want {
			t.Errorf("has(%d) = %v, want %v", c, !want, want)
		}
	}
}
