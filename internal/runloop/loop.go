package runloop

import (
	"context"
	"time"
)

// Backoff is the delay before a failed run is tried again: Min after the
// first failure, doubling up to Max, back to nothing after a success.
type Backoff struct {
	Min, Max time.Duration
}

func (b Backoff) next(prev time.Duration) time.Duration {
	return min(max(2*prev, b.Min), b.Max)
}

// Loop runs Do with each value its Mailbox gives, one at a time, until the
// context ends.
type Loop[T any] struct {
	Mailbox *Mailbox[T]
	Do      func(ctx context.Context, v T) error
	// Retry, when Max is set, posts a failed run's value again after a
	// capped exponential backoff; the zero value waits for the next post.
	Retry Backoff
	// OnError, when set, hears of every failure that is not the context
	// ending, with the delay before the retry (0: none).
	OnError func(v T, err error, retryIn time.Duration)
}

// Run returns when ctx ends.
func (l Loop[T]) Run(ctx context.Context) {
	var backoff time.Duration
	for {
		v, ok := l.Mailbox.Wait(ctx)
		if !ok {
			return
		}
		err := l.Do(ctx, v)
		if err == nil {
			backoff = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		var retryIn time.Duration
		if l.Retry.Max > 0 {
			backoff = l.Retry.next(backoff)
			retryIn = backoff
			time.AfterFunc(backoff, func() { l.Mailbox.Post(v) })
		}
		if l.OnError != nil {
			l.OnError(v, err, retryIn)
		}
	}
}
