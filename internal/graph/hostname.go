package graph

import "strings"

// hostnameMatches reports whether host (exact or wildcard) is within pattern
// (exact or wildcard): "*.example.com" covers "a.example.com",
// "a.b.example.com" and "*.a.example.com", never "example.com".
func hostnameMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		h := strings.TrimPrefix(host, "*")
		return strings.HasSuffix(h, suffix) && len(h) > len(suffix)
	}
	return false
}

// intersectHostname returns the hostnames a route hostname serves on a
// listener hostname ("" = any), and whether they intersect at all.
func intersectHostname(listener, route string) (string, bool) {
	switch {
	case listener == "":
		return route, true
	case route == "":
		return listener, true
	case hostnameMatches(listener, route):
		return route, true
	case hostnameMatches(route, listener):
		return listener, true
	}
	return "", false
}
