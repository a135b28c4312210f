// Package proxy is the serving half of Portico's HTTP data plane: it turns
// an *ir.Config into listening sockets that route, filter and forward
// requests.
//
// Input: *ir.Config through Proxy.Apply, any number of times. Output: an
// ir.Ack per Apply (per socket: InvalidListeners that did not build,
// ListenerErrors that could not be opened; Ack.Error only when nothing can
// be applied), Proxy.Ack for the same answer as it stands later (plus
// NotAccepting), Proxy.ReadinessProblems for /readyz, and traffic.
//
// # Reload: build, then swap
//
// Apply first builds a complete generation for every ir.Listener: the match
// table (package router) whose per-rule handlers are the rule's filter chain
// (package filter) ending in the backend handlers (package backend), and,
// on HTTPS, the SNI table of certificates. Nothing running is touched until
// every listener has been built. A listener that fails to build (a port out
// of range, a certificate or CA that does not load, a regex that does not
// compile, a backend TLS setting...) harms only itself: it is reported in
// Ack.InvalidListeners (status: its Gateway listeners Programmed=False,
// reason Invalid, with the error) and its socket, if it already had one,
// keeps serving its previous generation; every other listener is applied.
// Each listener has its own backend builder, so one listener's bad backend
// TLS cannot fail another. Then each socket's generation pointer is
// swapped atomically. Sockets are keyed by ir.Listener.Name ("address:port")
// and survive across generations: a keep-alive connection takes the new
// generation on its next request, a request in flight (or a WebSocket, or a
// stream) finishes on the generation it started on. Sockets whose listener
// disappeared stop accepting at once and are closed when their requests
// finish (Options.DrainTimeout at most); new sockets are opened, and a bind
// failure (port busy, address not local) is reported in Ack.ListenerErrors
// and retried in the background, 1 s after, then twice as long each time up
// to 30 s, until it opens or the listener goes; it is logged with the
// Gateway listeners it serves, and Options.OnListenerChange tells the
// caller when it opens (standalone then projects status again).
// Upstream connection pools (backend.Pool) are shared by generations and
// kept for every endpoint still in use.
//
// # Sockets that never stop serving
//
// Engines serve a guardedListener, never the raw socket:
//
//   - Accept errors: every error but "closed" (EMFILE, ENFILE, ENOBUFS,
//     ECONNABORTED, whatever the kernel says) is retried with backoff, 5 ms
//     doubling to 1 s, logged once per episode with the listener; engines
//     only ever see a connection or net.ErrClosed. (net/http's Serve backs
//     off on "temporary" errors, EMFILE and ENFILE included, but returns for
//     good on the others; h1's accept loop now backs off on every error
//     too.) While it lasts the socket is in Ack.NotAccepting (its Gateway
//     listeners Programmed=False, reason Pending, naming the error) and in
//     ReadinessProblems (/readyz answers 503 naming the socket, its Gateway
//     listeners and the error); both clear by themselves at the next
//     accepted connection, and OnListenerChange is called at each change.
//     Bind failures do not fail /readyz: they are configuration, shown in
//     status.
//   - Connection limit: each socket holds at most Options.MaxConnections
//     connections (run and proxy: --max-connections). Accept takes a slot
//     before asking the kernel, so at the limit new connections wait in the
//     kernel's backlog (and time out there if it lasts), and the engine
//     gives the slot back when a connection closes or is hijacked (upgraded
//     connections leave the count). The default is half of RLIMIT_NOFILE (a
//     proxied connection holds two descriptors) less a reserve of 256,
//     between 64 and 50,000: one listener cannot exhaust the process alone,
//     and 50,000 open connections per listener is more than one proxy
//     process should hold before scaling out. Reaching it is logged at most
//     once a minute; it does not fail /readyz.
//   - File descriptors: Go raises the soft RLIMIT_NOFILE to the hard limit
//     when the process starts (package os, Linux, since Go 1.19; children
//     it starts get the original back), so Portico does not do it again;
//     test/e2e checks /proc/<pid>/limits of the built binary.
//   - Slow clients: the head of a request must arrive within
//     Options.ReadHeaderTimeout of its first byte (default 30 s; run and
//     proxy: --read-header-timeout), on both engines, so a slowloris only
//     holds its own connection, and only that long.
//
// # Engine seam
//
// The HTTP implementation sits behind Engine: "serve this net.Listener,
// passing every request to this http.Handler". The handler given to the
// engine is the socket's stable entry point, which loads the current
// generation per request, so an engine never hears about reloads. Two
// engines exist; H1 is the default (Options.Engine nil); the CLI's
// --http-engine flag of run and proxy (default $PORTICO_HTTP_ENGINE) picks
// NetHTTP. The package reads no environment variable.
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
// # Path normalisation
//
// Every request's path is put in normal form before routing (package
// urlpath: dot segments removed, "//" merged, escaped unreserved
// characters decoded, other escapes upper-cased and kept, %2F and %5C
// among them), on by default and in one place per engine path: the h1
// fast path (h1.Request.fast), the h2 fast path (fastEligible), and the
// socket's ServeHTTP for everything served by the http.Handler (the h1
// fallback, h2's handler path, the NetHTTP engine), where r.URL.Path,
// r.URL.RawPath and r.RequestURI are rewritten together. Routing, filters
// (URLRewrite, RequestRedirect) and the backend see the normal path; the
// query is untouched. Answered 400: a path climbing above the root, an
// invalid escape, a control character or %00, a raw backslash, a dot
// segment with ";" parameters ("/..;/"), and targets in authority-form
// (CONNECT) or asterisk-form ("*"; but net/http answers "OPTIONS *"
// itself on the NetHTTP engine, 200 without a body, forwarding nothing).
// Absolute-form targets are normalised too. The router puts Exact and PathPrefix values in the same form.
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
// another VirtualHost than the SNI did. Both tables are hostname.Index
// values, so SNI and Host follow one implementation of these rules.
//
// HTTPS sockets accept TLS 1.2 and 1.3. For TLS 1.2 only ECDHE key
// exchange with AES-GCM or ChaCha20-Poly1305 is offered (tls12CipherSuites),
// on both engines: no CBC suites (padding-oracle and Lucky13-style
// timing attacks) and no static RSA key exchange (no forward secrecy).
// Every TLS 1.2 client of the last decade has one of them.
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
