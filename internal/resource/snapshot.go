package resource

import (
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ControllerName is the GatewayClass controllerName Portico answers to.
const ControllerName gwv1.GatewayController = "portico.dev/gateway-controller"

// DefaultGatewayClass is the GatewayClass that exists when the input names none.
const DefaultGatewayClass = "portico"

// Snapshot is one consistent view of the input.
type Snapshot struct {
	GatewayClasses  []*gwv1.GatewayClass
	Gateways        []*gwv1.Gateway
	ListenerSets    []*gwv1.ListenerSet // listeners added to Gateways that allow them
	HTTPRoutes      []*gwv1.HTTPRoute
	ReferenceGrants []*gwv1.ReferenceGrant
	Namespaces      []*corev1.Namespace
	Services        []*corev1.Service
	EndpointSlices  []*discoveryv1.EndpointSlice
	Secrets         []*corev1.Secret
	// BackendTLSPolicies say how to speak TLS to Services; ConfigMaps and
	// ClusterTrustBundles hold the CA certificates they reference.
	BackendTLSPolicies  []*gwv1.BackendTLSPolicy
	ConfigMaps          []*corev1.ConfigMap
	ClusterTrustBundles []*certificatesv1.ClusterTrustBundle

	// Standalone is set when the input is a directory of files rather than
	// a cluster: loopback endpoint addresses are accepted (local backends),
	// and routes referencing a Gateway that does not exist get a status
	// saying so, since no other controller can own it.
	Standalone bool
}

// Index gives lookups by namespace and name over a Snapshot. Build it once
// per Snapshot with NewIndex.
type Index struct {
	Namespaces map[string]*corev1.Namespace
	Services   map[types.NamespacedName]*corev1.Service
	Secrets    map[types.NamespacedName]*corev1.Secret
	ConfigMaps map[types.NamespacedName]*corev1.ConfigMap
	// ClusterTrustBundles are cluster-scoped: by name.
	ClusterTrustBundles map[string]*certificatesv1.ClusterTrustBundle
	// SlicesByService maps a Service to its EndpointSlices (label
	// kubernetes.io/service-name).
	SlicesByService map[types.NamespacedName][]*discoveryv1.EndpointSlice
	// GrantsByNamespace maps a namespace to the ReferenceGrants in it.
	GrantsByNamespace map[string][]*gwv1.ReferenceGrant
}

// NewIndex builds the lookups for s.
func NewIndex(s *Snapshot) *Index {
	ix := &Index{
		Namespaces:        map[string]*corev1.Namespace{},
		Services:          map[types.NamespacedName]*corev1.Service{},
		Secrets:           map[types.NamespacedName]*corev1.Secret{},
		SlicesByService:   map[types.NamespacedName][]*discoveryv1.EndpointSlice{},
		GrantsByNamespace: map[string][]*gwv1.ReferenceGrant{},

		ConfigMaps:          map[types.NamespacedName]*corev1.ConfigMap{},
		ClusterTrustBundles: map[string]*certificatesv1.ClusterTrustBundle{},
	}
	for _, n := range s.Namespaces {
		ix.Namespaces[n.Name] = n
	}
	for _, svc := range s.Services {
		ix.Services[types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}] = svc
	}
	for _, sec := range s.Secrets {
		ix.Secrets[types.NamespacedName{Namespace: sec.Namespace, Name: sec.Name}] = sec
	}
	for _, cm := range s.ConfigMaps {
		ix.ConfigMaps[types.NamespacedName{Namespace: cm.Namespace, Name: cm.Name}] = cm
	}
	for _, b := range s.ClusterTrustBundles {
		ix.ClusterTrustBundles[b.Name] = b
	}
	for _, es := range s.EndpointSlices {
		name := es.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		key := types.NamespacedName{Namespace: es.Namespace, Name: name}
		ix.SlicesByService[key] = append(ix.SlicesByService[key], es)
	}
	for _, g := range s.ReferenceGrants {
		ix.GrantsByNamespace[g.Namespace] = append(ix.GrantsByNamespace[g.Namespace], g)
	}
	return ix
}

// NamespaceLabels returns the labels of namespace ns. A namespace that is not
// in the input still exists, with only the kubernetes.io/metadata.name label,
// as the API server would give it.
func (ix *Index) NamespaceLabels(ns string) map[string]string {
	if n, ok := ix.Namespaces[ns]; ok {
		out := map[string]string{corev1.LabelMetadataName: ns}
		for k, v := range n.Labels {
			out[k] = v
		}
		return out
	}
	return map[string]string{corev1.LabelMetadataName: ns}
}
