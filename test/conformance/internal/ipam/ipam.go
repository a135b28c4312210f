// Package ipam hands out IPv4 addresses from a prefix, for the fake
// kubelet's Pod IPs and the load balancer's Service IPs. Input: a prefix and
// the addresses to keep out; output: free addresses, released when done.
package ipam

import (
	"fmt"
	"net/netip"
	"sync"
)

// Allocator hands out the addresses of one prefix, lowest free first after
// the last one given (so a released address is not reused at once).
type Allocator struct {
	mu     sync.Mutex
	prefix netip.Prefix
	used   map[netip.Addr]string
	next   netip.Addr
}

// New returns an allocator for prefix that never gives out reserved.
func New(prefix string, reserved ...string) (*Allocator, error) {
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	p = p.Masked()
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("ipam: %s: only IPv4 prefixes are supported", prefix)
	}
	a := &Allocator{prefix: p, used: map[netip.Addr]string{}, next: p.Addr().Next()}
	a.used[p.Addr()] = "network"
	for _, r := range reserved {
		addr, err := netip.ParseAddr(r)
		if err != nil {
			return nil, err
		}
		a.used[addr] = "reserved"
	}
	return a, nil
}

// Contains reports whether addr is in the allocator's prefix.
func (a *Allocator) Contains(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	return err == nil && a.prefix.Contains(ip)
}

// Allocate returns a free address and records owner for it.
func (a *Allocator) Allocate(owner string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := a.next
	for ip := start; ; {
		if _, taken := a.used[ip]; !taken && ip != lastAddr(a.prefix) {
			a.used[ip] = owner
			a.next = a.wrap(ip.Next())
			return ip.String(), nil
		}
		ip = a.wrap(ip.Next())
		if ip == start {
			return "", fmt.Errorf("ipam: %s is exhausted", a.prefix)
		}
	}
}

// Reserve records owner for addr; it fails if another owner holds it or
// addr is outside the prefix.
func (a *Allocator) Reserve(addr, owner string) error {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return err
	}
	if !a.prefix.Contains(ip) {
		return fmt.Errorf("ipam: %s is not in %s", addr, a.prefix)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if o, taken := a.used[ip]; taken && o != owner {
		return fmt.Errorf("ipam: %s is already used by %s", addr, o)
	}
	a.used[ip] = owner
	return nil
}

// Release frees addr if owner holds it.
func (a *Allocator) Release(addr, owner string) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.used[ip] == owner {
		delete(a.used, ip)
	}
}

func (a *Allocator) wrap(ip netip.Addr) netip.Addr {
	if !a.prefix.Contains(ip) {
		return a.prefix.Addr().Next()
	}
	return ip
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	bits := p.Bits()
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	return netip.AddrFrom4(b)
}
