// Package router decides which rule of an HTTP listener serves a request.
//
// Input: one *ir.Listener, plus a BuildFunc that the server supplies to turn
// each ir.HTTPRule into the http.Handler that runs it (filters, backends).
// New compiles everything once at config time: hostnames into
// hostname.Index values (the Host rules live in package hostname, shared with
// the graph and the SNI table), regular expressions into anchored RE2
// programs, matches into typed entries sorted by the Gateway API precedence
// with a comparator (no rule strings, no numeric priorities).
//
// Output: Table.Route(r, sni) returns a Result: the handler to run and the
// Matched rule, or a status (404 when nothing matches, 421 when an HTTPS
// request's Host selects a different listener than its TLS SNI did).
// Table.ServeHTTP does the same and stores the Matched value in the request
// context, where filters read it with FromContext (URLRewrite and
// RequestRedirect need the PathPrefix that matched).
//
// Lookup cost does not grow with the number of hostnames: every exact route
// hostname and every wildcard suffix has a precomputed list of candidate
// groups (one group per route hostname precedence, most specific first), so a
// request costs one map lookup per label of its Host plus a scan of the
// matches that apply to that host. The scan over one group is linear; a path
// tree can replace group.find later without touching anything else.
//
// Paths are matched in their escaped form (url.URL.EscapedPath), the same
// form Gateway API path values are written in ("%2F" stays "%2F" and never
// acts as a separator). The server normalises request paths before routing
// (package urlpath: dot segments removed, "//" merged, escaped unreserved
// characters decoded, other escapes upper-cased), so the router never sees
// "..", and the backend receives exactly the path that was matched. Exact
// and PathPrefix values are put in the same normal form when the table is
// built ("/%7Eu" matches requests for "/~u"); RegularExpression values are
// matched against the normal path as written.
package router
