package graph

import (
	"fmt"
	"net"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
)

// resolvePortSharing applies the listener distinctness rules across Gateways
// that one process serves (standalone mode): Gateways binding the same
// address and port share the socket when their listeners have the same
// protocol and distinct hostnames. A later Gateway's listener that would clash
// gets Accepted=False/PortUnavailable; the older Gateway keeps serving.
func resolvePortSharing(gws []*Gateway) {
	type owner struct {
		gw        *Gateway
		protocol  gwv1.ProtocolType
		hostnames map[string]string // hostname -> "gateway/listener"
	}
	sockets := map[string]*owner{}
	for _, gw := range gws {
		changed := false
		for _, l := range gw.AllListeners() {
			if !l.Valid() {
				continue
			}
			for _, addr := range gw.Addresses {
				key := net.JoinHostPort(addr, strconv.Itoa(int(l.Spec.Port)))
				o, ok := sockets[key]
				if !ok {
					o = &owner{gw: gw, protocol: l.Spec.Protocol, hostnames: map[string]string{}}
					sockets[key] = o
				}
				holder, taken := o.hostnames[l.Hostname()]
				switch {
				case o.protocol != l.Spec.Protocol:
					meta.SetStatusCondition(&l.Conditions, conditions.ListenerPortUnavailable(fmt.Sprintf(
						"%s is already served with protocol %s by Gateway %s/%s; use another port or address",
						key, o.protocol, o.gw.Object.Namespace, o.gw.Object.Name)))
				case taken && o.gw != gw:
					meta.SetStatusCondition(&l.Conditions, conditions.ListenerPortUnavailable(fmt.Sprintf(
						"%s already serves hostname %q for %s; use a distinct hostname, port or address",
						key, l.Hostname(), holder)))
				default:
					if !taken {
						o.hostnames[l.Hostname()] = gw.Object.Namespace + "/" + gw.Object.Name + "/" + string(l.Spec.Name)
					}
					continue
				}
				changed = true
				break
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
