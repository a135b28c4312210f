package graph

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/certs/certref"
	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

// resolveCertificates resolves an HTTPS listener's certificateRefs, made
// from the listener's resource (a Gateway or a ListenerSet: a ReferenceGrant
// for one does not cover the other). It returns the usable certificates and,
// when any ref is bad, the ResolvedRefs=False condition for the first problem.
func resolveCertificates(from refFrom, spec *gwv1.Listener, ix *resource.Index) ([]Certificate, *metav1.Condition) {
	field := fmt.Sprintf("spec.listeners[%s].tls.certificateRefs", spec.Name)
	if spec.TLS == nil || len(spec.TLS.CertificateRefs) == 0 {
		c := conditions.ListenerInvalidCertificateRef(field + ": an HTTPS listener needs at least one kubernetes.io/tls Secret")
		return nil, &c
	}
	var certs []Certificate
	var problem *metav1.Condition
	fail := func(c metav1.Condition) {
		if problem == nil {
			problem = &c
		}
	}
	for i, ref := range spec.TLS.CertificateRefs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if group, kind := refGroupKind(ref.Group, ref.Kind, "Secret"); group != "" || kind != "Secret" {
			fail(conditions.ListenerInvalidCertificateRef(fmt.Sprintf("%s: %s/%s is not supported; reference a core Secret", f, group, kind)))
			continue
		}
		ns := refNamespace(from.namespace, ref.Namespace)
		if ns != from.namespace && !permitted(ix, from, refTo{"", "Secret", ns, string(ref.Name)}) {
			fail(conditions.ListenerCertRefNotPermitted(fmt.Sprintf(
				"%s: Secret %s/%s is in another namespace and no ReferenceGrant in %s allows it; add a ReferenceGrant from %s in %s",
				f, ns, ref.Name, ns, from.kind, from.namespace)))
			continue
		}
		sec, ok := ix.Secrets[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}]
		if !ok {
			fail(conditions.ListenerInvalidCertificateRef(fmt.Sprintf("%s: Secret %s/%s does not exist", f, ns, ref.Name)))
			continue
		}
		cert, err := certificateFromSecret(sec)
		if err != nil {
			fail(conditions.ListenerInvalidCertificateRef(fmt.Sprintf("%s: Secret %s/%s: %v", f, ns, ref.Name, err)))
			continue
		}
		certs = append(certs, cert)
	}
	return certs, problem
}

// certificateFromSecret reads a kubernetes.io/tls Secret (a listener's
// certificate or the Gateway's backend client certificate).
func certificateFromSecret(sec *corev1.Secret) (Certificate, error) {
	kp, err := certref.KeyPairFromSecret(sec)
	return Certificate(kp), err
}
