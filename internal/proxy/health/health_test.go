package health

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for fails, want := range map[uint32]time.Duration{
		0: 0, 1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 3: time.Second,
		7: 16 * time.Second, 8: 30 * time.Second, 9: 30 * time.Second, 1 << 31: 30 * time.Second,
	} {
		if got := Backoff(fails); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", fails, got, want)
		}
	}
}

func TestStateSkipsAFailingEndpointForAGrowingInterval(t *testing.T) {
	var s State
	if s.Skip() {
		t.Fatal("a new endpoint is skipped")
	}
	const ms = int64(time.Millisecond)
	now := int64(1_000_000) * ms
	s.failedAt(now)
	if !s.skipAt(s.until.Load(), now+249*ms) {
		t.Fatal("not skipped 249 ms after a failure")
	}
	// Past the interval: one probe goes through, the others still skip.
	u := s.until.Load()
	if s.skipAt(u, now+250*ms) {
		t.Fatal("no probe once the interval is over")
	}
	if !s.skipAt(s.until.Load(), now+251*ms) {
		t.Fatal("a second request went through while the probe runs")
	}
	// The probe fails: the interval doubles.
	s.failedAt(now + 260*ms)
	if got := time.Duration(s.until.Load() - (now + 260*ms)); got != 500*time.Millisecond {
		t.Fatalf("second interval %v, want 500ms", got)
	}
	// A success makes it healthy at once.
	s.Succeeded()
	if s.Skip() || s.fails.Load() != 0 {
		t.Fatal("still failing after a success")
	}
	s.failedAt(now)
	if got := time.Duration(s.until.Load() - now); got != 250*time.Millisecond {
		t.Fatalf("interval after a success %v, want 250ms again", got)
	}
}

func TestCursor(t *testing.T) {
	skipSet := func(s ...int) func(int) bool {
		return func(i int) bool {
			for _, x := range s {
				if x == i {
					return true
				}
			}
			return false
		}
	}
	walk := func(c Cursor, skip func(int) bool) (got []int) {
		for {
			i, ok := c.Next(skip)
			if !ok {
				return got
			}
			got = append(got, i)
		}
	}
	for _, tc := range []struct {
		name     string
		n, start int
		skip     []int
		want     []int
	}{
		{"healthy", 3, 1, nil, []int{1, 2, 0}},
		{"one failing is skipped", 3, 1, []int{1}, []int{2, 0}},
		{"all failing: the round-robin one is still tried, once", 3, 2, []int{0, 1, 2}, []int{2}},
		{"single endpoint", 1, 0, nil, []int{0}},
		{"single failing endpoint", 1, 0, []int{0}, []int{0}},
		{"start wraps", 2, 5, nil, []int{1, 0}},
	} {
		if got := walk(NewCursor(tc.n, tc.start), skipSet(tc.skip...)); !equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkHealthySkip(b *testing.B) {
	var s State
	for b.Loop() {
		if s.Skip() {
			b.Fatal("skipped")
		}
	}
}
