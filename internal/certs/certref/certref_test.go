package certref

import (
	"bytes"
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"portico.dev/portico/internal/resource"
	"portico.dev/portico/internal/testcert"
)

func index(t *testing.T, caPEM []byte) *resource.Index {
	t.Helper()
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	return resource.NewIndex(&resource.Snapshot{
		ConfigMaps: []*corev1.ConfigMap{
			{ObjectMeta: meta("app", "ca"), Data: map[string]string{"ca.crt": "# root\n" + string(caPEM)}},
			{ObjectMeta: meta("app", "binary"), BinaryData: map[string][]byte{"ca.crt": caPEM}},
			// data wins over binaryData
			{ObjectMeta: meta("app", "both"), Data: map[string]string{"ca.crt": "junk"}, BinaryData: map[string][]byte{"ca.crt": caPEM}},
			{ObjectMeta: meta("app", "nokey"), Data: map[string]string{"tls.crt": string(caPEM)}},
			{ObjectMeta: meta("app", "empty"), Data: map[string]string{"ca.crt": ""}},
			{ObjectMeta: meta("other", "ca"), Data: map[string]string{"ca.crt": string(caPEM)}},
		},
		Secrets: []*corev1.Secret{
			{ObjectMeta: meta("app", "ca"), Data: map[string][]byte{"ca.crt": caPEM}},
			{ObjectMeta: meta("app", "nokey"), Data: map[string][]byte{"tls.crt": caPEM}},
		},
		ClusterTrustBundles: []*certificatesv1.ClusterTrustBundle{
			{ObjectMeta: metav1.ObjectMeta{Name: "roots"}, Spec: certificatesv1.ClusterTrustBundleSpec{TrustBundle: string(caPEM)}},
			{ObjectMeta: metav1.ObjectMeta{Name: "broken"}, Spec: certificatesv1.ClusterTrustBundleSpec{TrustBundle: "nothing"}},
		},
	})
}

func TestResolveEveryKind(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	ix := index(t, ca.CertPEM)
	all := ConfigMap | Secret | ClusterTrustBundle
	for _, tc := range []struct {
		ref    Ref
		source string
	}{
		{Ref{Kind: "ConfigMap", Namespace: "app", Name: "ca"}, "ConfigMap app/ca"},
		{Ref{Kind: "ConfigMap", Namespace: "app", Name: "binary"}, "ConfigMap app/binary"},
		{Ref{Kind: "Secret", Namespace: "app", Name: "ca"}, "Secret app/ca"},
		{Ref{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle", Name: "roots"}, "ClusterTrustBundle roots"},
	} {
		b, f := Resolve(ix, tc.ref, all, nil)
		if f != nil {
			t.Fatalf("%v: %v (%d)", tc.ref, f, f.Reason)
		}
		if b.Source != tc.source || !bytes.Equal(b.PEM, ca.CertPEM) || len(b.Certificates) != 1 || !b.Certificates[0].Equal(ca.Cert) {
			t.Fatalf("%v: got %s %q, want %s with the CA only", tc.ref, b.Source, b.PEM, tc.source)
		}
	}
}

func TestResolveFailures(t *testing.T) {
	ix := index(t, testcert.NewCA(t, "ca").CertPEM)
	deny := func(kind, ns, name string) bool { return ns == "app" }
	for _, tc := range []struct {
		name   string
		ref    Ref
		accept Kinds
		want   Reason
		msg    string
	}{
		{"kind not accepted", Ref{Kind: "Secret", Namespace: "app", Name: "ca"}, ConfigMap | ClusterTrustBundle, UnsupportedKind, ""},
		{"unknown kind", Ref{Group: "example.com", Kind: "TrustStore", Name: "x"}, ConfigMap | Secret | ClusterTrustBundle, UnsupportedKind, ""},
		{"core kind in another group", Ref{Group: "example.com", Kind: "ConfigMap", Namespace: "app", Name: "ca"}, ConfigMap, UnsupportedKind, ""},
		{"namespaced trust bundle", Ref{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle", Name: "nope", Namespace: "app", NamespaceGiven: true}, ClusterTrustBundle, ClusterScoped,
			"a ClusterTrustBundle is cluster-scoped; remove namespace"},
		{"not permitted before not found", Ref{Kind: "ConfigMap", Namespace: "other", Name: "missing"}, ConfigMap, NotPermitted, ""},
		{"missing ConfigMap", Ref{Kind: "ConfigMap", Namespace: "app", Name: "missing"}, ConfigMap, NotFound, "ConfigMap app/missing does not exist"},
		{"missing Secret", Ref{Kind: "Secret", Namespace: "app", Name: "missing"}, Secret, NotFound, "Secret app/missing does not exist"},
		{"missing trust bundle", Ref{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle", Name: "nope"}, ClusterTrustBundle, NotFound, "ClusterTrustBundle nope does not exist"},
		{"ConfigMap without ca.crt", Ref{Kind: "ConfigMap", Namespace: "app", Name: "nokey"}, ConfigMap, NoKey, "ConfigMap app/nokey has no key ca.crt"},
		{"Secret without ca.crt", Ref{Kind: "Secret", Namespace: "app", Name: "nokey"}, Secret, NoKey, "Secret app/nokey has no key ca.crt"},
		{"empty ca.crt", Ref{Kind: "ConfigMap", Namespace: "app", Name: "empty"}, ConfigMap, BadPEM, "ConfigMap app/empty: ca.crt holds no PEM CERTIFICATE block"},
		{"data before binaryData", Ref{Kind: "ConfigMap", Namespace: "app", Name: "both"}, ConfigMap, BadPEM, "ConfigMap app/both: ca.crt holds no PEM CERTIFICATE block"},
		{"bad trust bundle", Ref{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle", Name: "broken"}, ClusterTrustBundle, BadPEM,
			"ClusterTrustBundle broken: spec.trustBundle holds no PEM CERTIFICATE block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, f := Resolve(ix, tc.ref, tc.accept, deny)
			if f == nil {
				t.Fatalf("resolved to %s, want failure %d", b.Source, tc.want)
			}
			if f.Reason != tc.want || f.Message != tc.msg {
				t.Fatalf("got %d %q, want %d %q", f.Reason, f.Message, tc.want, tc.msg)
			}
		})
	}
}

func TestResolveAsksPermitForNamespacedKindsOnly(t *testing.T) {
	ix := index(t, testcert.NewCA(t, "ca").CertPEM)
	var asked []string
	permit := func(kind, ns, name string) bool { asked = append(asked, kind+" "+ns+"/"+name); return true }
	all := ConfigMap | Secret | ClusterTrustBundle
	for _, ref := range []Ref{
		{Kind: "ConfigMap", Namespace: "other", Name: "ca"},
		{Kind: "Secret", Namespace: "app", Name: "ca"},
		{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle", Name: "roots"},
	} {
		if _, f := Resolve(ix, ref, all, permit); f != nil {
			t.Fatalf("%v: %v", ref, f)
		}
	}
	if got := strings.Join(asked, ", "); got != "ConfigMap other/ca, Secret app/ca" {
		t.Fatalf("permit asked for %q", got)
	}
}

func TestKeyPairFromSecret(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	srv, other := ca.Server(t, "a.example"), ca.Server(t, "b.example")
	secret := func(typ corev1.SecretType, crt, key []byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "tls"}, Type: typ,
			Data: map[string][]byte{"tls.crt": crt, "tls.key": key}}
	}
	kp, err := KeyPairFromSecret(secret(corev1.SecretTypeTLS, srv.CertPEM, srv.KeyPEM))
	if err != nil || kp.Name != "app/tls" || !bytes.Equal(kp.CertPEM, srv.CertPEM) || !bytes.Equal(kp.KeyPEM, srv.KeyPEM) {
		t.Fatalf("got %+v, %v", kp, err)
	}
	if _, err := KeyPairFromSecret(secret(corev1.SecretTypeOpaque, srv.CertPEM, srv.KeyPEM)); err == nil ||
		err.Error() != `type is "Opaque"; it must be kubernetes.io/tls` {
		t.Fatalf("Opaque Secret: %v", err)
	}
	if _, err := KeyPairFromSecret(secret(corev1.SecretTypeTLS, srv.CertPEM, other.KeyPEM)); err == nil ||
		!strings.HasPrefix(err.Error(), "tls.crt and tls.key are not a valid PEM certificate and key: ") {
		t.Fatalf("mismatched key: %v", err)
	}
}
