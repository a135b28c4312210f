package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/resource"
)

var foreignCondition = metav1.Condition{Type: "example.com/Audited", Status: metav1.ConditionTrue, Reason: "Audited",
	Message: "set by another controller", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)}

var foreignParent = gwv1.RouteParentStatus{
	ParentRef:      gwv1.ParentReference{Name: "other-gw"},
	ControllerName: "example.com/other-controller",
	Conditions:     []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)}},
}

func TestForeignConditionsAndParentsAreKept(t *testing.T) {
	ctx := context.Background()
	gw := gateway("apps", "web")
	gw.Status.Conditions = []metav1.Condition{foreignCondition}
	r := route("apps", "r", "web", "other-gw")
	r.Status.Parents = []gwv1.RouteParentStatus{foreignParent}
	c := newFakeClient(t, class("portico"), gw, r)
	ctl := newTestController(c, newFakeStream())
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	gotGW := get(t, c, "apps", "web", &gwv1.Gateway{})
	if got := condition(t, gotGW.Status.Conditions, foreignCondition.Type); got.Message != foreignCondition.Message {
		t.Errorf("foreign Gateway condition changed: %+v", got)
	}
	condition(t, gotGW.Status.Conditions, "Accepted")
	gotR := get(t, c, "apps", "r", &gwv1.HTTPRoute{})
	if len(gotR.Status.Parents) != 2 || gotR.Status.Parents[0].ControllerName != foreignParent.ControllerName ||
		gotR.Status.Parents[1].ControllerName != resource.ControllerName {
		t.Errorf("route parents %+v, want the foreign one kept and ours added", gotR.Status.Parents)
	}
}

func TestRouteDetachedFromOurGatewaysLosesOurParents(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, class("portico"), gateway("apps", "web"), route("apps", "r", "web"))
	ctl := newTestController(c, newFakeStream())
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	// The route now references only another controller's Gateway, which
	// has written its own parent entry.
	r := get(t, c, "apps", "r", &gwv1.HTTPRoute{})
	r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "other-gw"}}
	if err := c.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Status.Parents = append(r.Status.Parents, foreignParent)
	if err := c.Status().Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	got := get(t, c, "apps", "r", &gwv1.HTTPRoute{})
	if len(got.Status.Parents) != 1 || got.Status.Parents[0].ControllerName != foreignParent.ControllerName {
		t.Errorf("parents %+v, want only the foreign one", got.Status.Parents)
	}
}

// TestConflictRereadsAndKeepsTheOtherWrite: another controller writes its
// condition between our read and our write; ours conflicts, is projected
// again from the fresh status, and both end up stored.
func TestConflictRereadsAndKeepsTheOtherWrite(t *testing.T) {
	ctx := context.Background()
	conflicts := 0
	var c client.WithWatch
	base := newFakeClient(t, class("portico"), gateway("apps", "web"))
	c = interceptor.NewClient(base, interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if gw, ok := obj.(*gwv1.Gateway); ok && conflicts == 0 {
				conflicts++
				// The other controller's write lands first.
				other := &gwv1.Gateway{}
				if err := cl.Get(ctx, client.ObjectKeyFromObject(gw), other); err != nil {
					return err
				}
				other.Status.Conditions = append(other.Status.Conditions, foreignCondition)
				if err := cl.Status().Update(ctx, other); err != nil {
					return err
				}
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	stream := newFakeStream()
	stream.acks["apps/web"] = &ir.Ack{}
	ctl := newTestController(c, stream)
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if conflicts != 1 {
		t.Fatalf("the conflict was not exercised")
	}
	got := get(t, c, "apps", "web", &gwv1.Gateway{})
	condition(t, got.Status.Conditions, foreignCondition.Type)
	condition(t, got.Status.Conditions, "Accepted")
	condition(t, got.Status.Conditions, "Programmed")
}
