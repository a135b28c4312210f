// Package filter turns the Gateway API filters of a rule or backend
// (ir.HTTPFilters) into http.Handler middleware.
//
// Input: *ir.HTTPFilters, the listener port (for redirects) and a
// MirrorSender (implemented by the server's transport). Output: Chain wraps
// the next handler (backend selection, or the transport for backend-level
// filters) in the filters, in the order documented on ir.HTTPFilters. Each
// filter also has its own constructor, one per file, that precomputes
// everything (canonical header names, parsed origins) at config time.
//
// Filters read the rule the router matched from the request context
// (router.FromContext): ReplacePrefixMatch needs the PathPrefix that matched.
//
// Response edits (ResponseHeaderModifier, CORS headers) wrap the
// ResponseWriter and apply just before the status line is written, so they
// cover the backend's headers and answers the proxy generates itself
// (502/503/504). The wrapper keeps Flush, Hijack and http.ResponseController
// working (Unwrap), so streaming, gRPC and WebSocket pass through.
//
// Paths are handled in escaped form, like the router matches them
// (url.URL.EscapedPath); a rewritten path sets both URL.Path and URL.RawPath.
package filter
