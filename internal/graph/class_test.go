package graph

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

func TestGatewayClassMismatchSaysWhatIsWrong(t *testing.T) {
	class := func(name, controller string) *gwv1.GatewayClass {
		return &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: gwv1.GatewayClassSpec{ControllerName: gwv1.GatewayController(controller)}}
	}
	gw := func(class string) *gwv1.Gateway {
		return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: gwv1.ObjectName(class)}}
	}
	cases := []struct {
		name    string
		classes []*gwv1.GatewayClass
		gw      string
		want    []string
		notWant string
	}{
		{"portico class of another controller", []*gwv1.GatewayClass{class("portico", "example.com/other")}, "portico",
			[]string{`GatewayClass portico has spec.controllerName "example.com/other"`, "set the GatewayClass's spec.controllerName to portico.dev/gateway-controller"},
			"use gatewayClassName: portico"},
		{"portico while another class of ours exists", []*gwv1.GatewayClass{class("mine", string(resource.ControllerName))}, "portico",
			[]string{"no GatewayClass portico exists", "use gatewayClassName: mine, or add a GatewayClass portico"}, "use gatewayClassName: portico"},
		{"a class of nobody", nil, "someone-else", []string{`"someone-else": no GatewayClass someone-else exists`, "use gatewayClassName: portico"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &resource.Snapshot{Standalone: true, GatewayClasses: c.classes, Gateways: []*gwv1.Gateway{gw(c.gw)}}
			g := Build(s, Options{BindAddress: "127.0.0.1"})
			if len(g.Warnings) != 1 {
				t.Fatalf("want one warning, got %q", g.Warnings)
			}
			for _, w := range c.want {
				if !strings.Contains(g.Warnings[0], w) {
					t.Errorf("%q lacks %q", g.Warnings[0], w)
				}
			}
			if c.notWant != "" && strings.Contains(g.Warnings[0], c.notWant) {
				t.Errorf("%q still says %q", g.Warnings[0], c.notWant)
			}
		})
	}
}
