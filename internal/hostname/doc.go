// Package hostname holds every hostname rule of Portico once: how a name is
// canonicalised, what a wildcard covers, how a route hostname intersects a
// listener hostname, which hostname takes precedence, and an Index that finds
// the value for a host. The graph (route binding), translate (listener
// order), the router (Host header) and the proxy's SNI table (virtual host
// and certificate for a ClientHello) all use it, so they cannot disagree.
//
// Rules, and where they come from:
//
//   - Canonical form (Canonical, CanonicalHost). Host names compare
//     case-insensitively (RFC 4343; RFC 9110 section 4.2.3 for the Host
//     header, RFC 6066 section 3 for SNI), so ASCII is lower-cased. A
//     trailing dot (the absolute form "example.com.", RFC 1034 section 3.1)
//     names the same host and is dropped. A Host header's ":port" is dropped
//     (RFC 9110 section 7.2); an IPv6 literal keeps its brackets.
//     Configured Gateway API hostnames are already lower case without a dot
//     (the Hostname type's validation), so Matches and Intersect take them
//     as written.
//
//   - Wildcards (Matches, Index.Lookup). "*.example.com" is a suffix match
//     on ".example.com" with at least one label in front: it covers
//     "a.example.com" and "a.b.example.com", never "example.com" (Gateway
//     API Listener.hostname and HTTPRoute spec.hostnames). A wildcard covers
//     a narrower wildcard: "*.example.com" covers "*.a.example.com". "" and
//     "*" (Parse) mean any host.
//
//   - Certificate wildcards (Index.LookupSingleLabel). In a certificate SAN,
//     "*" stands for exactly one label (RFC 6125 section 6.4.3), so
//     "*.example.com" covers "a.example.com" only.
//
//   - Intersection (Intersect). A route without hostnames serves its
//     listener's hostname, a listener without hostname serves every route
//     hostname, and otherwise a route hostname serves the more specific of
//     the two when one covers the other and is ignored when neither does
//     (HTTPRoute spec.hostnames: "*.example.com" on the listener admits
//     "test.example.com" and "*.example.com", not "example.com").
//
//   - Lookup precedence (Index). A host takes the exact name, then the
//     wildcard with the longest suffix, then "any host": the most specific
//     listener hostname wins (Gateway spec.listeners), and a ClientHello's
//     server name picks its listener the same way. An Index costs one map
//     lookup per label of the host and does not allocate; it is built once
//     (Builder, first value for a name kept) and never changed.
//
//   - Route hostname precedence (ComparePrecedence). Among routes matching
//     a host, the one with the longest non-wildcard hostname wins, then the
//     longest wildcard, then a route without hostname (HTTPRoute
//     spec.hostnames precedence, with the route's own hostname as written:
//     conformance feature GatewayRouteHostnameIntersectionPrecedence).
//
//   - Listener order (CompareListeners). Virtual hosts are written into the
//     IR exact first, then wildcards with more labels, then the one without
//     hostname, ties by name: a stable output, and the first virtual host of
//     an HTTPS socket gives the certificate for names no listener accepts.
package hostname
