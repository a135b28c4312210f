// Package certref resolves references to certificate material in a
// snapshot (resource.Index): a CA bundle from a ConfigMap, a Secret or a
// ClusterTrustBundle (Resolve), and a kubernetes.io/tls Secret
// (KeyPairFromSecret). BackendTLSPolicy caCertificateRefs, Gateway
// spec.tls.frontend caCertificateRefs, listener certificateRefs and the
// Gateway's spec.tls.backend.clientCertificateRef all go through it.
//
// A failure is typed (Failure.Reason) and each caller maps it to its own
// condition reason: for BackendTLSPolicy UnsupportedKind is InvalidKind and
// the rest InvalidCACertificateRef; for a listener UnsupportedKind is
// InvalidCACertificateKind, NotPermitted is RefNotPermitted and the rest
// InvalidCACertificateRef. The caller also says which kinds it accepts and
// checks ReferenceGrants (Permit), since only it knows the referrer's kind
// and namespace.
//
// Decisions:
//
//   - Kinds: a core ConfigMap (key ca.crt in data, else in binaryData), a
//     core Secret (key ca.crt, any Secret type) and a certificates.k8s.io
//     ClusterTrustBundle (spec.trustBundle). Any other group or kind is
//     UnsupportedKind, before anything else is looked at.
//   - Checks run in a fixed order and the first failure is the answer:
//     kind; a namespace given for a cluster-scoped ClusterTrustBundle
//     (ClusterScoped); the ReferenceGrant (NotPermitted, namespaced kinds
//     only); existence (NotFound); the ca.crt key (NoKey); the PEM (BadPEM,
//     see package certs). An empty ca.crt is BadPEM, not NoKey.
//   - Failure.Message names the object and the field ("ConfigMap ns/name:
//     ca.crt holds no PEM CERTIFICATE block") and leaves the field path of
//     the reference to the caller. NotPermitted and UnsupportedKind carry no
//     message: their fix names the referrer or the kinds the caller accepts.
//   - A kubernetes.io/tls Secret must have that type, and tls.crt and
//     tls.key must be a matching PEM chain and key.
package certref
