package graph

import (
	"bytes"
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/certs/certref"
	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/resource"
)

// Backend TLS: BackendTLSPolicies and the Gateway's client certificate.
//
// A BackendTLSPolicy targets a Service (optionally one port, by
// sectionName = port name). When several policies select the same Service
// and sectionName, the oldest (then "namespace/name" first) wins and the
// others are Conflicted there; the winner is chosen by age alone, so an
// invalid older policy must be fixed or removed rather than silently skipped.
// A backendRef to a Service port uses the policy of that port's name if
// there is one, else the policy of the whole Service.
//
// A policy's status is per ancestor Gateway: every Gateway of ours to which
// a route using a targeted Service is attached.
//
// A backend whose policy is not valid fails its requests with 500 (the
// policy's status says why); it never falls back to cleartext. Backends
// reached through a route of any kind are covered (Route.eachBackend: for
// an HTTPRoute, its backendRefs, mirrors and backendRef filters).

// BackendTLSPolicy is one BackendTLSPolicy and what it resolved to.
type BackendTLSPolicy struct {
	Object *gwv1.BackendTLSPolicy
	// Problem is the Accepted=False condition (Invalid or
	// NoValidCACertificate) when the policy cannot be used; nil when it can.
	Problem *metav1.Condition
	// ResolvedRefs is the ResolvedRefs condition of its caCertificateRefs.
	ResolvedRefs metav1.Condition
	// TLS is what backends under this policy get (Invalid set when Problem is).
	TLS *BackendTLS
	// lostTo[i] is the policy that won targetRefs[i], nil when this one did.
	lostTo []*BackendTLSPolicy
	// Ancestors are the Gateways the policy applies through, sorted by
	// namespace and name.
	Ancestors []*PolicyAncestor
}

// PolicyAncestor is the status of a policy for one Gateway.
type PolicyAncestor struct {
	Gateway  *Gateway
	Accepted metav1.Condition
}

// BackendTLS is how the proxy connects to a backend under a policy.
type BackendTLS struct {
	Policy          *BackendTLSPolicy
	ServerName      string
	CACertificates  []byte // PEM
	SystemRoots     bool
	SubjectAltNames []ir.SubjectAltName
	// Invalid, when set, says why connections must fail.
	Invalid string
}

// NamespacedName returns the policy's key.
func (p *BackendTLSPolicy) NamespacedName() types.NamespacedName {
	return types.NamespacedName{Namespace: p.Object.Namespace, Name: p.Object.Name}
}

type policyTarget struct {
	namespace, service, section string
}

// backendTLSIndex finds the policy of a Service port.
type backendTLSIndex struct {
	winners   map[policyTarget]*BackendTLSPolicy
	policies  []*BackendTLSPolicy
	byService map[types.NamespacedName][]*BackendTLSPolicy
}

// forBackend returns the policy settings that apply to a resolved backend,
// nil when no policy does.
func (x *backendTLSIndex) forBackend(b *Backend) *BackendTLS {
	if b.Service.Name == "" {
		return nil
	}
	if b.PortName != "" {
		if p := x.winners[policyTarget{b.Service.Namespace, b.Service.Name, b.PortName}]; p != nil {
			return p.TLS
		}
	}
	if p := x.winners[policyTarget{b.Service.Namespace, b.Service.Name, ""}]; p != nil {
		return p.TLS
	}
	return nil
}

// bindBackendTLS validates every BackendTLSPolicy, applies them to the
// backends of the routes, and records each policy's ancestors.
func bindBackendTLS(s *resource.Snapshot, ix *resource.Index, routes []Route) []*BackendTLSPolicy {
	x := buildBackendTLSPolicies(s, ix)
	for _, r := range routes {
		applyBackendTLS(x, r)
		recordAncestors(x, ix, r)
	}
	for _, p := range x.policies {
		slices.SortFunc(p.Ancestors, func(a, b *PolicyAncestor) int {
			return cmp.Or(cmp.Compare(a.Gateway.Object.Namespace, b.Gateway.Object.Namespace),
				cmp.Compare(a.Gateway.Object.Name, b.Gateway.Object.Name))
		})
	}
	return x.policies
}

func buildBackendTLSPolicies(s *resource.Snapshot, ix *resource.Index) *backendTLSIndex {
	x := &backendTLSIndex{winners: map[policyTarget]*BackendTLSPolicy{}, byService: map[types.NamespacedName][]*BackendTLSPolicy{}}
	for _, obj := range sortedBy(s.BackendTLSPolicies, func(p *gwv1.BackendTLSPolicy) *metav1.ObjectMeta { return &p.ObjectMeta }) {
		p := &BackendTLSPolicy{Object: obj}
		validateBackendTLSPolicy(p, ix)
		p.lostTo = make([]*BackendTLSPolicy, len(obj.Spec.TargetRefs))
		for i, t := range obj.Spec.TargetRefs {
			if t.Group != "" || t.Kind != "Service" {
				continue // never matches a backend (see targetsBackend): no ancestors
			}
			svc := types.NamespacedName{Namespace: obj.Namespace, Name: string(t.Name)}
			if !slices.Contains(x.byService[svc], p) {
				x.byService[svc] = append(x.byService[svc], p)
			}
			key := policyTarget{obj.Namespace, string(t.Name), sectionName(t.SectionName)}
			if w := x.winners[key]; w != nil {
				p.lostTo[i] = w
				continue
			}
			x.winners[key] = p
		}
		x.policies = append(x.policies, p)
	}
	return x
}

func sectionName(s *gwv1.SectionName) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

// validateBackendTLSPolicy sets Problem, ResolvedRefs and TLS.
func validateBackendTLSPolicy(p *BackendTLSPolicy, ix *resource.Index) {
	spec := &p.Object.Spec
	v := &spec.Validation
	tls := &BackendTLS{Policy: p, ServerName: string(v.Hostname)}
	p.TLS = tls
	invalid := func(format string, a ...any) {
		if p.Problem == nil {
			c := conditions.PolicyInvalid(fmt.Sprintf(format, a...))
			p.Problem = &c
		}
	}
	if len(spec.Options) > 0 {
		keys := make([]string, 0, len(spec.Options))
		for k := range spec.Options {
			keys = append(keys, string(k))
		}
		slices.Sort(keys)
		invalid("spec.options: %s not supported by portico.dev/gateway-controller; remove them (the policy is not applied rather than applied without them)", strings.Join(keys, ", "))
	}
	switch {
	case v.Hostname == "":
		invalid("spec.validation.hostname is required: the SNI and the name the backend certificate must match")
	case strings.Contains(string(v.Hostname), "*"):
		invalid("spec.validation.hostname %q: a wildcard is not a valid SNI; give the backend's exact hostname", v.Hostname)
	}
	for i, san := range v.SubjectAltNames {
		f := fmt.Sprintf("spec.validation.subjectAltNames[%d]", i)
		switch san.Type {
		case gwv1.HostnameSubjectAltNameType:
			if san.Hostname == "" {
				invalid("%s.hostname is required for type Hostname", f)
				continue
			}
			tls.SubjectAltNames = append(tls.SubjectAltNames, ir.SubjectAltName{Hostname: strings.ToLower(string(san.Hostname))})
		case gwv1.URISubjectAltNameType:
			u, err := url.Parse(string(san.URI))
			if san.URI == "" || err != nil || u.Scheme == "" || (u.Opaque == "" && u.Host == "" && u.Path == "") {
				invalid("%s.uri %q is not an absolute URI with a scheme (such as spiffe://trust.domain/workload)", f, san.URI)
				continue
			}
			tls.SubjectAltNames = append(tls.SubjectAltNames, ir.SubjectAltName{URI: string(san.URI)})
		default:
			invalid("%s.type %q is not supported; use Hostname or URI", f, san.Type)
		}
	}

	p.ResolvedRefs = conditions.PolicyResolvedRefs()
	wellKnown := v.WellKnownCACertificates != nil && *v.WellKnownCACertificates != ""
	switch {
	case wellKnown && len(v.CACertificateRefs) > 0:
		invalid("spec.validation: set either caCertificateRefs or wellKnownCACertificates, not both")
	case wellKnown && *v.WellKnownCACertificates != gwv1.WellKnownCACertificatesSystem:
		invalid("spec.validation.wellKnownCACertificates %q is not supported; use System or caCertificateRefs", *v.WellKnownCACertificates)
	case wellKnown:
		tls.SystemRoots = true
	case len(v.CACertificateRefs) == 0:
		invalid("spec.validation: caCertificateRefs or wellKnownCACertificates is required to verify the backend")
	default:
		resolveCACertificates(p, ix)
	}
	if p.Problem != nil {
		tls.Invalid = fmt.Sprintf("BackendTLSPolicy %s is not valid: %s", p.NamespacedName(), p.Problem.Message)
	}
}

// resolveCACertificates reads every caCertificateRef; the valid ones are
// trusted together. When some are invalid, ResolvedRefs is False (for the
// first) and the others are used; when all are, the policy is not accepted.
func resolveCACertificates(p *BackendTLSPolicy, ix *resource.Index) {
	ns := p.Object.Namespace
	var bundle bytes.Buffer
	var first *metav1.Condition
	var problems []string
	fail := func(c metav1.Condition) {
		if first == nil {
			first = &c
		}
		problems = append(problems, c.Message)
	}
	for i, ref := range p.Object.Spec.Validation.CACertificateRefs {
		f := fmt.Sprintf("spec.validation.caCertificateRefs[%d]", i)
		b, bad := certref.Resolve(ix, certref.Ref{Group: string(ref.Group), Kind: string(ref.Kind), Namespace: ns, Name: string(ref.Name)},
			certref.ConfigMap|certref.Secret|certref.ClusterTrustBundle, nil)
		switch {
		case bad == nil:
			bundle.Write(b.PEM)
		case bad.Reason == certref.UnsupportedKind:
			fail(conditions.PolicyInvalidKind(fmt.Sprintf(
				"%s: %s is not a supported kind; reference a ConfigMap (key ca.crt), a Secret (key ca.crt) or a certificates.k8s.io ClusterTrustBundle",
				f, qualifiedKind(string(ref.Group), string(ref.Kind)))))
		default:
			fail(conditions.PolicyInvalidCACertificateRef(f + ": " + bad.Message))
		}
	}
	if first != nil {
		// The reason is the first problem's; the message names them all.
		p.ResolvedRefs = *first
		p.ResolvedRefs.Message = strings.Join(problems, "; ")
	}
	if bundle.Len() == 0 {
		c := conditions.PolicyNoValidCACertificate(
			"no caCertificateRef holds a usable CA certificate, so the backend cannot be verified: " + p.ResolvedRefs.Message)
		if p.Problem == nil {
			p.Problem = &c
		}
		return
	}
	p.TLS.CACertificates = bundle.Bytes()
}

// applyBackendTLS gives each backend of r the policy of its Service port.
// A port whose appProtocol asks for TLS but that no policy covers cannot be
// reached: the backend answers 500 and the route's ResolvedRefs says why.
func applyBackendTLS(x *backendTLSIndex, r Route) {
	rc := r.Core()
	r.eachBackend(func(field string, b *Backend) {
		if b.Invalid != "" || b.TLS != nil {
			return
		}
		b.TLS = x.forBackend(b)
		if b.TLS != nil || !b.RequiresTLS {
			return
		}
		c := conditions.RouteUnsupportedProtocol(fmt.Sprintf(
			"%s: Service %s port %s speaks TLS (appProtocol) and no BackendTLSPolicy targets it; add a BackendTLSPolicy saying how to verify the backend",
			field, b.Service, portLabel(b)))
		b.Invalid = c.Message
		if rc.ResolvedRefs.Status == metav1.ConditionTrue {
			rc.ResolvedRefs = c
		} else {
			rc.ResolvedRefs.Message += "; " + c.Message
		}
	})
}

func portLabel(b *Backend) string {
	if b.PortName != "" {
		return b.PortName
	}
	if i := strings.LastIndexByte(b.Name, ':'); i >= 0 {
		return b.Name[i+1:]
	}
	return b.Name
}

// recordAncestors adds the Gateways r is attached to as ancestors of every
// policy that targets a Service r uses.
func recordAncestors(x *backendTLSIndex, ix *resource.Index, r Route) {
	var gws []*Gateway
	for _, p := range r.Core().Parents {
		if p.Gateway != nil && p.Attached() && !slices.Contains(gws, p.Gateway) {
			gws = append(gws, p.Gateway)
		}
	}
	if len(gws) == 0 {
		return
	}
	r.eachBackend(func(_ string, b *Backend) {
		if b.Service.Name == "" {
			return
		}
		for _, p := range x.byService[b.Service] {
			for i, t := range p.Object.Spec.TargetRefs {
				if !targetsBackend(p.Object.Namespace, t, b, ix) {
					continue
				}
				for _, gw := range gws {
					p.addAncestor(gw, i, b, ix)
				}
			}
		}
	})
}

// targetsBackend reports whether targetRef t of a policy in ns selects b's
// Service port. A sectionName that names no port of the Service selects
// every port, so that the policy can report TargetNotFound.
func targetsBackend(ns string, t gwv1.LocalPolicyTargetReferenceWithSectionName, b *Backend, ix *resource.Index) bool {
	if t.Group != "" || t.Kind != "Service" || ns != b.Service.Namespace || string(t.Name) != b.Service.Name {
		return false
	}
	sec := sectionName(t.SectionName)
	return sec == "" || sec == b.PortName || !hasPortNamed(ix.Services[b.Service], sec)
}

func hasPortNamed(svc *corev1.Service, name string) bool {
	if svc == nil {
		return false
	}
	return slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == name })
}

// addAncestor records gw as an ancestor through targetRefs[i] and works
// out the Accepted condition there: a conflict first (the policy is not in
// effect there, whatever it says), then its own problem, then a sectionName
// naming no port.
func (p *BackendTLSPolicy) addAncestor(gw *Gateway, i int, b *Backend, ix *resource.Index) {
	var a *PolicyAncestor
	for _, have := range p.Ancestors {
		if have.Gateway == gw {
			a = have
		}
	}
	if a == nil {
		a = &PolicyAncestor{Gateway: gw, Accepted: conditions.PolicyAccepted()}
		p.Ancestors = append(p.Ancestors, a)
	}
	t := p.Object.Spec.TargetRefs[i]
	var c metav1.Condition
	switch {
	case p.lostTo[i] != nil:
		c = conditions.PolicyConflicted(fmt.Sprintf(
			"spec.targetRefs[%d]: Service %s/%s%s is already targeted by the older BackendTLSPolicy %s, which takes precedence",
			i, p.Object.Namespace, t.Name, sectionSuffix(t.SectionName), p.lostTo[i].NamespacedName()))
	case p.Problem != nil:
		c = *p.Problem
	case sectionName(t.SectionName) != "" && !hasPortNamed(ix.Services[b.Service], sectionName(t.SectionName)):
		c = conditions.PolicyTargetNotFound(fmt.Sprintf(
			"spec.targetRefs[%d].sectionName: Service %s/%s has no port named %q", i, p.Object.Namespace, t.Name, *t.SectionName))
	default:
		return
	}
	// The first problem found for this Gateway is the one reported.
	if a.Accepted.Status == metav1.ConditionTrue {
		a.Accepted = c
	}
}

func sectionSuffix(s *gwv1.SectionName) string {
	if s == nil || *s == "" {
		return ""
	}
	return " port " + string(*s)
}

// resolveBackendClientCertificate resolves the Gateway's
// spec.tls.backend.clientCertificateRef and sets the Gateway's ResolvedRefs
// condition. That condition is only set on Gateways that have
// spec.tls.backend (it then also summarises the listeners' ResolvedRefs), so
// the status of every other Gateway stays as it was. A reference that does
// not resolve leaves the Gateway Accepted and its TLS backends are dialled
// without a client certificate: backends that require one refuse the
// handshake (502), the others keep working.
func resolveBackendClientCertificate(gw *Gateway, ix *resource.Index) {
	obj := gw.Object
	if obj.Spec.TLS == nil || obj.Spec.TLS.Backend == nil || obj.Spec.TLS.Backend.ClientCertificateRef == nil {
		return
	}
	ref := obj.Spec.TLS.Backend.ClientCertificateRef
	const field = "spec.tls.backend.clientCertificateRef"
	cond := func() metav1.Condition {
		if group, kind := refGroupKind(ref.Group, ref.Kind, "Secret"); group != "" || kind != "Secret" {
			return conditions.GatewayInvalidClientCertificateRef(fmt.Sprintf(
				"%s: %s is not supported; reference a core Secret of type kubernetes.io/tls", field, qualifiedKind(group, kind)))
		}
		ns := refNamespace(obj.Namespace, ref.Namespace)
		if !permitted(ix, refFrom{gwv1.GroupName, "Gateway", obj.Namespace}, refTo{"", "Secret", ns, string(ref.Name)}) {
			return conditions.GatewayRefNotPermitted(fmt.Sprintf(
				"%s: Secret %s/%s is in another namespace and no ReferenceGrant in %s allows it; add a ReferenceGrant from Gateway in %s",
				field, ns, ref.Name, ns, obj.Namespace))
		}
		sec, ok := ix.Secrets[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}]
		if !ok {
			return conditions.GatewayInvalidClientCertificateRef(fmt.Sprintf("%s: Secret %s/%s does not exist", field, ns, ref.Name))
		}
		cert, err := certificateFromSecret(sec)
		if err != nil {
			return conditions.GatewayInvalidClientCertificateRef(fmt.Sprintf("%s: Secret %s/%s: %v", field, ns, ref.Name, err))
		}
		gw.BackendClientCertificate = &cert
		var bad []string
		for _, l := range gw.Listeners {
			if c := findCondition(l.Conditions, string(gwv1.ListenerConditionResolvedRefs)); c != nil && c.Status == metav1.ConditionFalse {
				bad = append(bad, string(l.Spec.Name))
			}
		}
		if len(bad) > 0 {
			return conditions.GatewayListenersNotResolved(fmt.Sprintf(
				"listeners %s have unresolved references (see their ResolvedRefs)", strings.Join(bad, ", ")))
		}
		return conditions.GatewayResolvedRefs()
	}()
	gw.Conditions = append(gw.Conditions, cond)
}

func findCondition(cs []metav1.Condition, t string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}
