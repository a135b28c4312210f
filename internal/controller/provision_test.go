package controller

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/controlplane"
	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/provider/kubernetes"
	"portico.dev/portico/internal/resource"
)

func planFor(t *testing.T, s *resource.Snapshot, deps ...*appsv1.Deployment) []string {
	t.Helper()
	res := controlplane.Compute(s, graphOptions)
	actions, conflicts := plan(res.Graph, &kubernetes.State{Snapshot: s, Deployments: deps}, testInfra)
	var out []string
	for _, a := range actions {
		out = append(out, a.verb+" "+kindOf(a.object)+" "+a.object.GetNamespace()+"/"+a.object.GetName())
	}
	for _, c := range conflicts {
		out = append(out, "conflict: "+c)
	}
	return out
}

func TestPlan(t *testing.T) {
	web := gateway("apps", "web")
	objs := infra.ForGateway(web, testInfra)
	stale := infra.ForGateway(web, testInfra)
	stale.Deployment.Annotations[infra.AnnotationSpecHash] = "old"

	invalid := gateway("apps", "invalid")
	invalid.Spec.Addresses = []gwv1.GatewaySpecAddress{{Type: ptrTo(gwv1.HostnameAddressType), Value: "x.example.com"}}
	invalidObjs := infra.ForGateway(invalid, testInfra)

	moved := gateway("apps", "moved")
	moved.Spec.GatewayClassName = "someone-else"
	movedObjs := infra.ForGateway(moved, testInfra)

	squatter := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "portico-web"}}

	// web deleted and created again: same name, new UID.
	reborn := gateway("apps", "web")
	reborn.UID = "uid-web-2"
	dying := infra.ForGateway(web, testInfra)
	dying.Service.DeletionTimestamp = ptrTo(metav1.NewTime(t0))

	cases := []struct {
		name string
		snap *resource.Snapshot
		deps []*appsv1.Deployment
		want []string
	}{
		{"new gateway: create both",
			&resource.Snapshot{GatewayClasses: []*gwv1.GatewayClass{class("portico")}, Gateways: []*gwv1.Gateway{web}}, nil,
			[]string{"apply Deployment apps/portico-web", "apply Service apps/portico-web"}},
		{"up to date: nothing",
			&resource.Snapshot{GatewayClasses: []*gwv1.GatewayClass{class("portico")}, Gateways: []*gwv1.Gateway{web}, Services: []*corev1.Service{objs.Service}},
			[]*appsv1.Deployment{objs.Deployment}, nil},
		{"changed: apply only what changed",
			&resource.Snapshot{GatewayClasses: []*gwv1.GatewayClass{class("portico")}, Gateways: []*gwv1.Gateway{web}, Services: []*corev1.Service{objs.Service}},
			[]*appsv1.Deployment{stale.Deployment}, []string{"apply Deployment apps/portico-web"}},
		{"not accepted: existing objects left as they are",
			&resource.Snapshot{GatewayClasses: []*gwv1.GatewayClass{class("portico")}, Gateways: []*gwv1.Gateway{invalid}, Services: []*corev1.Service{invalidObjs.Service}},
			[]*appsv1.Deployment{invalidObjs.Deployment}, nil},
		{"gateway moved to another class: delete",
			&resource.Snapshot{GatewayClasses: []*gwv1.GatewayClass{class("portico")}, Gateways: []*gwv1.Gateway{moved}, Services: []*corev1.Service{movedObjs.Service}},
			[]*appsv1.Deployment{movedObjs.Deployment}, []string{"delete Service apps/portico-moved", "delete Deployment apps/portico-moved"}},
		{"gateway gone: left to the garbage collector",
			&resource.Snapshot{GatewayClasses: []*gwv1.GatewayClass{class("portico")}, Services: []*corev1.Service{objs.Service}},
			[]*appsv1.Deployment{objs.Deployment}, nil},
		{"gateway created again: take over its predecessor's objects",
			&resource.Snapshot{GatewayClasses: []*gwv1.GatewayClass{class("portico")}, Gateways: []*gwv1.Gateway{reborn}, Services: []*corev1.Service{dying.Service}},
			[]*appsv1.Deployment{objs.Deployment}, []string{"apply Deployment apps/portico-web"}},
		{"name taken by someone else's Service",
			&resource.Snapshot{GatewayClasses: []*gwv1.GatewayClass{class("portico")}, Gateways: []*gwv1.Gateway{web}, Services: []*corev1.Service{squatter}}, nil,
			[]string{"apply Deployment apps/portico-web", "conflict: Service apps/portico-web exists and is not controlled by Gateway apps/web; Portico leaves it alone (delete or rename it)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := planFor(t, tc.snap, tc.deps...)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestApplyTakesOverAndUpdates: the provisioner's server-side apply creates,
// then updates in place when the Gateway changes.
func TestApplyTakesOverAndUpdates(t *testing.T) {
	ctx := context.Background()
	gw := gateway("apps", "web")
	c := newFakeClient(t, class("portico"), gw)
	ctl := newTestController(c, newFakeStream())
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	gw = get(t, c, "apps", "web", &gwv1.Gateway{})
	gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{Name: "alt", Port: 8080, Protocol: gwv1.HTTPProtocolType})
	gw.Spec.Infrastructure = &gwv1.GatewayInfrastructure{Labels: map[gwv1.LabelKey]gwv1.LabelValue{"team": "a"}}
	if err := c.Update(ctx, gw); err != nil {
		t.Fatal(err)
	}
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "portico-web"}, svc); err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Ports) != 2 || svc.Labels["team"] != "a" {
		t.Errorf("Service not updated: ports %+v labels %v", svc.Spec.Ports, svc.Labels)
	}
	dep := &appsv1.Deployment{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "portico-web"}, dep); err != nil {
		t.Fatal(err)
	}
	if dep.Spec.Template.Labels["team"] != "a" {
		t.Errorf("Pod template labels %v, want team=a", dep.Spec.Template.Labels)
	}
}
