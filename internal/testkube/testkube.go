// Package testkube holds the Kubernetes fixtures the tests of the
// provider (internal/provider/kubernetes) and the controller
// (internal/controller) share: Gateway API objects as a cluster stores
// them, and a fake API server with the status subresources Portico writes.
package testkube

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/provider/kubernetes"
	"portico.dev/portico/internal/resource"
)

// T0 is the creation time of every fixture.
var T0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Class is a GatewayClass of Portico's.
func Class(name string) *gwv1.GatewayClass {
	return &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(T0)},
		Spec:       gwv1.GatewayClassSpec{ControllerName: resource.ControllerName},
	}
}

// Gateway is a Gateway of class "portico" with listeners (default: HTTP
// on port 80).
func Gateway(ns, name string, listeners ...gwv1.Listener) *gwv1.Gateway {
	if len(listeners) == 0 {
		listeners = []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}
	}
	return &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(T0)},
		Spec: gwv1.GatewaySpec{GatewayClassName: "portico", Listeners: listeners},
	}
}

// Route is an HTTPRoute attached to the Gateways named parents.
func Route(ns, name string, parents ...string) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(T0)}}
	for _, p := range parents {
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, gwv1.ParentReference{Name: gwv1.ObjectName(p)})
	}
	return r
}

// Namespace is a Namespace with its kubernetes.io/metadata.name label.
func Namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}}}
}

// NewFakeClient is a fake API server holding objs, with the status
// subresource of the kinds Portico writes status to.
func NewFakeClient(t *testing.T, objs ...client.Object) client.WithWatch {
	t.Helper()
	scheme, err := kubernetes.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&gwv1.GatewayClass{}, &gwv1.Gateway{}, &gwv1.ListenerSet{}, &gwv1.HTTPRoute{}, &corev1.Service{},
			&gwv1.BackendTLSPolicy{}).Build()
}
