// Package echo is Portico's sample and test backend. It answers the way the
// Gateway API conformance echo server (echo-basic, from
// sigs.k8s.io/gateway-api-conformance-images) does, so the same code serves the
// quickstart demo, the end-to-end tests and, later, the conformance suite.
//
// Input: Options (listen addresses, an optional TLS certificate, and the
// names it reports: pod, namespace, service, ingress). Output: an
// http.Handler (NewHandler) or running listeners (Serve).
//
// What the handler answers:
//
//   - GET /<anything>: 200, Content-Type application/json, a JSON object with
//     the request as the backend saw it: path (the RequestURI), host, method,
//     proto, headers, httpPort, namespace, ingress, service, pod and, on TLS
//     connections, tls{version, peerCertificates, serverName,
//     negotiatedProtocol, cipherSuite}. See Echo.
//   - The request header "X-Echo-Set-Header: Name:Value,Name2:Value2" sets
//     those response headers.
//   - "?delay=<duration>" (for example 2s) sleeps before answering.
//   - /status/NNN answers with status NNN; /health answers 200 "OK".
//   - /ws upgrades to a WebSocket that echoes text and binary messages.
//   - /retry/?uuid=<id>&succeedAfter=<n>[&responseCode=<c>][&delayRetry=<d>]
//     fails the first n attempts of each uuid, with status c or, without
//     responseCode, by resetting the TCP connection; later attempts echo.
//
// Every echoed request is logged as "Echoing back request made to <URI> to
// client (<addr>)": the conformance mirror tests look for that line.
//
// Serve listens for HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge)
// on the same port, and for HTTPS (HTTP/1.1 and h2 by ALPN) when TLSListen is
// set.
package echo
