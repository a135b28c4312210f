// Package urlpath normalises the path of a request target before routing,
// so that the path a rule is matched against is the path every backend
// understands the same way.
//
// Normalize takes the path as sent (escaped, without the query) and
// returns its normal form, or an error that the server answers with 400:
//
//   - Percent-encoded unreserved characters (ALPHA, DIGIT, "-", ".", "_",
//     "~") are decoded: "/%61dmin" is "/admin", "%2e%2e" is "..".
//   - Other percent-encodings are kept, their hex digits upper-cased
//     (RFC 3986 section 6.2.2.1): "%2f" becomes "%2F". Encoded slashes
//     (%2F) and backslashes (%5C) stay encoded: they are data, never
//     separators.
//   - Raw bytes outside RFC 3986's pchar, "/" and "%" are percent-encoded
//     (as net/url's EscapedPath does today), except "[" and "]", which
//     net/url leaves alone.
//   - Empty segments are merged ("//admin" is "/admin"), then dot segments
//     are removed (RFC 3986 section 5.2.4): "/public/../admin" is
//     "/admin", "/a/." is "/a/".
//
// Refused (ErrPath, answered 400): a path that does not start with "/", a
// ".." that climbs above the root ("/../x": RFC 3986 would clamp it, but
// no client of a well-formed link sends it), an invalid percent-encoding,
// a raw control character (NUL, CR, LF, ..., DEL) or an encoded NUL
// (%00), a raw backslash (some servers take it for a separator: there is
// no safe normal form), and a segment that is a dot segment once its
// ";" parameters are removed ("/..;/admin": servers that strip path
// parameters, Tomcat among them, would climb). Other ";" parameters are
// kept as part of their segment, as RFC 3986 says: "/admin;x" does not
// match a rule on "/admin", and a backend that strips parameters must be
// guarded by a rule that accounts for it.
//
// Normal paths, the common case, are returned unchanged without
// allocating, after one pass over their bytes.
package urlpath
