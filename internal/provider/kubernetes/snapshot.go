package kubernetes

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/resource"
)

// State is one consistent read of the cache: the Snapshot the control
// plane computes from, and the proxy Deployments Portico owns (which are
// not an input of the control plane).
type State struct {
	Snapshot    *resource.Snapshot
	Deployments []*appsv1.Deployment
}

// Read lists every input kind (from the informer cache for a Provider's
// Store, so no API request is made), ClusterTrustBundles included when the
// API server serves them. The objects are copies the caller owns.
func (s *Store) Read(ctx context.Context) (*State, error) {
	st, err := readState(ctx, s.client)
	if err != nil {
		return nil, err
	}
	if st.Snapshot.ClusterTrustBundles, err = s.trustBundles.list(ctx, s.client); err != nil {
		return nil, err
	}
	return st, nil
}

// readState lists every input kind from r. The CRD defaults are applied to
// the objects (the API server normally has, but objects stored by older
// CRD versions may lack some).
func readState(ctx context.Context, r client.Reader) (*State, error) {
	var (
		classes     gwv1.GatewayClassList
		gateways    gwv1.GatewayList
		sets        gwv1.ListenerSetList
		routes      gwv1.HTTPRouteList
		grants      gwv1.ReferenceGrantList
		namespaces  corev1.NamespaceList
		services    corev1.ServiceList
		slices      discoveryv1.EndpointSliceList
		secrets     corev1.SecretList
		policies    gwv1.BackendTLSPolicyList
		configMaps  corev1.ConfigMapList
		deployments appsv1.DeploymentList
	)
	lists := []struct {
		what string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"GatewayClasses", &classes, nil},
		{"Gateways", &gateways, nil},
		{"ListenerSets", &sets, nil},
		{"HTTPRoutes", &routes, nil},
		{"ReferenceGrants", &grants, nil},
		{"Namespaces", &namespaces, nil},
		{"Services", &services, nil},
		{"EndpointSlices", &slices, nil},
		{"Secrets", &secrets, nil},
		{"BackendTLSPolicies", &policies, nil},
		{"ConfigMaps", &configMaps, nil},
		{"proxy Deployments", &deployments, []client.ListOption{client.MatchingLabels{infra.LabelManagedBy: infra.ManagedBy}}},
	}
	for _, l := range lists {
		if err := r.List(ctx, l.list, l.opts...); err != nil {
			return nil, fmt.Errorf("listing %s: %w", l.what, err)
		}
	}
	s := &resource.Snapshot{
		GatewayClasses:  pointers(classes.Items),
		Gateways:        pointers(gateways.Items),
		ListenerSets:    pointers(sets.Items),
		HTTPRoutes:      pointers(routes.Items),
		ReferenceGrants: pointers(grants.Items),
		Namespaces:      pointers(namespaces.Items),
		Services:        pointers(services.Items),
		EndpointSlices:  pointers(slices.Items),
		Secrets:         pointers(secrets.Items),

		BackendTLSPolicies: pointers(policies.Items),
		ConfigMaps:         pointers(configMaps.Items),
	}
	for _, g := range s.Gateways {
		resource.DefaultGateway(g)
	}
	for _, r := range s.HTTPRoutes {
		resource.DefaultHTTPRoute(r)
	}
	for _, ls := range s.ListenerSets {
		resource.DefaultListenerSet(ls)
	}
	return &State{Snapshot: s, Deployments: pointers(deployments.Items)}, nil
}

func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
