package graph

import (
	"fmt"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

func buildGateways(s *resource.Snapshot, ix *resource.Index, classes []*Class, opts Options, warnings *[]string) []*Gateway {
	byName := map[string]*Class{}
	for _, c := range classes {
		byName[c.Object.Name] = c
	}
	var out []*Gateway
	for _, obj := range sortedBy(s.Gateways, func(g *gwv1.Gateway) *metav1.ObjectMeta { return &g.ObjectMeta }) {
		class, ok := byName[string(obj.Spec.GatewayClassName)]
		if !ok {
			*warnings = append(*warnings, fmt.Sprintf("Gateway %s/%s: spec.gatewayClassName %q: %s",
				obj.Namespace, obj.Name, obj.Spec.GatewayClassName, classMismatch(string(obj.Spec.GatewayClassName), s, classes)))
			continue
		}
		out = append(out, buildGateway(obj, class, ix, opts))
	}
	return out
}

func buildGateway(obj *gwv1.Gateway, class *Class, ix *resource.Index, opts Options) *Gateway {
	gw := &Gateway{Object: obj, Class: class}
	for i := range obj.Spec.Listeners {
		gw.Listeners = append(gw.Listeners, buildListener(gw, nil, &obj.Spec.Listeners[i], ix))
	}
	markConflicts(gw.Listeners)

	addrs, addrErr := bindAddresses(obj, opts.BindAddress)
	if opts.ProvisionedAddresses && addrErr == "" {
		addrs = []string{opts.BindAddress}
	}
	gw.Addresses = addrs
	switch {
	case !class.accepted():
		gw.Conditions = append(gw.Conditions, conditions.GatewayInvalidParameters(
			fmt.Sprintf("GatewayClass %s is not accepted; fix the GatewayClass first", class.Object.Name)))
	case addrErr != "":
		gw.Conditions = append(gw.Conditions, conditions.GatewayUnsupportedAddress(addrErr))
	case obj.Spec.Infrastructure != nil && obj.Spec.Infrastructure.ParametersRef != nil:
		gw.Conditions = append(gw.Conditions, conditions.GatewayInvalidParameters(
			"spec.infrastructure.parametersRef: portico.dev/gateway-controller takes no parameters; remove parametersRef"))
	default:
		gw.Conditions = append(gw.Conditions, acceptedFromListeners(gw.Listeners))
	}
	resolveBackendClientCertificate(gw, ix)
	if c := insecureFrontendValidation(obj); c != nil {
		gw.Conditions = append(gw.Conditions, *c)
	}
	return gw
}

// onlyListenersInvalid reports whether the Gateway is rejected only because
// none of its listeners is valid.
func (g *Gateway) onlyListenersInvalid() bool {
	c := meta.FindStatusCondition(g.Conditions, string(gwv1.GatewayConditionAccepted))
	return c != nil && c.Reason == string(gwv1.GatewayReasonListenersNotValid)
}

// acceptedFromListeners is Accepted=True when every listener is valid,
// Accepted=True/ListenersNotValid when some are, and False when none is.
func acceptedFromListeners(ls []*Listener) metav1.Condition {
	var bad []string
	for _, l := range ls {
		if !l.Valid() {
			bad = append(bad, string(l.Spec.Name))
		}
	}
	switch {
	case len(bad) == 0:
		return conditions.GatewayAccepted()
	case len(bad) < len(ls):
		return conditions.GatewaySomeListenersInvalid(fmt.Sprintf(
			"listeners %s are not valid (see their conditions); the others are served", strings.Join(bad, ", ")))
	default:
		return conditions.GatewayListenersNotValid("no listener is valid (see the listeners' conditions)")
	}
}

// bindAddresses returns the IPs a Gateway listens on, or why its
// spec.addresses cannot be used.
func bindAddresses(obj *gwv1.Gateway, def string) ([]string, string) {
	if len(obj.Spec.Addresses) == 0 {
		return []string{def}, ""
	}
	var out []string
	for i, a := range obj.Spec.Addresses {
		typ := gwv1.IPAddressType
		if a.Type != nil {
			typ = *a.Type
		}
		if typ != gwv1.IPAddressType {
			return nil, fmt.Sprintf("spec.addresses[%d].type: %s is not supported; use IPAddress", i, typ)
		}
		if a.Value == "" {
			out = append(out, def)
			continue
		}
		ip, err := netip.ParseAddr(a.Value)
		if err != nil {
			return nil, fmt.Sprintf("spec.addresses[%d].value: %q is not an IP address", i, a.Value)
		}
		out = append(out, ip.String())
	}
	return dedupe(out), ""
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
