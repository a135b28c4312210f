package kubernetes

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestStatusChangedIgnoresNilVersusEmpty(t *testing.T) {
	gateway := func() *gwv1.Gateway {
		return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web", Generation: 1}}
	}
	gw := gateway()
	gw.Status.Listeners = []gwv1.ListenerStatus{}
	so, _ := StatusOf(gateway())
	if statusChanged(gw, so) {
		t.Errorf("an empty and a nil listener list compare as different")
	}
	so.Status.(*gwv1.GatewayStatus).Conditions = []metav1.Condition{{Type: "example.com/Audited", Status: metav1.ConditionTrue,
		Reason: "Audited", ObservedGeneration: 1}}
	if !statusChanged(gw, so) {
		t.Errorf("a new condition compares as unchanged")
	}
}
