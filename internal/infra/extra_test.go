package infra

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The Service opens the ports of the extra listeners (a Gateway's
// ListenerSets) once each; the proxy's container ports stay the Gateway's.
func TestForGatewayExtraListeners(t *testing.T) {
	gw := readGateway(t, "basic")
	before := ForGateway(gw, testOptions)
	objs := ForGateway(gw, testOptions,
		gwv1.Listener{Name: "same-port", Port: gw.Spec.Listeners[0].Port, Protocol: gw.Spec.Listeners[0].Protocol},
		gwv1.Listener{Name: "new", Port: 9443, Protocol: gwv1.HTTPSProtocolType},
		gwv1.Listener{Name: "new-again", Port: 9443, Protocol: gwv1.HTTPSProtocolType})
	ports := func(ps []corev1.ServicePort) []int32 {
		var out []int32
		for _, p := range ps {
			out = append(out, p.Port)
		}
		return out
	}
	want := append(ports(before.Service.Spec.Ports), 9443)
	if got := ports(objs.Service.Spec.Ports); !slices.Equal(got, want) {
		t.Errorf("Service ports %v, want %v", got, want)
	}
	if objs.Service.Spec.Ports[len(want)-1].Name != "https-9443" {
		t.Errorf("new port named %q, want https-9443", objs.Service.Spec.Ports[len(want)-1].Name)
	}
	if objs.Deployment.Annotations[AnnotationSpecHash] != before.Deployment.Annotations[AnnotationSpecHash] {
		t.Errorf("extra listeners changed the Deployment: it would restart the proxies")
	}
}
