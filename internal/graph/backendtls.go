package graph

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strings"

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
// sectionName = port name). Which policy holds a Service port (the oldest),
// TargetNotFound and the per-ancestor Accepted are the policy layer's
// (policy.go); this file has the kind's own part: validation of the CA
// refs, hostname, SANs and options, and what backends get. A backendRef to a Service port uses the policy of that port's name if
// there is one, else the policy of the whole Service.
//
// A policy's status is per ancestor Gateway: every Gateway of ours to which
// a route using a targeted Service is attached.
//
// A backend whose policy is not valid fails its requests with 500 (the
// policy's status says why); it never falls back to cleartext. Backends
// reached through a route of any kind are covered (Route.eachBackend: for
// an HTTPRoute, its backendRefs, mirrors and backendRef filters).

// BackendTLSPolicy is one BackendTLSPolicy and what it resolved to. Its
// attachment (targets, conflicts, Problem, ancestors) is the policy layer's
// (policy.go).
type BackendTLSPolicy struct {
	*AttachedPolicy
	Object *gwv1.BackendTLSPolicy
	// ResolvedRefs is the ResolvedRefs condition of its caCertificateRefs.
	ResolvedRefs metav1.Condition
	// TLS is what backends under this policy get (Invalid set when Problem is).
	TLS *BackendTLS
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

// backendTLSTargets are the target kinds a BackendTLSPolicy takes; a
// targetRef of any other kind selects nothing.
var backendTLSTargets = []policyTargetKind{targetService}

// backendTLSIndex finds the policy of a Service port.
type backendTLSIndex struct {
	policies  []*BackendTLSPolicy
	byService map[types.NamespacedName][]*BackendTLSPolicy
}

// forBackend returns the policy settings that apply to a resolved backend,
// nil when no policy does: the policy holding the backend's port name,
// else the one holding the whole Service.
func (x *backendTLSIndex) forBackend(b *Backend) *BackendTLS {
	if b.Service.Name == "" {
		return nil
	}
	var whole *BackendTLS
	for _, p := range x.byService[b.Service] {
		for _, t := range p.Targets {
			if t.Unsupported || t.LostTo != nil || t.Service == nil || t.Service.Name != b.Service.Name {
				continue
			}
			switch t.Port {
			case "":
				if whole == nil {
					whole = p.TLS
				}
			case b.PortName:
				if b.PortName != "" {
					return p.TLS
				}
			}
		}
	}
	return whole
}

// bindBackendTLS validates every BackendTLSPolicy, applies them to the
// backends of the routes, and records each policy's ancestors.
func bindBackendTLS(s *resource.Snapshot, sc *policyScope, routes []Route) []*BackendTLSPolicy {
	x := buildBackendTLSPolicies(s, sc)
	for _, r := range routes {
		applyBackendTLS(x, r)
		recordAncestors(x, r)
	}
	for _, p := range x.policies {
		p.sortAncestors()
	}
	return x.policies
}

func buildBackendTLSPolicies(s *resource.Snapshot, sc *policyScope) *backendTLSIndex {
	x := &backendTLSIndex{byService: map[types.NamespacedName][]*BackendTLSPolicy{}}
	var attached []*AttachedPolicy
	for _, obj := range sortedBy(s.BackendTLSPolicies, func(p *gwv1.BackendTLSPolicy) *metav1.ObjectMeta { return &p.ObjectMeta }) {
		p := &BackendTLSPolicy{Object: obj, AttachedPolicy: newAttachedPolicy("BackendTLSPolicy", &obj.ObjectMeta, obj.Spec.TargetRefs)}
		validateBackendTLSPolicy(p, sc.ix)
		x.policies = append(x.policies, p)
		attached = append(attached, p.AttachedPolicy)
	}
	attachPolicies(sc, backendTLSTargets, attached)
	for _, p := range x.policies {
		for _, t := range p.Targets {
			svc := types.NamespacedName{Namespace: p.Object.Namespace, Name: string(t.Ref.Name)}
			if !t.Unsupported && !slices.Contains(x.byService[svc], p) {
				x.byService[svc] = append(x.byService[svc], p)
			}
		}
	}
	return x
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
// policy that targets a Service port r uses.
func recordAncestors(x *backendTLSIndex, r Route) {
	gws := attachedGateways(r)
	if len(gws) == 0 {
		return
	}
	r.eachBackend(func(_ string, b *Backend) {
		if b.Service.Name == "" {
			return
		}
		for _, p := range x.byService[b.Service] {
			for _, t := range p.Targets {
				if !targetsBackend(t, b) {
					continue
				}
				for _, gw := range gws {
					p.addAncestor(gw, t)
				}
			}
		}
	})
}

// targetsBackend reports whether target t selects b's Service port. A
// sectionName that names no port of the Service selects every port, so
// that the policy can report TargetNotFound.
func targetsBackend(t *PolicyTarget, b *Backend) bool {
	if t.Unsupported || t.Service == nil || t.Service.Namespace != b.Service.Namespace || t.Service.Name != b.Service.Name {
		return false
	}
	return t.Port == "" || t.Port == b.PortName || t.NotFound != nil
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
