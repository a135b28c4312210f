// Package h2 is Portico's HTTP/2 server, built for proxying: frames are
// read and written with golang.org/x/net/http2's Framer and HPACK codec,
// and a request the fast path can serve is forwarded with the HTTP/1.1
// engine's upstream client (package h1), without an *http.Request.
//
// Input: a Config whose Handler is the socket's http.Handler; if it also
// implements Router, bodyless requests are offered to it first. Output: a
// Server whose ServeConn serves one connection (package h1 hands it the
// connections that negotiated h2 by ALPN or start with the cleartext
// preface); Shutdown and Close end them.
//
// # Which path serves what
//
// Fast path: a request whose HEADERS end the stream (no body), with a
// :path that net/url and httputil.ReverseProxy pass on unchanged, a valid
// :authority, not CONNECT, and whose rule Router.RouteH2 returns an
// h1.Route for (see package h1: plain forwarding, header modifiers,
// timeouts). It goes upstream as an HTTP/1.1 request (Host from
// :authority, cookie fields joined with "; ", X-Forwarded-For/-Host/-Proto
// set) on a keep-alive connection of the endpoint's pool; the answer comes
// back as HEADERS and DATA frames, chunked trailers as trailing HEADERS.
// Upstream failures are answered 502, timeouts 504 (the default upstream
// timeout included), as on HTTP/1.1. A stream that the client resets, or
// whose connection ends, aborts its upstream leg through an h1.Link: the
// upstream connection is closed, never pooled mid-answer.
// The :path is put in normal form first (h1.NormalizeTarget, package
// urlpath); one it refuses goes to the handler path, answered 400 there.
//
// Handler path: everything else — requests with a body, CONNECT, rules
// with redirects, rewrites, mirrors, retries, CORS, listener filters, h2c
// or TLS backends — runs the http.Handler with an *http.Request and a
// ResponseWriter that behave as net/http's HTTP/2 server's: the body
// streams through a pipe whose consumption opens the client's window,
// Expect: 100-continue is answered on the first read, request trailers
// land in Request.Trailer, responses within 4 KiB get a Content-Length,
// Content-Type is sniffed, trailers and 1xx are sent, http.Flusher works.
// The request context ends when the client resets the stream or the
// connection ends.
//
// # Protocol decisions
//
// The server advertises 250 concurrent streams (REFUSED_STREAM beyond),
// 1 MiB windows for the connection and each stream (WINDOW_UPDATE once a
// quarter is consumed) and a 64 KiB header list (431 beyond, as the
// HTTP/1.1 engine's head limit). It answers malformed requests (RFC 9113
// section 8.1.1: missing or invalid pseudo-headers, connection-specific
// fields, TE other than "trailers", a Content-Length the DATA frames do
// not match) with RST_STREAM PROTOCOL_ERROR, and protocol violations with
// GOAWAY; the Framer checks frame sizes and CONTINUATION sequences.
// Header blocks are decoded (headers.go) with the same checks and errors
// as the Framer's ReadMetaHeaders, into storage reused from block to
// block, so a request costs no frame and no field slice; a block that
// goes on after its fields turned malformed or over the limit closes the
// connection (CONTINUATION flood).
// Responses are HPACK-encoded without the dynamic table: nothing of one
// answer is kept for the next (the table would pin the strings of reused
// buffers), at the cost of a few bytes per answer. No server push.
// Extended CONNECT (RFC 8441) is not offered.
//
// # Writes
//
// There is no writer goroutine. Every write takes the connection's write
// lock; the last writer out flushes, after yielding once so that the
// streams the network poller woke together add their frames first: one
// write and one TLS record then carry several answers. A client that
// stops reading for IdleTimeout fails the connection. A connection
// without streams for IdleTimeout is closed with GOAWAY; Shutdown sends
// GOAWAY, lets the streams in flight finish and then closes. Either close
// waits for the ack of a PING sent after the GOAWAY (at most a second),
// refusing the streams that crossed it, so that no request is lost to a
// reset socket.
package h2
