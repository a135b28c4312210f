// Package e2e tests the built portico binary end to end in standalone mode.
//
// TestMain builds ./cmd/portico once. Every test writes Gateway API YAML into
// its own temporary directory, starts `portico run --config DIR` as a
// subprocess on free loopback ports, starts its backends in-process
// (internal/echo), and talks to the gateway with real Go clients: net/http
// (HTTP/1.1, h2 over TLS, h2c) and gorilla/websocket. The subprocess is
// stopped by PID when the test ends.
//
// The tests only use 127.0.0.1 and every wait is bounded. Run them with
// `make test` (all tests) or `make e2e`; -short skips them.
package e2e
