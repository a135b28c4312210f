// Package admin serves the admin API of a running Portico: liveness,
// readiness, the IR being served and the status of every object.
//
// Endpoints: /healthz, /readyz, /config (IR as JSON, private keys redacted),
// /status (JSON list of objects with apiVersion, kind, metadata and status),
// /diagnostics (input problems that no status carries).
//
// /readyz answers 503 before the first configuration is applied and, when
// the Source is a ReadinessReporter, while any problem is reported (the
// proxy: a listening socket whose accepts fail, e.g. out of file
// descriptors), with one line per problem.
//
// Host check (WithHostCheck): the admin API answers only requests whose
// Host is localhost, 127.0.0.0/8 or ::1 (with or without port), the IP the
// admin socket is bound to, any IP when it is bound to 0.0.0.0 or ::, or a
// name given with --admin-allowed-hosts ("*" turns the check off); others
// get 403. This defeats DNS rebinding, where a web page whose name
// resolves to this host reads /config through the visitor's browser: its
// requests carry the page's name in Host, never an IP literal.
package admin
