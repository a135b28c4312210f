package hostname

import (
	"cmp"
	"iter"
	"strings"
)

// Kind is what a configured hostname names.
type Kind uint8

// Kinds in precedence order: an exact name beats a wildcard, which beats
// "any host".
const (
	Exact Kind = iota
	Wildcard
	Any
)

// Name is a parsed configured hostname.
type Name struct {
	Kind Kind
	// Key is the canonical name for Exact, the suffix with its leading dot
	// for Wildcard (".example.com" for "*.example.com") and "" for Any.
	Key string
}

// Parse canonicalises a configured hostname (see Canonical): "" and "*" name
// any host, "*.suffix" is a wildcard, anything else is exact.
func Parse(h string) Name {
	h = Canonical(h)
	switch {
	case h == "" || h == "*":
		return Name{Kind: Any}
	case strings.HasPrefix(h, "*."):
		return Name{Kind: Wildcard, Key: h[1:]}
	default:
		return Name{Kind: Exact, Key: h}
	}
}

// Canonical drops a trailing dot and lower-cases ASCII. It allocates only
// when h has upper-case letters.
func Canonical(h string) string {
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// CanonicalHost is Canonical for a Host header value: the port goes first.
func CanonicalHost(h string) string {
	return Canonical(StripPort(h))
}

// StripPort removes ":port" from a Host header value, keeping IPv6 literals
// ("[::1]:80" -> "[::1]") intact. A value with several colons and no
// brackets is returned as it is.
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

// Matches reports whether host (exact or wildcard) is within pattern (exact
// or wildcard): "*.example.com" covers "a.example.com", "a.b.example.com"
// and "*.a.example.com", never "example.com". Both are taken as written
// (Gateway API hostnames are lower case without a trailing dot).
func Matches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		h := strings.TrimPrefix(host, "*")
		return strings.HasSuffix(h, suffix) && len(h) > len(suffix)
	}
	return false
}

// Intersect returns the hostname a route hostname serves on a listener
// hostname ("" = any): the more specific of the two when one is within the
// other. ok is false when they have no host in common.
func Intersect(listener, route string) (string, bool) {
	switch {
	case listener == "":
		return route, true
	case route == "":
		return listener, true
	case Matches(listener, route):
		return route, true
	case Matches(route, listener):
		return listener, true
	}
	return "", false
}

// ComparePrecedence orders route hostnames by the HTTPRoute precedence: an
// exact name before a wildcard before none, then more characters first,
// then by name so the order is total.
func ComparePrecedence(a, b Name) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(len(b.Key), len(a.Key)), cmp.Compare(a.Key, b.Key))
}

// CompareListeners orders listener hostnames as they are written into the
// IR: exact first, then wildcards with more labels, then "" (any); ties by
// name. The order is what makes the configuration output stable, and the
// first listener of an HTTPS socket is the one whose certificate a client
// gets when its server name matches no listener.
func CompareListeners(a, b string) int {
	rank := func(h string) (int, int) {
		switch {
		case h == "":
			return 2, 0
		case strings.HasPrefix(h, "*."):
			return 1, -strings.Count(h, ".")
		}
		return 0, 0
	}
	ra, la := rank(a)
	rb, lb := rank(b)
	return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(la, lb), cmp.Compare(a, b))
}

// WildcardKeys yields the keys of every wildcard that covers a name whose own
// key (exact name or wildcard suffix) is key, longest first. For
// "a.b.example.com" that is ".b.example.com", ".example.com", ".com": a
// wildcard needs at least one character in front of its suffix.
func WildcardKeys(key string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := 1; i < len(key); i++ {
			if key[i] == '.' && !yield(key[i:]) {
				return
			}
		}
	}
}
