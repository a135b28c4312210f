// Package e2e tests the built portico binary end to end in standalone mode.
//
// TestMain builds ./cmd/portico once. Every test writes Gateway API YAML into
// its own temporary directory, starts `portico run --config DIR` as a
// subprocess on free loopback ports, starts its backends in-process
// (internal/echo), and talks to the gateway with real Go clients: net/http
// (HTTP/1.1, h2 over TLS, h2c) and gorilla/websocket. The subprocess is
// stopped by PID when the test ends.
//
// TestH2Spec runs h2spec (HTTP/2 conformance, pinned by the separate module
// test/h2spec and built by the test) against an HTTPS listener (h2 by ALPN)
// and a cleartext listener (h2c with prior knowledge), for the default
// engine (h1) and PORTICO_HTTP_ENGINE=nethttp. Each failing h2spec case is a
// test error naming the case (e.g. http2/6.5.3/1), so that one case can be
// rerun by hand with hack/h2spec.sh.
//
// The tests only use 127.0.0.1 and every wait is bounded. Run them with
// `make test` (all tests) or `make e2e`; -short skips them.
package e2e
