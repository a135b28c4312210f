package kubernetes

import (
	"context"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"portico.dev/portico/internal/certs/certref"
)

// ClusterTrustBundles (certificates.k8s.io) are GA in Kubernetes 1.37 and a
// beta API, off by default, before. The provider reads the version the API
// server serves, if any; without one, caCertificateRefs to a
// ClusterTrustBundle do not resolve (InvalidCACertificateRef).

// trustBundleAPI is the ClusterTrustBundle version being read.
type trustBundleAPI string

const (
	trustBundleNone    trustBundleAPI = ""
	trustBundleV1      trustBundleAPI = "v1"
	trustBundleV1beta1 trustBundleAPI = "v1beta1"
)

// discoverTrustBundleAPI returns the newest ClusterTrustBundle version the
// API server serves.
func discoverTrustBundleAPI(m meta.RESTMapper) trustBundleAPI {
	gk := schema.GroupKind{Group: certificatesv1.GroupName, Kind: "ClusterTrustBundle"}
	for _, v := range []trustBundleAPI{trustBundleV1, trustBundleV1beta1} {
		if _, err := m.RESTMapping(gk, string(v)); err == nil {
			return v
		}
	}
	return trustBundleNone
}

// object is the typed object to watch, nil when there is none.
func (a trustBundleAPI) object() client.Object {
	switch a {
	case trustBundleV1:
		return &certificatesv1.ClusterTrustBundle{}
	case trustBundleV1beta1:
		return &certificatesv1beta1.ClusterTrustBundle{}
	}
	return nil
}

// list reads every ClusterTrustBundle as a v1 object.
func (a trustBundleAPI) list(ctx context.Context, r client.Reader) ([]*certificatesv1.ClusterTrustBundle, error) {
	switch a {
	case trustBundleV1:
		var l certificatesv1.ClusterTrustBundleList
		if err := r.List(ctx, &l); err != nil {
			return nil, fmt.Errorf("listing ClusterTrustBundles: %w", err)
		}
		return pointers(l.Items), nil
	case trustBundleV1beta1:
		var l certificatesv1beta1.ClusterTrustBundleList
		if err := r.List(ctx, &l); err != nil {
			return nil, fmt.Errorf("listing ClusterTrustBundles: %w", err)
		}
		out := make([]*certificatesv1.ClusterTrustBundle, len(l.Items))
		for i, b := range l.Items {
			out[i] = &certificatesv1.ClusterTrustBundle{
				ObjectMeta: b.ObjectMeta,
				Spec:       certificatesv1.ClusterTrustBundleSpec{SignerName: b.Spec.SignerName, TrustBundle: b.Spec.TrustBundle},
			}
		}
		return out, nil
	}
	return nil, nil
}

// caBundleOnly is the cache transform of ConfigMaps: every ConfigMap of the
// cluster is watched (any may be a CA bundle of a BackendTLSPolicy or of
// frontend validation), so only the key they read, ca.crt in data or
// binaryData, is kept in memory.
func caBundleOnly(obj any) (any, error) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return obj, nil
	}
	cm.ManagedFields = nil
	if ca, ok := cm.Data[certref.CAKey]; ok {
		cm.Data = map[string]string{certref.CAKey: ca}
	} else {
		cm.Data = nil
	}
	if ca, ok := cm.BinaryData[certref.CAKey]; ok {
		cm.BinaryData = map[string][]byte{certref.CAKey: ca}
	} else {
		cm.BinaryData = nil
	}
	return cm, nil
}
