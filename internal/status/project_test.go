package status

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/resource"
)

func snapshot(gen int64, port gwv1.PortNumber) *resource.Snapshot {
	return &resource.Snapshot{
		Standalone: true,
		Gateways: []*gwv1.Gateway{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw", Generation: gen},
			Spec: gwv1.GatewaySpec{
				GatewayClassName: resource.DefaultGatewayClass,
				Listeners:        []gwv1.Listener{{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: port}},
			},
		}},
	}
}

func gatewayConditions(t *testing.T, objs []Object) map[string]metav1.Condition {
	t.Helper()
	out := map[string]metav1.Condition{}
	for _, c := range objs[0].Status.(*gwv1.GatewayStatus).Conditions {
		out[c.Type] = c
	}
	return out
}

func TestProgrammedFollowsTheAck(t *testing.T) {
	g := graph.Build(snapshot(1, 8080), graph.Options{BindAddress: "127.0.0.1"})
	t0 := time.Unix(100, 0)
	pending := gatewayConditions(t, Project(g, Standalone{}, nil, t0))["Programmed"]
	if pending.Status != metav1.ConditionFalse || pending.Reason != string(gwv1.GatewayReasonPending) {
		t.Errorf("before any ack: %+v, want Programmed=False/Pending", pending)
	}
	failed := gatewayConditions(t, Project(g, Standalone{&ir.Ack{ListenerErrors: map[string]string{"127.0.0.1:8080": "address in use"}}}, nil, t0))["Programmed"]
	if failed.Status != metav1.ConditionFalse {
		t.Errorf("with the only socket failing: %+v, want Programmed=False", failed)
	}
	ok := gatewayConditions(t, Project(g, Standalone{&ir.Ack{}}, nil, t0))["Programmed"]
	if ok.Status != metav1.ConditionTrue {
		t.Errorf("after a clean ack: %+v, want Programmed=True", ok)
	}
}

func TestTransitionTimeKeptUntilStatusChanges(t *testing.T) {
	t0, t1, t2 := time.Unix(100, 0), time.Unix(200, 0), time.Unix(300, 0)
	g1 := graph.Build(snapshot(1, 8080), graph.Options{BindAddress: "127.0.0.1"})
	first := Project(g1, Standalone{&ir.Ack{}}, nil, t0)

	// A new generation with the same outcome: observedGeneration moves,
	// lastTransitionTime does not.
	g2 := graph.Build(snapshot(2, 8081), graph.Options{BindAddress: "127.0.0.1"})
	second := Project(g2, Standalone{&ir.Ack{}}, first, t1)
	c := gatewayConditions(t, second)["Accepted"]
	if c.ObservedGeneration != 2 || !c.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("unchanged Accepted: gen %d time %v; want gen 2, time %v", c.ObservedGeneration, c.LastTransitionTime, t0)
	}

	// Programmed flips to False: its time moves, Accepted's does not.
	third := Project(g2, Standalone{}, second, t2)
	conds := gatewayConditions(t, third)
	if !conds["Programmed"].LastTransitionTime.Time.Equal(t2) {
		t.Errorf("Programmed changed status but kept time %v", conds["Programmed"].LastTransitionTime)
	}
	if !conds["Accepted"].LastTransitionTime.Time.Equal(t0) {
		t.Errorf("Accepted did not change but its time moved to %v", conds["Accepted"].LastTransitionTime)
	}
}

func TestOtherControllersStatusIsKept(t *testing.T) {
	s := snapshot(1, 8080)
	s.HTTPRoutes = []*gwv1.HTTPRoute{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "r", Generation: 1},
		Spec:       gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}}},
	}}
	g := graph.Build(s, graph.Options{BindAddress: "127.0.0.1"})
	foreignCond := metav1.Condition{Type: "StaleConditionType", Status: metav1.ConditionTrue, Reason: "Other", LastTransitionTime: metav1.Unix(5, 0)}
	foreignParent := gwv1.RouteParentStatus{ParentRef: gwv1.ParentReference{Name: "elsewhere"}, ControllerName: "example.com/other",
		Conditions: []metav1.Condition{foreignCond}}
	live := []Object{
		{Kind: "Gateway", Metadata: Metadata{Namespace: "default", Name: "gw"}, Status: &gwv1.GatewayStatus{
			Conditions: []metav1.Condition{foreignCond},
			Listeners:  []gwv1.ListenerStatus{{Name: "http", Conditions: []metav1.Condition{foreignCond}}},
		}},
		{Kind: "HTTPRoute", Metadata: Metadata{Namespace: "default", Name: "r"}, Status: &gwv1.HTTPRouteStatus{
			RouteStatus: gwv1.RouteStatus{Parents: []gwv1.RouteParentStatus{foreignParent}}}},
	}
	objs := Project(g, Standalone{&ir.Ack{}}, live, time.Unix(100, 0))
	gw := objs[0].Status.(*gwv1.GatewayStatus)
	if gw.Conditions[0] != foreignCond || gw.Listeners[0].Conditions[0] != foreignCond {
		t.Errorf("a foreign Gateway or listener condition was not kept as is: %+v", gw)
	}
	rt := objs[1].Status.(*gwv1.HTTPRouteStatus)
	if len(rt.Parents) != 2 || rt.Parents[0].ControllerName != "example.com/other" || rt.Parents[1].ControllerName != "portico.dev/gateway-controller" {
		t.Errorf("want the foreign parent kept and ours added, got %+v", rt.Parents)
	}
}

// refusingDataPlane is a cluster-like data plane whose load balancer
// assigned one address but refused another.
type refusingDataPlane struct{ Standalone }

func (refusingDataPlane) UnusableAddresses(*graph.Gateway) string {
	return "the load balancer did not assign 10.0.0.99"
}

func TestUnusableAddressIsNotProgrammed(t *testing.T) {
	s := snapshot(1, 8080)
	s.Gateways[0].Spec.Addresses = []gwv1.GatewaySpecAddress{{Value: "10.0.0.99"}}
	g := graph.Build(s, graph.Options{ProvisionedAddresses: true})
	c := gatewayConditions(t, Project(g, refusingDataPlane{Standalone{&ir.Ack{}}}, nil, time.Unix(100, 0)))["Programmed"]
	if c.Status != metav1.ConditionFalse || c.Reason != string(gwv1.GatewayReasonAddressNotUsable) {
		t.Errorf("Programmed = %+v, want False/AddressNotUsable", c)
	}
}
