// Package proxy is the serving half of Portico's HTTP data plane: it turns
// an *ir.Config into listening sockets that route, filter and forward
// requests.
//
// Input: *ir.Config through Proxy.Apply, any number of times. Output: an
// ir.Ack per Apply (refused as a whole with Ack.Error, or accepted with
// per-socket ListenerErrors), and traffic.
//
// # Reload: build, then swap
//
// Apply first builds a complete generation for every ir.Listener: the match
// table (package router) whose per-rule handlers are the rule's filter chain
// (package filter) ending in the backend handlers (package backend), and,
// on HTTPS, the SNI table of certificates. Nothing running is touched until
// every listener has built. Then each socket's generation pointer is
// swapped atomically. Sockets are keyed by ir.Listener.Name ("address:port")
// and survive across generations: a keep-alive connection takes the new
// generation on its next request, a request in flight (or a WebSocket, or a
// stream) finishes on the generation it started on. Sockets whose listener
// disappeared stop accepting at once and are closed when their requests
// finish (Options.DrainTimeout at most); new sockets are opened, and a bind
// failure is reported in Ack.ListenerErrors and retried on the next Apply.
// Upstream connection pools (backend.Pool) are shared by generations and
// kept for every endpoint still in use.
//
// # Engine seam
//
// The HTTP implementation sits behind Engine: "serve this net.Listener,
// passing every request to this http.Handler". The handler given to the
// engine is the socket's stable entry point, which loads the current
// generation per request, so an engine never hears about reloads. Two
// engines exist; DefaultEngine picks H1 unless PORTICO_HTTP_ENGINE (or the
// --http-engine flag of run and proxy) says nethttp.
//
// H1 (packages h1 and h2, the default) serves HTTP/1.1 and HTTP/2 itself.
// The socket also implements h1.Router and h2.Router: the engine routes a
// parsed request through the same match table (router.Table.RouteFields,
// no *http.Request) and, when the rule has an h1.Route, forwards it
// natively. Which path serves what:
//
//   - h1 fast path: rules that only forward to HTTP/1.1 endpoints
//     (weights, round robin), with RequestHeaderModifier and
//     ResponseHeaderModifier (not on Host, framing, hop-by-hop,
//     X-Forwarded-* or Date fields), timeouts.request and
//     timeouts.backendRequest; requests in origin-form without Upgrade,
//     with no body or a Content-Length body up to 64 KiB.
//   - the http.Handler through h1's fallback (an *http.Request and a
//     net/http-like ResponseWriter): every other rule (redirects,
//     rewrites, CORS, mirrors, retries, h2c and TLS backends, invalid
//     backends), virtual hosts with listener filters or client
//     certificate validation, 404 and 421, WebSocket and "Upgrade: h2c"
//     (Hijack), chunked or larger request bodies, absolute-form targets.
//   - h2 (handed the connection): HTTP/2 over TLS (ALPN h2) and cleartext
//     HTTP/2 with prior knowledge. Bodyless requests of rules with an
//     h1.Route take its fast path (the same upstream client as h1's);
//     the others run the http.Handler with h2's net/http-like
//     ResponseWriter.
//
// NetHTTP serves everything with net/http, behind h1's parser: each
// connection is read through an h1.Guard, so net/http only sees requests
// H1 accepts and agrees with it on where each ends (one framing policy
// for both engines, see NetHTTP). It serves:
//
//   - HTTP sockets: HTTP/1.1, and HTTP/2 cleartext (h2c) both with prior
//     knowledge (net/http's native unencrypted HTTP/2) and by
//     "Upgrade: h2c" (golang.org/x/net/http2/h2c);
//   - HTTPS sockets: TLS terminated with the generation's certificate
//     chosen by SNI, ALPN offering h2 and http/1.1.
//
// The proxy's tests run under both engines (engine_test.go).
//
// # Clients that go away, and the default upstream timeout
//
// When a client closes (or half-closes, or resets) its connection while
// its request is with the upstream, the upstream request is cancelled and
// its connection closed, not pooled mid-answer: on H1 through the client
// socket's readiness hang-up event (package h1), on h2 when the stream is
// reset or the connection ends, on NetHTTP and on the handler path through
// the request context, which the transport honours.
//
// Options.UpstreamTimeout (DefaultUpstreamTimeout, 60 s: nginx's
// proxy_read_timeout; --upstream-timeout on run and proxy, 0 for none)
// bounds the wait for the response head, from the request's write, on
// rules that set neither timeouts.request nor timeouts.backendRequest
// (those replace it). On expiry the client gets 504 and the upstream
// connection is closed. It does not apply once the head arrived (a slow
// or endless body, server-sent events) nor to an upgraded connection
// (WebSocket). Without it one hung backend holds a client and an upstream
// connection for ever; 60 s is long enough for slow reports and long
// polls that answer within a minute, and a rule that needs longer says so
// with its own timeouts.
//
// # HTTPS and virtual hosts
//
// The ClientHello's server name selects a VirtualHost by the same rules as
// the Host header (exact hostname, then the longest wildcard, then the
// listener without hostname; with no match, the first VirtualHost), and
// that VirtualHost's certificates are offered: the first whose SAN names
// the server name exactly, then one whose wildcard SAN covers it, else its
// first certificate. The router answers 421 when the Host header selects
// another VirtualHost than the SNI did.
//
// # Client certificates
//
// A VirtualHost with TLS.ClientValidation asks for a client certificate in
// its handshake: required and verified against its CAs, or, Optional
// (AllowInsecureFallback), requested and never checked. The handshake may
// not have used the VirtualHost's settings (no SNI, a resumed session, a
// connection opened before validation was turned on), so each request is
// checked too: it is served only if the connection's verified chain ends in
// one of the VirtualHost's CAs, else answered 421.
//
// # Pre-routing
//
// Between selecting the VirtualHost and matching a route, the router runs
// the VirtualHost's pre-routing handler (router.WithPreRouting): the client
// certificate check, then the listener filters in order (ExternalAuth asks
// an HTTP authorization service and either lets the request on, with the
// answer's headers, or answers with the service's denial). Route matching
// sees the request as they leave it, but with its original Host.
package proxy
