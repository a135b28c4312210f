package status

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// DataPlane is what the projection needs to know of the data plane.
type DataPlane interface {
	// Ack is the data plane's answer for the Gateway's configuration; nil
	// until it has answered.
	Ack(gw *graph.Gateway) *ir.Ack
	// Addresses are the Gateway's addresses; nil while none is assigned.
	Addresses(gw *graph.Gateway) []gwv1.GatewayStatusAddress
}

// AddressChecker is implemented by a DataPlane whose addresses come from
// infrastructure that may refuse some of a Gateway's spec.addresses (in a
// cluster, the load balancer of the Gateway's Service).
type AddressChecker interface {
	// UnusableAddresses says which requested addresses the infrastructure
	// did not assign; "" when it assigned them all, or has not answered yet.
	UnusableAddresses(gw *graph.Gateway) string
}

// AddressAssigner is implemented by a DataPlane whose infrastructure
// assigns addresses entry by entry (GEP-5093): the Gateway then gets the
// AddressesAssigned condition once the infrastructure has answered.
type AddressAssigner interface {
	// AddressAssignment returns the spec.addresses entries (or the default
	// address) that could not be met, each saying why, and whether the
	// infrastructure has yet to answer for some.
	AddressAssignment(gw *graph.Gateway) (unsatisfied []string, pending bool)
}

// Standalone is the DataPlane of one in-process proxy serving every Gateway
// on the addresses it binds.
type Standalone struct{ Answer *ir.Ack }

func (s Standalone) Ack(*graph.Gateway) *ir.Ack { return s.Answer }

func (s Standalone) Addresses(gw *graph.Gateway) []gwv1.GatewayStatusAddress {
	var out []gwv1.GatewayStatusAddress
	for _, a := range gw.Addresses {
		out = append(out, gwv1.GatewayStatusAddress{Type: addrType(gwv1.IPAddressType), Value: a})
	}
	return out
}

// Project computes the status of every object of ours. prev is the status
// the objects have now (in a cluster, as read from the API server; in
// standalone mode, the previous projection); conditions and route parents
// that other controllers own are kept from it as they are. now stamps the
// conditions that changed.
func Project(g *graph.Graph, dp DataPlane, prev []Object, now time.Time) []Object {
	p := projector{dp: dp, prev: map[Key]Object{}, now: metav1.NewTime(now.UTC().Truncate(time.Second))}
	for _, o := range prev {
		p.prev[o.Key()] = o
	}
	var out []Object
	for _, c := range g.Classes {
		if !c.Implicit {
			out = append(out, p.class(c))
		}
	}
	for _, gw := range g.Gateways {
		out = append(out, p.gateway(gw))
	}
	for _, ls := range g.ListenerSets {
		out = append(out, p.listenerSet(ls))
	}
	for _, r := range g.Routes {
		if o, ok := p.route(r); ok {
			out = append(out, o)
		}
	}
	for _, bp := range g.BackendTLSPolicies {
		if o, ok := p.backendTLSPolicy(bp); ok {
			out = append(out, o)
		}
	}
	sortObjects(out)
	return out
}

// previous is the status of the kind ns/name object as last written, nil
// when none.
func previous[S any](p *projector, kind, ns, name string) *S {
	if po, ok := p.prev[Key{kind, ns, name}]; ok {
		return po.Status.(*S)
	}
	return nil
}

type projector struct {
	dp   DataPlane
	prev map[Key]Object
	now  metav1.Time
	ack  *ir.Ack // of the Gateway being projected
}

func (p *projector) class(c *graph.Class) Object {
	o := c.Object
	var prev []metav1.Condition
	if ps := previous[gwv1.GatewayClassStatus](p, "GatewayClass", "", o.Name); ps != nil {
		prev = ps.Conditions
	}
	st := &gwv1.GatewayClassStatus{Conditions: mergeConditions(prev, c.Conditions, classTypes, o.Generation, p.now)}
	return Object{APIVersion: gwv1.GroupVersion.String(), Kind: "GatewayClass",
		Metadata: Metadata{Name: o.Name, Generation: o.Generation}, Status: st}
}

func (p *projector) gateway(gw *graph.Gateway) Object {
	o := gw.Object
	prev := previous[gwv1.GatewayStatus](p, "Gateway", o.Namespace, o.Name)
	p.ack = p.dp.Ack(gw)
	addresses := p.dp.Addresses(gw)
	listeners, programmed, listenerProblems := p.listeners(gw.Listeners, prev)
	st := &gwv1.GatewayStatus{Listeners: listeners}
	conds := append([]metav1.Condition(nil), gw.Conditions...)
	switch {
	case !gw.Accepted():
		conds = append(conds, conditions.GatewayNotProgrammed("the Gateway is not accepted; see the Accepted condition"))
	case p.ack == nil:
		conds = append(conds, conditions.GatewayProgrammedPending("waiting for the proxy to apply the configuration"))
	case p.ack.Error != "":
		conds = append(conds, conditions.GatewayNotProgrammed("the proxy refused the configuration: "+p.ack.Error))
	case unusableAddresses(p.dp, gw) != "":
		conds = append(conds, conditions.GatewayAddressNotUsable(unusableAddresses(p.dp, gw)))
	case len(addresses) == 0:
		conds = append(conds, conditions.GatewayAddressNotAssigned("no address is assigned to the Gateway yet"))
	case programmed > 0:
		conds = append(conds, conditions.GatewayProgrammed())
	case len(listenerProblems) > 0 && len(o.Spec.Addresses) > 0:
		conds = append(conds, conditions.GatewayAddressNotUsable(strings.Join(listenerProblems, "; ")))
	case len(listenerProblems) > 0:
		conds = append(conds, conditions.GatewayProgrammedPending(strings.Join(listenerProblems, "; ")))
	default:
		conds = append(conds, conditions.GatewayNotProgrammed("no listener can be programmed; see the listeners' conditions"))
	}
	if c := addressesAssigned(p.dp, gw, addresses); c != nil {
		conds = append(conds, *c)
	}
	var prevConds []metav1.Condition
	if prev != nil {
		prevConds = prev.Conditions
	}
	st.Conditions = mergeConditions(prevConds, conds, gatewayTypes, o.Generation, p.now)
	if gw.Accepted() {
		st.Addresses = addresses
	}
	st.AttachedListenerSets = attachedListenerSets(gw)
	return Object{APIVersion: gwv1.GroupVersion.String(), Kind: "Gateway",
		Metadata: Metadata{Namespace: o.Namespace, Name: o.Name, Generation: o.Generation}, Status: st}
}

// addressesAssigned is the AddressesAssigned condition of an accepted
// Gateway whose DataPlane assigns addresses, once it has answered; nil
// otherwise.
func addressesAssigned(dp DataPlane, gw *graph.Gateway, addresses []gwv1.GatewayStatusAddress) *metav1.Condition {
	aa, ok := dp.(AddressAssigner)
	if !ok || !gw.Accepted() {
		return nil
	}
	unsatisfied, pending := aa.AddressAssignment(gw)
	var c metav1.Condition
	switch {
	case len(unsatisfied) > 0 && len(addresses) > 0:
		c = conditions.GatewayAddressesPartiallyAssigned("not assigned: " + strings.Join(unsatisfied, "; "))
	case len(unsatisfied) > 0:
		c = conditions.GatewayAddressesNotAssigned("not assigned: " + strings.Join(unsatisfied, "; "))
	case pending:
		return nil
	default:
		c = conditions.GatewayAddressesAssigned()
	}
	return &c
}

func unusableAddresses(dp DataPlane, gw *graph.Gateway) string {
	if ac, ok := dp.(AddressChecker); ok {
		return ac.UnusableAddresses(gw)
	}
	return ""
}

func addrType(t gwv1.AddressType) *gwv1.AddressType { return &t }

// listeners projects listeners (prev is their Gateway's previous status,
// nil when none): their statuses, how many are programmed, and the
// problems of serving ones that could not be.
func (p *projector) listeners(listeners []*graph.Listener, prev *gwv1.GatewayStatus) (sts []gwv1.ListenerStatus, programmed int, problems []string) {
	for _, l := range listeners {
		st, ok, problem := p.listener(l, prev)
		sts = append(sts, st)
		if ok {
			programmed++
		} else if problem != "" {
			problems = append(problems, problem)
		}
	}
	return sts, programmed, problems
}

// listener projects one listener; ok is true when it is programmed, and
// problem says why a serving listener could not be programmed.
func (p *projector) listener(l *graph.Listener, prev *gwv1.GatewayStatus) (gwv1.ListenerStatus, bool, string) {
	conds := append([]metav1.Condition(nil), l.Conditions...)
	ok, problem := false, ""
	switch {
	case l.ListenerSet != nil && lostToPrecedence(l):
		conds = append(conds, conditions.ListenerNotProgrammedConflicted(*meta.FindStatusCondition(l.Conditions, string(gwv1.ListenerConditionConflicted))))
	case !l.Valid():
		conds = append(conds, conditions.ListenerNotProgrammed("the listener is not accepted or is conflicted"))
	case !l.Serving() && l.Gateway.Accepted():
		conds = append(conds, conditions.ListenerNotProgrammed("the listener has no usable certificate; see ResolvedRefs"))
	case !l.Serving():
		conds = append(conds, conditions.ListenerNotProgrammed("the Gateway is not accepted"))
	case p.ack == nil:
		conds = append(conds, conditions.ListenerProgrammedPending("waiting for the proxy to apply the configuration"))
	case p.ack.Error != "":
		conds = append(conds, conditions.ListenerNotProgrammed("the proxy refused the configuration: "+p.ack.Error))
	default:
		var c metav1.Condition
		c, ok, problem = socketCondition(p.ack, l)
		conds = append(conds, c)
	}
	var prevConds []metav1.Condition
	if prev != nil {
		for _, pl := range prev.Listeners {
			if pl.Name == l.Spec.Name {
				prevConds = pl.Conditions
			}
		}
	}
	return gwv1.ListenerStatus{
		Name:           l.Spec.Name,
		SupportedKinds: l.SupportedKinds,
		AttachedRoutes: int32(attachedRoutes(l)),
		Conditions:     mergeConditions(prevConds, conds, listenerTypes, listenerGeneration(l), p.now),
	}, ok, problem
}

func attachedRoutes(l *graph.Listener) int { return len(l.Routes) }

func sameParentRef(a, b gwv1.ParentReference) bool {
	str := func(p *gwv1.ParentReference) string {
		s := fmt.Sprintf("%v/%v/%v/%s", deref(p.Group), deref(p.Kind), deref(p.Namespace), p.Name)
		return s + fmt.Sprintf("/%v/%v", deref(p.SectionName), deref(p.Port))
	}
	return str(&a) == str(&b)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// socketCondition is the Programmed condition of a serving listener from
// what the proxy said of its sockets (one per Gateway address): ok when
// every socket is served, and problem, for a socket being retried, says
// why it is not (the Gateway's Programmed reports it).
func socketCondition(ack *ir.Ack, l *graph.Listener) (c metav1.Condition, ok bool, problem string) {
	var invalid, notAccepting string
	for _, addr := range l.Gateway.Addresses {
		name := net.JoinHostPort(addr, strconv.Itoa(int(l.Spec.Port)))
		if err, bad := ack.InvalidListeners[name]; bad {
			invalid = fmt.Sprintf("the proxy cannot build socket %s, so this listener's configuration is not applied "+
				"(a socket it served before keeps its previous configuration): %s; fix the listener (spec.listeners[name=%s]) or what it refers to",
				name, err, l.Spec.Name)
		}
		if err, bad := ack.ListenerErrors[name]; bad {
			problem = fmt.Sprintf("cannot serve %s: %s", name, err)
		}
		if err, bad := ack.NotAccepting[name]; bad {
			notAccepting = fmt.Sprintf("socket %s is not accepting connections: %s; the proxy retries with backoff "+
				"(raise the file descriptor limit or lower --max-connections if this lasts)", name, err)
		}
	}
	switch {
	case invalid != "":
		return conditions.ListenerNotProgrammed(invalid), false, ""
	case problem != "":
		return conditions.ListenerProgrammedPending(problem + "; retried in the background with backoff (free the port or fix the address)"), false, problem
	case notAccepting != "":
		return conditions.ListenerProgrammedPending(notAccepting), false, notAccepting
	}
	return conditions.ListenerProgrammed(), true, ""
}
