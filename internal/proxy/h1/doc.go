// Package h1 is Portico's HTTP/1.1 engine, built for proxying: one
// goroutine per client connection, a strict RFC 9112 parser working in a
// pooled buffer, and an upstream HTTP/1.1 client that runs in the same
// goroutine, so a proxied request costs two reads and two writes and no
// allocation.
//
// Input: a Config whose Handler is the socket's http.Handler; if it also
// implements Router, requests are offered to it first. Output: a Server
// (Serve, Shutdown, Close) that package proxy plugs behind its Engine seam.
//
// # Which path serves what
//
// Fast path (this package, no *http.Request): a request whose head is
// origin-form, with a path and query that net/url and
// httputil.ReverseProxy pass on unchanged, no Upgrade, no Expect other
// than 100-continue, no body or a Content-Length body of at most 64 KiB,
// and whose rule Router.RouteH1 returns a Route for. Package proxy builds
// a Route for rules that only forward: weighted backends, round robin over
// HTTP/1.1 endpoints, Request/ResponseHeaderModifier (except on the fields
// the engine manages, see Reserved), timeouts.request and
// timeouts.backendRequest, X-Forwarded-For/-Host/-Proto, hop-by-hop
// removal. The request goes to the upstream as head plus body in one
// write (writev for large bodies) on a keep-alive connection of the
// endpoint's Pool; the response is read in the same goroutine and relayed
// with Content-Length, re-chunked (trailers kept), or, for a body that
// ends with the upstream's close, chunked to HTTP/1.1 clients and
// close-delimited to HTTP/1.0 ones; a response that fits the buffers goes
// to the client in one write.
//
// Fallback path (the http.Handler, with an *http.Request and a
// ResponseWriter that behaves like net/http's server): everything else —
// redirects, rewrites, CORS, mirrors, retries, listener filters and client
// certificate checks, h2c and TLS backends, invalid backends, 404/421,
// absolute-form and asterisk-form targets, chunked or large request
// bodies, Upgrade (WebSocket, "Upgrade: h2c": the writer implements
// http.Hijacker), CONNECT. The ResponseWriter implements http.Flusher,
// http.Hijacker and the http.ResponseController methods. The request
// context is cancelled when the handler returns or the client goes away
// (see below).
//
// HTTP/2: connections that negotiate h2 by ALPN or start with the
// cleartext preface are handed, with the bytes already read, to
// Config.HTTP2 (package h2), whose fast path uses this package's upstream
// client through Exchange. "Upgrade: h2c" requests take the fallback path,
// where golang.org/x/net's h2c package serves the upgraded connection.
//
// # Parsing decisions
//
// Requests are refused (answer, then close) when they are ambiguous or
// malformed, never repaired: 400 for a line not ended by CRLF (bare LF is
// refused everywhere, also in chunked framing), a CR, NUL or other control
// character in a field value, an invalid field name or whitespace before
// the colon, obs-fold, a missing (HTTP/1.1), repeated or invalid Host,
// Content-Length that is not 1 to 18 digits or appears twice (even with
// the same value), both Content-Length and Transfer-Encoding,
// Transfer-Encoding in an HTTP/1.0 request; 501 for any transfer coding
// other than exactly "chunked" (case-insensitive, one field); 505 for a
// major version other than 1 (a later HTTP/1.x is served as HTTP/1.1);
// 431 for a head over 64 KiB (MaxHead, however the head arrives: in one
// read or many) or 256 fields; 408 when a started head does
// not complete within ReadHeaderTimeout; 417 for an Expect other than
// 100-continue. Up to four empty lines before a request line are skipped.
// Chunk sizes are 1 to 15 hex digits, extensions are allowed and dropped,
// trailer fields are validated like header fields (request trailers are
// dropped, as net/http's proxy path effectively does; response trailers
// are relayed). Pipelined requests are served in order, one at a time.
// An upstream answer with two different lengths, an unknown transfer
// coding, a malformed head or an unexpected 101 becomes 502; one cut short
// cuts the client connection.
//
// Upstream connections: a reused keep-alive connection that fails before
// any response byte is retried once on a new one for idempotent requests
// (http.Transport's rule); for the others, a connection idle for more
// than half a second is first checked for a close by the upstream.
// A connect that fails (refused, unreachable, timed out: nothing was
// sent) goes on to the backend's other endpoints, each once, for every
// method; the endpoint is then skipped by later requests for 250 ms,
// doubling to 30 s while its connects keep failing (package health,
// shared with package backend). A new connection that the endpoint resets
// or closes before any byte of an answer marks it failing the same way;
// an idempotent request then goes on to another endpoint, the others get
// 502 (the endpoint may have received them).
//
// # Path normalisation
//
// Before routing, the fast path puts the path in normal form (package
// urlpath, see NormalizeTarget): the Router matches, and the upstream
// receives, the normal path with the query as sent. A normal path, the
// common case, costs one pass over its bytes and no allocation. A path
// urlpath refuses goes to the fallback path, whose http.Handler (the
// socket's entry in package proxy) answers 400.
//
// # Guard
//
// Guard lends these parsing decisions to another server (the net/http
// engine): a net.Conn that checks each request head with this parser and
// follows its body framing before the reader sees a byte, answers what
// this server refuses as it does, and passes bytes unchecked only after
// the HTTP/2 preface or a 101 answer to an Upgrade. Malformed chunked
// framing becomes a read error under the body (the handler answers 400),
// then the end of the connection. A refusal is written when the reader
// next reads for a head with a read deadline set (net/http's
// ReadHeaderTimeout), never during net/http's read-ahead while a handler
// answers the previous request, so answers keep their order.
//
// # Clients that go away
//
// The client socket is registered with package readiness (cleartext:
// the waiter below; TLS: a hang-up-only registration, one event per
// connection), whose poller sees the peer's FIN or RST (EPOLLRDHUP) while
// the request goroutine waits for the upstream. Its hook aborts the
// upstream connection in use (Link: an interrupt and a past read
// deadline wake the goroutine, and the connection is closed, never
// pooled) and cancels a fallback request's context; nothing is answered.
// A half-close counts as going away, as in net/http and nginx. With
// Config.DisableReadiness (PoolOptions.DisableReadiness for the upstream
// side; the CLI's PORTICO_READINESS=off sets both), or where epoll is
// missing, a client that goes away is noticed only by the upstream
// timeout. HTTP/2 streams link their
// upstream leg the same way (package h2).
//
// # Upstream timeout
//
// A Route built without timeouts gets the proxy's default upstream
// timeout (SetDefaultTimeout): the wait for the response head, from the
// request's write, is bounded and its expiry answered 504 with the
// upstream connection closed; the body that follows is not bounded. It
// costs no timer and no system call per request: the readiness reaper
// (every 250 ms, against a clock it reads once per sweep) aborts the
// connections whose deadline passed, so it fires up to half a second
// early or late. Route timeouts use read deadlines as before.
//
// # Waiting for reads
//
// A cleartext client connection waiting for its next request and an
// upstream connection waiting for its answer wait on package readiness
// (an epoll instance of our own) once a read has drained the socket, and
// read only when data came: Go's poller would read first and find nothing
// (one EAGAIN read per request) and wake a poll's goroutines newest first.
// Measured side by side (12 paired pinned runs) this kept CPU per request
// the same and lowered p99 in 10 of 12. TLS client connections read as
// before: crypto/tls buffers records, so the wait would have to go under
// it (a wrapping net.Conn), and measured so it cost HTTP/2 over TLS 16%
// more CPU per request and HTTP/1.1 over TLS gained nothing.
// Config.DisableReadiness and PoolOptions.DisableReadiness turn it off.
package h1
