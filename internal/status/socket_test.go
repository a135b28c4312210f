package status

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// Each per-socket answer gives the listener its own Programmed condition.
func TestListenerProgrammedFollowsItsSocket(t *testing.T) {
	g := graph.Build(snapshot(1, 8080), graph.Options{BindAddress: "127.0.0.1"})
	const sock = "127.0.0.1:8080"
	for _, tc := range []struct {
		name   string
		ack    ir.Ack
		status metav1.ConditionStatus
		reason gwv1.ListenerConditionReason
		msg    string
	}{
		{"invalid", ir.Ack{InvalidListeners: map[string]string{sock: "port 70000 is out of range"}}, metav1.ConditionFalse, gwv1.ListenerReasonInvalid, "port 70000"},
		{"bind error", ir.Ack{ListenerErrors: map[string]string{sock: "address already in use"}}, metav1.ConditionFalse, gwv1.ListenerReasonPending, "retried in the background"},
		{"not accepting", ir.Ack{NotAccepting: map[string]string{sock: "too many open files"}}, metav1.ConditionFalse, gwv1.ListenerReasonPending, "not accepting connections: too many open files"},
		{"other socket invalid", ir.Ack{InvalidListeners: map[string]string{"127.0.0.1:9090": "bad"}}, metav1.ConditionTrue, gwv1.ListenerReasonProgrammed, ""},
	} {
		objs := Project(g, Standalone{&tc.ack}, nil, time.Unix(100, 0))
		var got metav1.Condition
		for _, c := range objs[0].Status.(*gwv1.GatewayStatus).Listeners[0].Conditions {
			if c.Type == string(gwv1.ListenerConditionProgrammed) {
				got = c
			}
		}
		if got.Status != tc.status || got.Reason != string(tc.reason) || !strings.Contains(got.Message, tc.msg) {
			t.Errorf("%s: listener Programmed = %s/%s %q, want %s/%s containing %q", tc.name, got.Status, got.Reason, got.Message, tc.status, tc.reason, tc.msg)
		}
	}
}
