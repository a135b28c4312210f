package controller

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func listenerSet(ns, name, gateway string, listeners ...gwv1.ListenerEntry) *gwv1.ListenerSet {
	return &gwv1.ListenerSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(t0)},
		Spec: gwv1.ListenerSetSpec{
			ParentRef: gwv1.ParentGatewayReference{Name: gwv1.ObjectName(gateway)},
			Listeners: listeners,
		},
	}
}

// A ListenerSet's status is written like the other kinds' (foreign
// conditions kept), the Gateway counts it, its listeners are published
// with the Gateway's configuration, and the Gateway's Service opens their
// ports while the proxy Deployment is left alone.
func TestListenerSetStatusAndInfrastructure(t *testing.T) {
	ctx := context.Background()
	gw := gateway("apps", "web")
	gw.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}}
	ls := listenerSet("apps", "extra", "web", gwv1.ListenerEntry{Name: "alt", Port: 8081, Protocol: gwv1.HTTPProtocolType})
	ls.Status.Conditions = []metav1.Condition{foreignCondition}
	c := newFakeClient(t, class("portico"), namespace("apps"), gw, ls)
	stream := newFakeStream()
	ctl := newTestController(c, stream)
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}

	gotLS := get(t, c, "apps", "extra", &gwv1.ListenerSet{})
	if got := condition(t, gotLS.Status.Conditions, "Accepted"); got.Status != metav1.ConditionTrue || got.ObservedGeneration != 1 {
		t.Errorf("ListenerSet Accepted = %+v", got)
	}
	if got := condition(t, gotLS.Status.Conditions, "Programmed"); got.Reason != "Pending" {
		t.Errorf("ListenerSet Programmed before any ack = %+v, want Pending", got)
	}
	if got := condition(t, gotLS.Status.Conditions, foreignCondition.Type); got.Message != foreignCondition.Message {
		t.Errorf("foreign ListenerSet condition changed: %+v", got)
	}
	if len(gotLS.Status.Listeners) != 1 || gotLS.Status.Listeners[0].Name != "alt" {
		t.Errorf("ListenerSet listeners = %+v", gotLS.Status.Listeners)
	}
	gotGW := get(t, c, "apps", "web", &gwv1.Gateway{})
	if n := ptr.Deref(gotGW.Status.AttachedListenerSets, -1); n != 1 {
		t.Errorf("attachedListenerSets = %d, want 1", n)
	}
	if len(gotGW.Status.Listeners) != 1 {
		t.Errorf("Gateway status lists %d listeners, want only its own", len(gotGW.Status.Listeners))
	}

	cfg := stream.published["apps/web"]
	ports := map[int32]bool{}
	for _, l := range cfg.Listeners {
		ports[l.Port] = true
	}
	if !ports[80] || !ports[8081] {
		t.Errorf("published sockets %v, want the Gateway's :80 and the ListenerSet's :8081", ports)
	}
	svc := get(t, c, "apps", "portico-web", &corev1.Service{})
	var svcPorts []int32
	for _, sp := range svc.Spec.Ports {
		svcPorts = append(svcPorts, sp.Port)
	}
	if len(svcPorts) != 2 || svcPorts[0] != 80 || svcPorts[1] != 8081 {
		t.Errorf("Service ports %v, want [80 8081]", svcPorts)
	}
	dep := get(t, c, "apps", "portico-web", &appsv1.Deployment{})
	for _, cp := range dep.Spec.Template.Spec.Containers[0].Ports {
		if cp.ContainerPort == 8081 {
			t.Errorf("the proxy Deployment lists the ListenerSet's port; attaching one must not restart the proxies")
		}
	}

	// Steady state: nothing to write.
	before := gotLS.ResourceVersion
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if again := get(t, c, "apps", "extra", &gwv1.ListenerSet{}); again.ResourceVersion != before {
		t.Errorf("ListenerSet status rewritten although unchanged")
	}
}
