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
// generation per request, so an engine never hears about reloads. Today
// NetHTTP serves everything with net/http:
//
//   - HTTP sockets: HTTP/1.1, and HTTP/2 cleartext (h2c) both with prior
//     knowledge (net/http's native unencrypted HTTP/2) and by
//     "Upgrade: h2c" (golang.org/x/net/http2/h2c);
//   - HTTPS sockets: TLS terminated with the generation's certificate
//     chosen by SNI, ALPN offering h2 and http/1.1.
//
// A purpose-built HTTP/1.1 engine can replace NetHTTP for the HTTP/1.1 path
// later without touching routing, filters or backends.
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
