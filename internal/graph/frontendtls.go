package graph

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/certs/certref"
	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

// ClientValidation is how an HTTPS listener checks client certificates: the
// Gateway's spec.tls.frontend for the listener's port.
type ClientValidation struct {
	// CACertificates are the trust anchors, one entry per reference that
	// resolved, in spec order.
	CACertificates []CACertificate
	// InsecureFallback is mode AllowInsecureFallback: a client without a
	// certificate, or with one that does not verify, is served anyway.
	InsecureFallback bool
}

// CACertificate is a resolved CA certificate bundle.
type CACertificate struct {
	Name string // "ConfigMap namespace/name" or "ClusterTrustBundle name"
	PEM  []byte // the certificates only, each a PEM CERTIFICATE block
}

// frontendValidation returns the client certificate validation that
// spec.tls.frontend asks of HTTPS listeners on port, with its field path; nil
// when there is none. A perPort entry for the port replaces the default as a
// whole, so one without validation turns validation off for that port.
func frontendValidation(gw *gwv1.Gateway, port gwv1.PortNumber) (*gwv1.FrontendTLSValidation, string) {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return nil, ""
	}
	f := gw.Spec.TLS.Frontend
	for i, pp := range f.PerPort {
		if pp.Port == port {
			return pp.TLS.Validation, fmt.Sprintf("spec.tls.frontend.perPort[%d].tls.validation", i)
		}
	}
	return f.Default.Validation, "spec.tls.frontend.default.validation"
}

// resolveClientValidation resolves the CA certificates an HTTPS listener on
// port validates client certificates with. It returns nil when no
// validation applies. Otherwise problem is the ResolvedRefs=False condition
// for the first bad reference (nil when all resolved), and rejected is the
// Accepted=False/NoValidCACertificate condition when none resolved: serving
// without the check would let every client in.
func resolveClientValidation(gw *gwv1.Gateway, port gwv1.PortNumber, ix *resource.Index) (cv *ClientValidation, problem, rejected *metav1.Condition) {
	v, field := frontendValidation(gw, port)
	if v == nil {
		return nil, nil, nil
	}
	cv = &ClientValidation{InsecureFallback: v.Mode == gwv1.AllowInsecureFallback}
	var msgs []string
	fail := func(c metav1.Condition) {
		if problem == nil {
			problem = &c
		}
		msgs = append(msgs, c.Message)
	}
	for i, ref := range v.CACertificateRefs {
		f := fmt.Sprintf("%s.caCertificateRefs[%d]", field, i)
		ca, c := resolveCACertificate(gw, f, ref, ix)
		if c != nil {
			fail(*c)
			continue
		}
		cv.CACertificates = append(cv.CACertificates, ca)
	}
	if len(v.CACertificateRefs) == 0 {
		fail(conditions.ListenerInvalidCACertificateRef(field + ".caCertificateRefs: empty; reference a ConfigMap with a ca.crt key"))
	}
	if problem != nil && len(msgs) > 1 {
		problem.Message = strings.Join(msgs, "; ")
	}
	if len(cv.CACertificates) == 0 {
		c := conditions.ListenerNoValidCACertificate(fmt.Sprintf(
			"%s: no CA certificate reference resolved, so client certificates cannot be validated; the listener is not served (see ResolvedRefs)", field))
		return nil, problem, &c
	}
	return cv, problem, nil
}

// resolveCACertificate resolves one caCertificateRef: a ConfigMap with a
// ca.crt key (in another namespace with a ReferenceGrant from Gateway), or a
// ClusterTrustBundle.
func resolveCACertificate(gw *gwv1.Gateway, field string, ref gwv1.ObjectReference, ix *resource.Index) (CACertificate, *metav1.Condition) {
	ns := gw.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	from := refFrom{gwv1.GroupName, "Gateway", gw.Namespace}
	permit := func(kind, ns, name string) bool { return permitted(ix, from, refTo{"", kind, ns, name}) }
	b, bad := certref.Resolve(ix, certref.Ref{
		Group: string(ref.Group), Kind: string(ref.Kind), Name: string(ref.Name),
		Namespace: ns, NamespaceGiven: ref.Namespace != nil && *ref.Namespace != "",
	}, certref.ConfigMap|certref.ClusterTrustBundle, permit)
	if bad == nil {
		return CACertificate{Name: b.Source, PEM: b.PEM}, nil
	}
	var c metav1.Condition
	switch bad.Reason {
	case certref.UnsupportedKind:
		c = conditions.ListenerInvalidCACertificateKind(fmt.Sprintf(
			"%s: %s is not supported; reference a core ConfigMap with a ca.crt key or a certificates.k8s.io ClusterTrustBundle",
			field, groupKind(string(ref.Group), string(ref.Kind))))
	case certref.NotPermitted:
		c = conditions.ListenerCertRefNotPermitted(fmt.Sprintf(
			"%s: %s %s/%s is in another namespace and no ReferenceGrant in %s allows it; add a ReferenceGrant from Gateway in %s to %s",
			field, ref.Kind, ns, ref.Name, ns, gw.Namespace, ref.Kind))
	default:
		c = conditions.ListenerInvalidCACertificateRef(field + ": " + bad.Message)
	}
	return CACertificate{}, &c
}

func groupKind(group, kind string) string {
	if group == "" {
		return kind
	}
	return kind + "." + group
}

// insecureFrontendValidation returns the InsecureFrontendValidationMode
// condition when spec.tls.frontend allows insecure fallback anywhere.
func insecureFrontendValidation(gw *gwv1.Gateway) *metav1.Condition {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return nil
	}
	f := gw.Spec.TLS.Frontend
	var where []string
	if v := f.Default.Validation; v != nil && v.Mode == gwv1.AllowInsecureFallback {
		where = append(where, "spec.tls.frontend.default")
	}
	for i, pp := range f.PerPort {
		if v := pp.TLS.Validation; v != nil && v.Mode == gwv1.AllowInsecureFallback {
			where = append(where, fmt.Sprintf("spec.tls.frontend.perPort[%d] (port %d)", i, pp.Port))
		}
	}
	if len(where) == 0 {
		return nil
	}
	c := conditions.GatewayInsecureFrontendValidation(fmt.Sprintf(
		"%s: mode AllowInsecureFallback serves clients without a valid certificate; the backends must authorize them (set mode AllowValidOnly to require one)",
		strings.Join(where, ", ")))
	return &c
}
