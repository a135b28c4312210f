package certref

import (
	"crypto/x509"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"portico.dev/portico/internal/certs"
	"portico.dev/portico/internal/resource"
)

// CAKey is the key of a ConfigMap or Secret that holds a CA bundle.
const CAKey = "ca.crt"

// TrustBundleGroup is the API group of ClusterTrustBundle.
const TrustBundleGroup = "certificates.k8s.io"

// Kinds is a set of the kinds a caller accepts as a CA bundle.
type Kinds uint8

const (
	ConfigMap Kinds = 1 << iota
	Secret
	ClusterTrustBundle
)

// Ref is a reference to a CA bundle.
type Ref struct {
	Group, Kind, Name string
	// Namespace is the referent's namespace for a ConfigMap or Secret (the
	// referrer's when the reference names none).
	Namespace string
	// NamespaceGiven says the reference itself named a namespace, which a
	// cluster-scoped ClusterTrustBundle cannot have.
	NamespaceGiven bool
}

// Permit reports whether a reference to the namespaced object kind
// namespace/name is allowed (a ReferenceGrant check that only the caller,
// knowing the referrer, can make). A nil Permit allows everything.
type Permit func(kind, namespace, name string) bool

// Bundle is a resolved CA bundle.
type Bundle struct {
	// Source names the object: "ConfigMap ns/name", "Secret ns/name" or
	// "ClusterTrustBundle name".
	Source       string
	Certificates []*x509.Certificate
	// PEM is the certificates only, each a PEM CERTIFICATE block.
	PEM []byte
}

// Reason says why a reference did not resolve; callers map it to their
// own condition reason.
type Reason int

const (
	// UnsupportedKind: not a kind the caller accepts (InvalidKind).
	UnsupportedKind Reason = iota + 1
	// NotPermitted: in another namespace without a ReferenceGrant
	// (RefNotPermitted). Message is empty: the caller names the referrer.
	NotPermitted
	// NotFound: the object does not exist.
	NotFound
	// NoKey: the ConfigMap or Secret has no ca.crt key.
	NoKey
	// ClusterScoped: a namespace was given for a ClusterTrustBundle.
	ClusterScoped
	// BadPEM: the bundle holds no certificate, or one that does not parse.
	BadPEM
)

// Failure is a reference that did not resolve. Message (set for every
// reason but UnsupportedKind and NotPermitted, whose fix the caller words)
// names the object and the fix, without the field path.
type Failure struct {
	Reason  Reason
	Message string
}

func (f *Failure) Error() string { return f.Message }

// kindOf returns the kind ref names among the supported ones, 0 otherwise.
func kindOf(ref Ref) Kinds {
	switch {
	case ref.Group == "" && ref.Kind == "ConfigMap":
		return ConfigMap
	case ref.Group == "" && ref.Kind == "Secret":
		return Secret
	case ref.Group == TrustBundleGroup && ref.Kind == "ClusterTrustBundle":
		return ClusterTrustBundle
	}
	return 0
}

// Resolve reads the CA bundle ref names from ix. accept is the set of kinds
// the caller supports; permit checks a namespaced reference. The checks run
// in this order: kind, namespace of a cluster-scoped kind, permission,
// existence, key, PEM.
func Resolve(ix *resource.Index, ref Ref, accept Kinds, permit Permit) (*Bundle, *Failure) {
	k := kindOf(ref)
	if k == 0 || accept&k == 0 {
		return nil, &Failure{Reason: UnsupportedKind}
	}
	fail := func(r Reason, format string, a ...any) (*Bundle, *Failure) {
		return nil, &Failure{Reason: r, Message: fmt.Sprintf(format, a...)}
	}
	if k == ClusterTrustBundle {
		if ref.NamespaceGiven {
			return fail(ClusterScoped, "a ClusterTrustBundle is cluster-scoped; remove namespace")
		}
		source := "ClusterTrustBundle " + ref.Name
		b, ok := ix.ClusterTrustBundles[ref.Name]
		if !ok {
			return fail(NotFound, "%s does not exist", source)
		}
		return parse(source, "spec.trustBundle", []byte(b.Spec.TrustBundle))
	}
	if permit != nil && !permit(ref.Kind, ref.Namespace, ref.Name) {
		return nil, &Failure{Reason: NotPermitted}
	}
	key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	source := ref.Kind + " " + key.String()
	var data []byte
	var found, hasKey bool
	if k == ConfigMap {
		var cm *corev1.ConfigMap
		if cm, found = ix.ConfigMaps[key]; found {
			data, hasKey = configMapCA(cm)
		}
	} else {
		var sec *corev1.Secret
		if sec, found = ix.Secrets[key]; found {
			data, hasKey = sec.Data[CAKey]
		}
	}
	switch {
	case !found:
		return fail(NotFound, "%s does not exist", source)
	case !hasKey:
		return fail(NoKey, "%s has no key %s", source, CAKey)
	}
	return parse(source, CAKey, data)
}

// configMapCA returns ca.crt from data, else from binaryData.
func configMapCA(cm *corev1.ConfigMap) ([]byte, bool) {
	if s, ok := cm.Data[CAKey]; ok {
		return []byte(s), true
	}
	b, ok := cm.BinaryData[CAKey]
	return b, ok
}

func parse(source, field string, data []byte) (*Bundle, *Failure) {
	cs, err := certs.Certificates(data)
	if err != nil {
		return nil, &Failure{Reason: BadPEM, Message: fmt.Sprintf("%s: %s %v", source, field, err)}
	}
	return &Bundle{Source: source, Certificates: cs, PEM: certs.Encode(cs)}, nil
}

// KeyPair is a parsed kubernetes.io/tls Secret.
type KeyPair struct {
	Name            string // "namespace/name"
	CertPEM, KeyPEM []byte
}

// KeyPairFromSecret reads a Secret of type kubernetes.io/tls whose tls.crt
// and tls.key are a matching PEM certificate chain and private key.
func KeyPairFromSecret(sec *corev1.Secret) (KeyPair, error) {
	if sec.Type != corev1.SecretTypeTLS {
		return KeyPair{}, fmt.Errorf("type is %q; it must be %s", sec.Type, corev1.SecretTypeTLS)
	}
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if _, err := certs.KeyPair(crt, key); err != nil {
		return KeyPair{}, fmt.Errorf("tls.crt and tls.key are not a valid PEM certificate and key: %v", err)
	}
	return KeyPair{Name: sec.Namespace + "/" + sec.Name, CertPEM: crt, KeyPEM: key}, nil
}
