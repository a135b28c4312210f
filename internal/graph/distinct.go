package graph

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/hostname"
)

// The one listener-distinctness rule (Gateway API v1.7, GatewaySpec.Listeners
// "Distinct Listeners" and "Compatible Listeners"), used within a Gateway or
// ListenerSet (markConflicts), across a Gateway and its ListenerSets
// (mergeListeners) and across Gateways sharing a socket (resolvePortSharing).
// See doc.go for the decisions.

// network is the transport of a listener's socket: TCP and UDP listeners on
// the same port number use different sockets and never conflict.
type network uint8

const (
	networkTCP network = iota
	networkUDP
)

func (n network) String() string {
	if n == networkUDP {
		return "udp"
	}
	return "tcp"
}

// listenerKey is what decides whether two listeners are distinct. The tls
// field (Terminate or Passthrough) is not part of it: the spec says that
// listeners differing only in TLS config conflict in all cases.
type listenerKey struct {
	port     gwv1.PortNumber
	protocol gwv1.ProtocolType
	hostname string // canonical (package hostname); "" for TCP and UDP
}

func keyOf(spec *gwv1.Listener) listenerKey {
	k := listenerKey{port: spec.Port, protocol: spec.Protocol}
	if spec.Hostname != nil && byHostname(spec.Protocol) {
		k.hostname = hostname.Canonical(string(*spec.Hostname))
	}
	return k
}

func (k listenerKey) network() network {
	if k.protocol == gwv1.UDPProtocolType {
		return networkUDP
	}
	return networkTCP
}

// conflict says why a listener is not distinct from another one; the order
// is the precedence of reasons: a protocol conflict is reported before a
// hostname conflict.
type conflict uint8

const (
	noConflict conflict = iota
	hostnameConflict
	protocolConflict
)

// socketFamily groups the protocols that can share one socket: HTTP
// (cleartext), HTTPS and TLS (one TLS socket, the ClientHello's SNI picks
// the listener, whether it terminates or passes through), and every other
// protocol alone (TCP, UDP, and any protocol Portico does not know).
func socketFamily(p gwv1.ProtocolType) gwv1.ProtocolType {
	if p == gwv1.TLSProtocolType {
		return gwv1.HTTPSProtocolType
	}
	return p
}

// byHostname reports whether listeners of protocol p on one socket are told
// apart by hostname (HTTP, HTTPS, TLS) rather than by port alone (TCP, UDP).
func byHostname(p gwv1.ProtocolType) bool {
	switch p {
	case gwv1.HTTPProtocolType, gwv1.HTTPSProtocolType, gwv1.TLSProtocolType:
		return true
	}
	return false
}

// listenerConflict is the rule: whether listeners a and b can both be served,
// and if not, why. It is symmetric.
//
//   - Another port number, or the same number on another network (TCP vs
//     UDP): distinct.
//   - Protocols that cannot share a socket (HTTP with HTTPS or TLS; TCP with
//     anything else on TCP), or two listeners of a protocol told apart by
//     port alone (two TCP, two UDP): ProtocolConflict.
//   - HTTP with HTTP, and HTTPS or TLS (either mode) with HTTPS or TLS: the
//     same canonical hostname (both empty included) is HostnameConflict,
//     different hostnames are distinct.
func listenerConflict(a, b listenerKey) conflict {
	switch {
	case a.port != b.port || a.network() != b.network():
		return noConflict
	case socketFamily(a.protocol) != socketFamily(b.protocol) || !byHostname(a.protocol):
		return protocolConflict
	case a.hostname == b.hostname:
		return hostnameConflict
	}
	return noConflict
}

// groupConflicts applies the rule within one resource, where no listener
// wins: each listener gets the strongest conflict it has with any other one
// (noConflict when it is distinct from all).
func groupConflicts(keys []listenerKey) []conflict {
	out := make([]conflict, len(keys))
	for i := range keys {
		for j := range keys {
			if i != j {
				out[i] = max(out[i], listenerConflict(keys[i], keys[j]))
			}
		}
	}
	return out
}

// firstConflict applies the rule against listeners of higher precedence
// (claims, in precedence order), where the earlier one wins: it returns the
// index of the first claim k conflicts with by protocol, else the first one
// by hostname, else -1.
func firstConflict(claims []listenerKey, k listenerKey) (int, conflict) {
	found, why := -1, noConflict
	for i, c := range claims {
		if r := listenerConflict(c, k); r > why {
			found, why = i, r
			if r == protocolConflict {
				break
			}
		}
	}
	return found, why
}

// portLabel names the port of k for a message: "8080", or "8080/udp" for a
// UDP listener, whose port number another listener may use over TCP.
func (k listenerKey) portLabel() string {
	if k.network() == networkUDP {
		return fmt.Sprintf("%d/udp", k.port)
	}
	return fmt.Sprintf("%d", k.port)
}
