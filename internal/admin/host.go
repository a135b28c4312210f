package admin

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// HostPolicy says which Host headers the admin API answers. A page on
// another site cannot read the admin API through the browser (same-origin
// policy) unless its name resolves to this host's address (DNS rebinding);
// such requests carry the attacker's name in Host, so answering only known
// names and addresses defeats it.
type HostPolicy struct {
	any   bool                // "*" was allowed: no check
	names map[string]bool     // lower case, without port or trailing dot
	ips   map[netip.Addr]bool // besides loopback
	// ipLiterals allows every IP address: the admin socket is bound to
	// all addresses (0.0.0.0 or ::), so probes reach it by any of them;
	// a rebinding page cannot send an IP address as Host.
	ipLiterals bool
}

// NewHostPolicy returns the policy for an admin API listening on
// adminAddr (host:port) that also accepts the names or addresses in extra
// ("*" accepts any Host). Always accepted: localhost, 127.0.0.0/8 and ::1,
// with or without port, and a request without Host.
func NewHostPolicy(adminAddr string, extra []string) HostPolicy {
	p := HostPolicy{names: map[string]bool{"localhost": true}, ips: map[netip.Addr]bool{}}
	if host, _, err := net.SplitHostPort(adminAddr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil {
			if ip.IsUnspecified() {
				p.ipLiterals = true
			} else {
				p.ips[ip.Unmap()] = true
			}
		} else if host == "" {
			p.ipLiterals = true
		}
	}
	for _, e := range extra {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case e == "*":
			p.any = true
		default:
			h := normalizeHost(e)
			if ip, err := netip.ParseAddr(h); err == nil {
				p.ips[ip.Unmap()] = true
			} else {
				p.names[h] = true
			}
		}
	}
	return p
}

// normalizeHost strips a port, IPv6 brackets and a trailing dot, and
// lower-cases.
func normalizeHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// Allows reports whether a request with this Host header is answered.
func (p HostPolicy) Allows(hostHeader string) bool {
	if p.any || hostHeader == "" {
		return true
	}
	h := normalizeHost(hostHeader)
	if ip, err := netip.ParseAddr(h); err == nil {
		ip = ip.Unmap()
		return ip.IsLoopback() || p.ipLiterals || p.ips[ip]
	}
	return p.names[h]
}

// WithHostCheck answers 403 to requests whose Host p does not allow.
func WithHostCheck(h http.Handler, p HostPolicy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.Allows(r.Host) {
			http.Error(w, fmt.Sprintf("admin API: Host %q is not allowed (protection against DNS rebinding); "+
				"use localhost, 127.0.0.1 or [::1], or add the name with --admin-allowed-hosts", r.Host), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
