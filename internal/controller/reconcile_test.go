package controller

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/features"
	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/resource"
)

func get[T client.Object](t *testing.T, c client.Client, ns, name string, obj T) T {
	t.Helper()
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("get %T %s/%s: %v", obj, ns, name, err)
	}
	return obj
}

func condition(t *testing.T, conds []metav1.Condition, typ string) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		t.Fatalf("no %s condition in %+v", typ, conds)
	}
	return *c
}

// TestSyncFromAcceptedToProgrammed walks one Gateway through the states a
// cluster takes it through: provisioned and pending, then addressed and
// acked, then steady (no writes).
func TestSyncFromAcceptedToProgrammed(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, class("portico"), namespace("apps"), gateway("apps", "web"), route("apps", "r", "web"))
	stream := newFakeStream()
	ctl := newTestController(c, stream)

	// 1. First reconcile: config published, infrastructure applied, status
	// written; no ack and no address yet.
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, ok := stream.published["apps/web"]; !ok {
		t.Fatalf("nothing published for apps/web: %v", stream.published)
	}
	dep := get(t, c, "apps", "portico-web", &appsv1.Deployment{})
	if dep.Spec.Template.Spec.Containers[0].Image != infra.DefaultProxyImage {
		t.Errorf("Deployment image %q", dep.Spec.Template.Spec.Containers[0].Image)
	}
	svc := get(t, c, "apps", "portico-web", &corev1.Service{})
	gc := get(t, c, "", "portico", &gwv1.GatewayClass{})
	if condition(t, gc.Status.Conditions, "Accepted").Status != metav1.ConditionTrue {
		t.Errorf("GatewayClass not accepted: %+v", gc.Status)
	}
	if len(gc.Status.SupportedFeatures) != len(features.Names()) {
		t.Errorf("GatewayClass supportedFeatures: %d, want %d", len(gc.Status.SupportedFeatures), len(features.Names()))
	}
	gw := get(t, c, "apps", "web", &gwv1.Gateway{})
	if p := condition(t, gw.Status.Conditions, "Programmed"); p.Status != metav1.ConditionFalse || p.Reason != string(gwv1.GatewayReasonPending) {
		t.Errorf("before an ack: Programmed %+v, want False/Pending", p)
	}
	rt := get(t, c, "apps", "r", &gwv1.HTTPRoute{})
	if len(rt.Status.Parents) != 1 || rt.Status.Parents[0].ControllerName != resource.ControllerName {
		t.Fatalf("route parents: %+v", rt.Status.Parents)
	}

	// 2. The proxy acks; the load balancer has not assigned an address.
	stream.acks["apps/web"] = &ir.Ack{Version: 1}
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	gw = get(t, c, "apps", "web", &gwv1.Gateway{})
	if p := condition(t, gw.Status.Conditions, "Programmed"); p.Status != metav1.ConditionFalse || p.Reason != string(gwv1.GatewayReasonAddressNotAssigned) {
		t.Errorf("acked, no address: Programmed %+v, want False/AddressNotAssigned", p)
	}

	// 3. The load balancer assigns an address.
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.10"}}
	if err := c.Status().Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	gw = get(t, c, "apps", "web", &gwv1.Gateway{})
	if p := condition(t, gw.Status.Conditions, "Programmed"); p.Status != metav1.ConditionTrue {
		t.Errorf("acked and addressed: Programmed %+v, want True", p)
	}
	if len(gw.Status.Addresses) != 1 || gw.Status.Addresses[0].Value != "203.0.113.10" || *gw.Status.Addresses[0].Type != gwv1.IPAddressType {
		t.Errorf("status.addresses = %+v", gw.Status.Addresses)
	}

	// 4. Nothing changed: nothing is written.
	versions := func() [5]string {
		return [5]string{
			get(t, c, "", "portico", &gwv1.GatewayClass{}).ResourceVersion,
			get(t, c, "apps", "web", &gwv1.Gateway{}).ResourceVersion,
			get(t, c, "apps", "r", &gwv1.HTTPRoute{}).ResourceVersion,
			get(t, c, "apps", "portico-web", &appsv1.Deployment{}).ResourceVersion,
			get(t, c, "apps", "portico-web", &corev1.Service{}).ResourceVersion,
		}
	}
	before := versions()
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if after := versions(); after != before {
		t.Errorf("an unchanged state was written: resourceVersions %v -> %v", before, after)
	}
}

func TestSyncNotLeadingOnlyPublishes(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, class("portico"), gateway("apps", "web"))
	stream := newFakeStream()
	ctl := newTestController(c, stream)
	if err := ctl.sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, ok := stream.published["apps/web"]; !ok {
		t.Errorf("a replica that does not lead must still serve the config stream")
	}
	if gw := get(t, c, "apps", "web", &gwv1.Gateway{}); len(gw.Status.Conditions) != 0 {
		t.Errorf("a replica that does not lead wrote status: %+v", gw.Status)
	}
	if err := c.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "portico-web"}, &appsv1.Deployment{}); err == nil {
		t.Errorf("a replica that does not lead provisioned a Deployment")
	}
}

func TestSyncRemovesConfigOfGatewaysGone(t *testing.T) {
	ctx := context.Background()
	gw := gateway("apps", "web")
	c := newFakeClient(t, class("portico"), gw)
	stream := newFakeStream()
	ctl := newTestController(c, stream)
	if err := ctl.sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, gw); err != nil {
		t.Fatal(err)
	}
	if err := ctl.sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if len(stream.removed) != 1 || stream.removed[0] != "apps/web" {
		t.Errorf("removed %v, want [apps/web]", stream.removed)
	}
}

// TestStaticAddresses follows the GatewayStaticAddresses conformance test:
// a requested address the load balancer does not assign makes Programmed
// False/AddressNotUsable; once it is no longer requested, Programmed.
func TestStaticAddresses(t *testing.T) {
	ctx := context.Background()
	gw := gateway("infra", "static")
	gw.Spec.Addresses = []gwv1.GatewaySpecAddress{{Value: "10.9.9.9"}, {Value: "10.0.0.5"}}
	c := newFakeClient(t, class("portico"), gw)
	stream := newFakeStream()
	stream.acks["infra/static"] = &ir.Ack{Version: 1}
	ctl := newTestController(c, stream)
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	svc := get(t, c, "infra", "portico-static", &corev1.Service{})
	if svc.Spec.LoadBalancerIP != "10.9.9.9" || svc.Annotations[infra.AnnotationLoadBalancerIPs] != "10.9.9.9,10.0.0.5" {
		t.Errorf("Service does not request the addresses: loadBalancerIP %q, annotations %v", svc.Spec.LoadBalancerIP, svc.Annotations)
	}
	// The load balancer can assign only 10.0.0.5.
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "10.0.0.5"}}
	if err := c.Status().Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	got := get(t, c, "infra", "static", &gwv1.Gateway{})
	if p := condition(t, got.Status.Conditions, "Programmed"); p.Status != metav1.ConditionFalse || p.Reason != string(gwv1.GatewayReasonAddressNotUsable) {
		t.Errorf("Programmed %+v, want False/AddressNotUsable", p)
	}
	// The unusable address is removed from the Gateway.
	got.Spec.Addresses = got.Spec.Addresses[1:]
	got.Generation = 2
	if err := c.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	got = get(t, c, "infra", "static", &gwv1.Gateway{})
	if p := condition(t, got.Status.Conditions, "Programmed"); p.Status != metav1.ConditionTrue {
		t.Errorf("Programmed %+v, want True", p)
	}
	if len(got.Status.Addresses) != 1 || got.Status.Addresses[0].Value != "10.0.0.5" {
		t.Errorf("status.addresses %+v, want only 10.0.0.5", got.Status.Addresses)
	}
	if svc := get(t, c, "infra", "portico-static", &corev1.Service{}); svc.Spec.LoadBalancerIP != "10.0.0.5" {
		t.Errorf("Service loadBalancerIP %q after the change, want 10.0.0.5", svc.Spec.LoadBalancerIP)
	}
}
