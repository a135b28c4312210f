package runloop

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func signal(d Debounce) *Mailbox[struct{}] { return NewMailbox[struct{}](d, nil) }

// quiet reports whether Wait takes nothing for a while.
func quiet[T any](t *testing.T, m *Mailbox[T]) bool {
	t.Helper()
	ctx, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	_, ok := m.Wait(ctx)
	return !ok
}

func mustWait[T any](t *testing.T, m *Mailbox[T]) T {
	t.Helper()
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	v, ok := m.Wait(ctx)
	if !ok {
		t.Fatal("Wait took nothing")
	}
	return v
}

func TestMailboxCoalesces(t *testing.T) {
	m := signal(Debounce{})
	for range 100 {
		m.Post(struct{}{})
	}
	mustWait(t, m)
	if !quiet(t, m) {
		t.Error("100 posts woke the loop more than once")
	}
}

func TestMailboxMergesOrKeepsTheNewest(t *testing.T) {
	newest := NewMailbox[int](Debounce{}, nil)
	sum := NewMailbox(Debounce{}, func(a, b int) int { return a + b })
	for i := 1; i <= 4; i++ {
		newest.Post(i)
		sum.Post(i)
	}
	if v := mustWait(t, newest); v != 4 {
		t.Errorf("without merge: %d, want the newest, 4", v)
	}
	if v := mustWait(t, sum); v != 10 {
		t.Errorf("merged: %d, want 10", v)
	}
}

func TestWindowAbsorbsTheBurst(t *testing.T) {
	m := signal(Window(300 * time.Millisecond))
	m.Post(struct{}{})
	done := make(chan bool)
	go func() {
		_, ok := m.Wait(context.Background())
		done <- ok
	}()
	time.Sleep(50 * time.Millisecond) // inside the window
	for range 10 {
		m.Post(struct{}{})
	}
	if !<-done {
		t.Fatal("Wait returned false")
	}
	if !quiet(t, m) {
		t.Error("posts during the window woke the loop again")
	}
}

// A window is not extended by the posts in it: a steady stream of posts
// is taken about every window, not never.
func TestWindowIsNotExtendedByPosts(t *testing.T) {
	m := signal(Window(200 * time.Millisecond))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				m.Post(struct{}{})
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	mustWait(t, m)
	mustWait(t, m) // within 20 s although posts never stop
}

// Settle waits for the burst to end: posts keep pushing the take back.
func TestSettleWaitsForTheBurstToEnd(t *testing.T) {
	const quietFor = 300 * time.Millisecond
	m := signal(Settle(quietFor))
	start := time.Now()
	var last time.Time
	for range 5 {
		m.Post(struct{}{})
		last = time.Now()
		time.Sleep(100 * time.Millisecond)
	}
	mustWait(t, m)
	if took := time.Since(last); took < quietFor {
		t.Errorf("taken %v after the last post, want at least %v (burst began %v before)", took, quietFor, time.Since(start))
	}
	if !quiet(t, m) {
		t.Error("the burst was taken twice")
	}
}

// PostNow is taken at once, and leaves a settling burst to settle.
func TestPostNowSkipsTheDebounceAlone(t *testing.T) {
	type work struct{ slow, now bool }
	m := NewMailbox(Settle(time.Hour), func(a, b work) work { return work{a.slow || b.slow, a.now || b.now} })
	m.Post(work{slow: true})
	m.PostNow(work{now: true})
	if v := mustWait(t, m); v != (work{now: true}) {
		t.Errorf("took %+v, want the urgent post alone", v)
	}
	if !quiet(t, m) {
		t.Error("the debounced post was taken before it settled")
	}

	m = NewMailbox(Debounce{}, func(a, b work) work { return work{a.slow || b.slow, a.now || b.now} })
	m.Post(work{slow: true})
	m.PostNow(work{now: true})
	if v := mustWait(t, m); v != (work{true, true}) {
		t.Errorf("took %+v, want both merged when both are due", v)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := signal(Window(time.Second))
	m.PostNow(struct{}{})
	if _, ok := m.Wait(ctx); ok {
		t.Error("Wait took a value on a cancelled context")
	}
	m = signal(Window(time.Hour))
	m.Post(struct{}{})
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, ok := m.Wait(ctx); ok {
		t.Error("Wait took a value before its window ended")
	}
}

// A failed run is retried with backoff until it succeeds; OnError hears
// of each failure with the delay.
func TestLoopRetriesWithBackoff(t *testing.T) {
	m := signal(Debounce{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var runs int
	var delays []time.Duration
	done := make(chan struct{})
	l := Loop[struct{}]{
		Mailbox: m,
		Retry:   Backoff{Min: 10 * time.Millisecond, Max: 25 * time.Millisecond},
		Do: func(context.Context, struct{}) error {
			runs++
			if runs < 4 {
				return errors.New("not yet")
			}
			close(done)
			return nil
		},
		OnError: func(_ struct{}, _ error, in time.Duration) { delays = append(delays, in) },
	}
	go l.Run(ctx)
	m.Post(struct{}{})
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("no success in 20 s")
	}
	cancel()
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 25 * time.Millisecond}
	if !slices.Equal(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
}

// Without Retry a failure waits for the next post.
func TestLoopWithoutRetryWaitsForThePost(t *testing.T) {
	m := signal(Debounce{})
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan struct{}, 10)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		Loop[struct{}]{Mailbox: m, Do: func(context.Context, struct{}) error {
			runs <- struct{}{}
			return errors.New("bad input")
		}}.Run(ctx)
	}()
	m.Post(struct{}{})
	<-runs
	select {
	case <-runs:
		t.Error("a failure without Retry ran again")
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	<-stopped
}
