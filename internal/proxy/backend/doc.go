// Package backend is the upstream half of the HTTP data plane: everything
// between "this rule matched" and "the backend answered".
//
// Input: the ir.Backend entries of one rule, with the rule's ir.Timeouts and
// ir.Retry. Output: http.Handlers that the proxy places at the end of a
// rule's filter chain:
//
//   - Pool owns the upstream connection pools, one http.Transport per
//     endpoint, protocol (HTTP/1.1 or h2c prior knowledge) and TLS settings
//     (ir.BackendTLS: HTTP/1.1 or HTTP/2 over TLS, see tls.go). Transports
//     outlive configuration generations: a reload that keeps an endpoint
//     and its settings keeps its warm keep-alive connections (see
//     Pool.Retain).
//   - Pool.Handler builds the handler of one backend: 500 when the backend
//     is Invalid, 503 when it has no endpoints, otherwise an
//     httputil.ReverseProxy (Rewrite, X-Forwarded-*, hop-by-hop removal,
//     Upgrade/WebSocket pass-through) whose RoundTripper spreads attempts
//     round robin over the endpoints, bounds each attempt (BackendRequest)
//     and retries (ir.Retry).
//   - Split spreads requests over a rule's backends by weight.
//   - WithRequestTimeout bounds the whole exchange (ir.Timeouts.Request).
//   - Mirrors implements filter.MirrorSender: it sends the copies the
//     RequestMirror filter makes, fire and forget, each bounded by its own
//     timeout, with a proxy-wide concurrency limit past which copies are
//     dropped (MirrorLimiter).
//
// Failing endpoints: a connect that fails (refused, unreachable, timed
// out: nothing was sent) marks the endpoint failing (package health, the
// same decision as the HTTP/1.1 engine's) and the request goes on to the
// backend's other endpoints that are not failing, each once, with its body
// (buffered for retries, or still unread: http.Transport reads none of it
// before it has a connection). An idempotent request whose connection the
// endpoint reset or closed before any byte of an answer (the transport has
// already retried a reused connection once) marks it failing and moves on
// the same way. Later requests
// pass over a failing endpoint for 250 ms, doubling to 30 s, until a
// connect to it succeeds; when every endpoint is failing, the round-robin
// one is still tried. Retries of ir.Retry come on top of this, and count
// a request that moved to another endpoint as one attempt.
//
// Policy.HeadTimeout is the proxy's default upstream timeout, given to
// rules that set no timeouts: each attempt's wait for the response head,
// from the request's write, is bounded (504 and the attempt's connection
// closed when it expires); the clock stops when the head arrives, so
// neither a streamed body nor an upgraded connection is cut.
//
// The outbound request keeps no hop-by-hop field (ReverseProxy's removal)
// and, when it came over HTTP/2 (including the request of an
// "Upgrade: h2c"), no Connection or Upgrade either, which ReverseProxy
// would otherwise re-add to pass an upgrade on; HTTP2-Settings never goes
// on. A request whose body could not be read (malformed chunked framing,
// a client that stopped sending) is answered 400, not 502: the fault is
// the client's. A client that goes away cancels the request's context
// (both engines), which makes the transport close the upstream
// connection.
//
// Errors generated here are short plain-text bodies: 400 malformed request
// body, 500 invalid backend, 502 upstream connection failure, 503 no
// endpoints, 504 timeout.
package backend
