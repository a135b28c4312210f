package router

import "strings"

// hostIndex finds the value for a host: exact hostname first, then the
// wildcard with the longest suffix, then the catch-all. Keys are canonical
// (see canonicalHost); wildcard keys are the suffix with its leading dot
// (".example.com" for "*.example.com").
type hostIndex[T any] struct {
	exact  map[string]T
	wild   map[string]T
	any    T
	hasAny bool
}

// lookup does one map lookup per label of host and does not allocate.
func (ix *hostIndex[T]) lookup(host string) (T, bool) {
	if v, ok := ix.exact[host]; ok {
		return v, true
	}
	if len(ix.wild) > 0 {
		// The first dot after at least one character gives the longest
		// suffix; "*" needs at least one label in front of it.
		for i := 1; i < len(host); i++ {
			if host[i] == '.' {
				if v, ok := ix.wild[host[i:]]; ok {
					return v, true
				}
			}
		}
	}
	return ix.any, ix.hasAny
}

// hostKind classifies a configured hostname.
type hostKind uint8

const (
	hostExact hostKind = iota
	hostWildcard
	hostAny
)

// parseHostname canonicalises a configured hostname and returns its kind and
// index key: the name itself for exact, the suffix with its dot for wildcards.
func parseHostname(h string) (hostKind, string) {
	h = canonicalHost(h)
	switch {
	case h == "" || h == "*":
		return hostAny, ""
	case strings.HasPrefix(h, "*."):
		return hostWildcard, h[1:]
	default:
		return hostExact, h
	}
}

// canonicalHost strips the port and a trailing dot and lower-cases ASCII. It
// allocates only when the host has upper-case letters.
func canonicalHost(h string) string {
	h = StripPort(h)
	h = strings.TrimSuffix(h, ".")
	return strings.ToLower(h)
}

// StripPort removes ":port" from a Host header value, keeping IPv6 literals
// ("[::1]:80" -> "[::1]") intact.
func StripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i >= 0 {
			return h[:i+1]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		return h[:i]
	}
	return h
}

// labelSuffixes calls fn with every wildcard key that matches a host whose
// own key (exact name or wildcard suffix) is h, longest first. For
// "a.b.example.com" that is ".b.example.com", ".example.com", ".com".
func labelSuffixes(h string, fn func(suffix string)) {
	for i := 1; i < len(h); i++ {
		if h[i] == '.' {
			fn(h[i:])
		}
	}
}
