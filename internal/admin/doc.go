// Package admin serves the admin API of a running Portico: liveness,
// readiness, the IR being served and the status of every object.
//
// Endpoints: /healthz, /readyz, /config (IR as JSON, private keys redacted),
// /status (JSON list of objects with apiVersion, kind, metadata and status),
// /diagnostics (input problems that no status carries).
package admin
