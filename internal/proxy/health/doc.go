// Package health decides which upstream endpoints a request should avoid:
// an endpoint whose connect failed (refused, unreachable, timed out:
// nothing of the request was sent) is skipped for a short interval that
// doubles with each further failure, from FirstBackoff up to MaxBackoff,
// and is forgotten at the first successful connect. Both upstream
// clients use it: the h1 engine's endpoints (package h1) and the
// http.Transports of package backend.
//
// When the interval has passed, one request is let through to probe the
// endpoint (the others keep skipping it until that request's connect
// succeeds or fails); when every endpoint of a backend is being skipped,
// the request still tries its round-robin endpoint rather than fail
// without trying. Full outlier detection and active health checks are
// not this package's job (they come with the traffic policies).
//
// A new connection that the endpoint resets or closes before any byte of
// an answer (ResetBeforeAnswer) marks it failing too, and an idempotent
// request goes on to another endpoint: the endpoint may have read the
// request, so other requests are not moved.
//
// A healthy endpoint costs one atomic load per request.
package health
