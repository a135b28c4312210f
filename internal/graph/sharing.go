package graph

import (
	"fmt"
	"net"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"

	"portico.dev/portico/internal/conditions"
)

// socket is where a listener is served: network, address and port.
type socket struct {
	network network
	addr    string
	port    int32
}

func (s socket) String() string {
	hp := net.JoinHostPort(s.addr, strconv.Itoa(int(s.port)))
	if s.network == networkUDP {
		return hp + "/udp"
	}
	return hp
}

// socketClaim is a listener served on a socket.
type socketClaim struct {
	key listenerKey
	l   *Listener
}

// resolvePortSharing applies the listener distinctness rule (listenerConflict)
// across Gateways that one process serves (standalone mode): Gateways binding
// the same address and port share the socket when their listeners are
// distinct. A later Gateway's listener that is not gets
// Accepted=False/PortUnavailable; the older Gateway keeps serving. A
// listener that loses on one address claims none of the others.
func resolvePortSharing(gws []*Gateway) {
	sockets := map[socket][]socketClaim{}
	for _, gw := range gws {
		changed := false
		for _, l := range gw.AllListeners() {
			if !l.Valid() {
				continue
			}
			k := keyOf(l.Spec)
			if msg := sharingConflict(sockets, gw, k); msg != "" {
				meta.SetStatusCondition(&l.Conditions, conditions.ListenerPortUnavailable(msg))
				changed = true
				continue
			}
			for _, addr := range gw.Addresses {
				s := socket{k.network(), addr, int32(k.port)}
				sockets[s] = append(sockets[s], socketClaim{k, l})
			}
		}
		if changed && gw.Accepted() {
			meta.SetStatusCondition(&gw.Conditions, acceptedFromListeners(gw.Listeners))
		}
		if changed {
			for _, ls := range gw.ListenerSets {
				ls.reaccept()
			}
		}
	}
}

// sharingConflict says why a listener of gw with key k cannot share a
// socket of gw's addresses with another Gateway's listener ("" when it
// can). Listeners of gw itself were made distinct by markConflicts and
// mergeListeners.
func sharingConflict(sockets map[socket][]socketClaim, gw *Gateway, k listenerKey) string {
	for _, addr := range gw.Addresses {
		s := socket{k.network(), addr, int32(k.port)}
		var keys []listenerKey
		var owners []*Listener
		for _, c := range sockets[s] {
			if c.l.Gateway != gw {
				keys = append(keys, c.key)
				owners = append(owners, c.l)
			}
		}
		i, why := firstConflict(keys, k)
		switch why {
		case protocolConflict:
			o := owners[i]
			return fmt.Sprintf("%s is already served with protocol %s by Gateway %s/%s; use another port or address",
				s, o.Spec.Protocol, o.Gateway.Object.Namespace, o.Gateway.Object.Name)
		case hostnameConflict:
			o := owners[i]
			return fmt.Sprintf("%s already serves hostname %q for %s/%s/%s; use a distinct hostname, port or address",
				s, k.hostname, o.Gateway.Object.Namespace, o.Gateway.Object.Name, o.Spec.Name)
		}
	}
	return ""
}
