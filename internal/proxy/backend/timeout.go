package backend

import (
	"context"
	"net/http"
	"time"
)

type requestTimerKey struct{}

// WithRequestTimeout bounds the exchange behind next, retries and backoff
// included (ir.Timeouts.Request). When it expires the upstream call is
// cancelled and the client gets 504, unless the answer already started.
// An Upgrade that succeeds (101) stops the clock: a WebSocket is not a
// request that can time out.
func WithRequestTimeout(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancelCause(r.Context())
		t := time.AfterFunc(d, func() { cancel(errRequestTimeout) })
		defer cancel(nil)
		defer t.Stop()
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, requestTimerKey{}, t)))
	})
}

// stopRequestTimer stops the request timeout of ctx, if there is one.
func stopRequestTimer(ctx context.Context) {
	if t, ok := ctx.Value(requestTimerKey{}).(*time.Timer); ok {
		t.Stop()
	}
}
