package graph

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

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
	bad := func(c metav1.Condition) (CACertificate, *metav1.Condition) { return CACertificate{}, &c }
	switch {
	case ref.Group == "" && ref.Kind == "ConfigMap":
		ns := gw.Namespace
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = string(*ref.Namespace)
		}
		if !permitted(ix, refFrom{gwv1.GroupName, "Gateway", gw.Namespace}, refTo{"", "ConfigMap", ns, string(ref.Name)}) {
			return bad(conditions.ListenerCertRefNotPermitted(fmt.Sprintf(
				"%s: ConfigMap %s/%s is in another namespace and no ReferenceGrant in %s allows it; add a ReferenceGrant from Gateway in %s to ConfigMap",
				field, ns, ref.Name, ns, gw.Namespace)))
		}
		cm, ok := ix.ConfigMaps[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}]
		if !ok {
			return bad(conditions.ListenerInvalidCACertificateRef(fmt.Sprintf("%s: ConfigMap %s/%s does not exist", field, ns, ref.Name)))
		}
		data, ok := cm.Data["ca.crt"]
		if !ok {
			data, ok = string(cm.BinaryData["ca.crt"]), cm.BinaryData["ca.crt"] != nil
		}
		if !ok {
			return bad(conditions.ListenerInvalidCACertificateRef(fmt.Sprintf("%s: ConfigMap %s/%s has no ca.crt key", field, ns, ref.Name)))
		}
		name := "ConfigMap " + ns + "/" + string(ref.Name)
		certs, err := caCertificatesPEM([]byte(data))
		if err != nil {
			return bad(conditions.ListenerInvalidCACertificateRef(fmt.Sprintf("%s: %s: ca.crt %v", field, name, err)))
		}
		return CACertificate{Name: name, PEM: certs}, nil
	case ref.Group == "certificates.k8s.io" && ref.Kind == "ClusterTrustBundle":
		if ref.Namespace != nil && *ref.Namespace != "" {
			return bad(conditions.ListenerInvalidCACertificateRef(fmt.Sprintf(
				"%s: a ClusterTrustBundle is cluster-scoped; remove namespace", field)))
		}
		b, ok := ix.ClusterTrustBundles[string(ref.Name)]
		if !ok {
			return bad(conditions.ListenerInvalidCACertificateRef(fmt.Sprintf("%s: ClusterTrustBundle %s does not exist", field, ref.Name)))
		}
		name := "ClusterTrustBundle " + string(ref.Name)
		certs, err := caCertificatesPEM([]byte(b.Spec.TrustBundle))
		if err != nil {
			return bad(conditions.ListenerInvalidCACertificateRef(fmt.Sprintf("%s: %s: spec.trustBundle %v", field, name, err)))
		}
		return CACertificate{Name: name, PEM: certs}, nil
	}
	return bad(conditions.ListenerInvalidCACertificateKind(fmt.Sprintf(
		"%s: %s is not supported; reference a core ConfigMap with a ca.crt key or a certificates.k8s.io ClusterTrustBundle",
		field, groupKind(string(ref.Group), string(ref.Kind)))))
}

func groupKind(group, kind string) string {
	if group == "" {
		return kind
	}
	return kind + "." + group
}

// caCertificatesPEM returns the CERTIFICATE blocks of a PEM bundle, each
// checked to parse, re-encoded without anything else the bundle held
// (comments, other block types); an error when there are none or one is
// not a certificate.
func caCertificatesPEM(bundle []byte) ([]byte, error) {
	var out []byte
	n := 0
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", n, err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes})...)
	}
	if n == 0 {
		return nil, fmt.Errorf("holds no PEM CERTIFICATE block")
	}
	return out, nil
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
