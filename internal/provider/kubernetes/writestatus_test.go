package kubernetes_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/provider/kubernetes"
	"portico.dev/portico/internal/status"
	"portico.dev/portico/internal/testkube"
)

var (
	ours    = metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(testkube.T0)}
	foreign = metav1.Condition{Type: "example.com/Audited", Status: metav1.ConditionTrue, Reason: "Audited", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(testkube.T0)}
)

// withCondition is the status of o with c added.
func withCondition(o status.Object, c metav1.Condition) status.Object {
	gs := o.Status.(*gwv1.GatewayStatus).DeepCopy()
	meta.SetStatusCondition(&gs.Conditions, c)
	o.Status = gs
	return o
}

// conflictOnce makes the first status write of a Gateway lose to another
// writer, which first adds a condition (or, with bump, changes the spec).
func conflictOnce(t *testing.T, bump bool) client.Client {
	t.Helper()
	done := false
	return interceptor.NewClient(testkube.NewFakeClient(t, testkube.Gateway("apps", "web")), interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if !done {
				done = true
				other := &gwv1.Gateway{}
				if err := cl.Get(ctx, client.ObjectKeyFromObject(obj), other); err != nil {
					return err
				}
				if bump {
					other.Generation++
					if err := cl.Update(ctx, other); err != nil {
						return err
					}
				} else {
					other.Status.Conditions = append(other.Status.Conditions, foreign)
					if err := cl.Status().Update(ctx, other); err != nil {
						return err
					}
				}
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
}

// A write that conflicts is projected again from the fresh status and
// retried, so the other writer's condition stays; a status that does not
// change is not written; a conflict with a new generation gives up (its
// event brings a new reconcile).
func TestWriteStatus(t *testing.T) {
	ctx := context.Background()
	c := conflictOnce(t, false)
	store := kubernetes.NewStore(c, c, nil)
	st, err := store.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := kubernetes.StatusOf(st.Snapshot.Gateways[0])
	var fresh []status.Object
	reproject := func(f status.Object) (status.Object, bool) {
		fresh = append(fresh, f)
		return withCondition(f, ours), true
	}
	n, err := store.WriteStatus(ctx, st, []status.Object{withCondition(live, ours)}, reproject)
	if err != nil || n != 1 || len(fresh) != 1 {
		t.Fatalf("written %d, err %v, reprojected %d times; want 1, nil, 1", n, err, len(fresh))
	}
	got := &gwv1.Gateway{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "web"}, got); err != nil {
		t.Fatal(err)
	}
	if meta.FindStatusCondition(got.Status.Conditions, foreign.Type) == nil || meta.FindStatusCondition(got.Status.Conditions, ours.Type) == nil {
		t.Errorf("conditions %+v, want the other writer's and ours", got.Status.Conditions)
	}

	st, err = store.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live, _ = kubernetes.StatusOf(st.Snapshot.Gateways[0])
	if n, err := store.WriteStatus(ctx, st, []status.Object{withCondition(live, ours)}, reproject); n != 0 || err != nil {
		t.Errorf("an unchanged status: written %d, err %v", n, err)
	}

	c = conflictOnce(t, true)
	store = kubernetes.NewStore(c, c, nil)
	if st, err = store.Read(ctx); err != nil {
		t.Fatal(err)
	}
	live, _ = kubernetes.StatusOf(st.Snapshot.Gateways[0])
	fresh = nil
	if n, err := store.WriteStatus(ctx, st, []status.Object{withCondition(live, ours)}, reproject); n != 0 || err != nil || len(fresh) != 0 {
		t.Errorf("a conflict with a new generation: written %d, err %v, reprojected %d times; want 0, nil, 0", n, err, len(fresh))
	}
}
