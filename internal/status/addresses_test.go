package status

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// assigning is a DataPlane whose infrastructure assigns addresses.
type assigning struct {
	Standalone
	addrs       []gwv1.GatewayStatusAddress
	unsatisfied []string
	pending     bool
}

func (a assigning) Addresses(*graph.Gateway) []gwv1.GatewayStatusAddress { return a.addrs }
func (a assigning) AddressAssignment(*graph.Gateway) ([]string, bool) {
	return a.unsatisfied, a.pending
}

func TestAddressesAssigned(t *testing.T) {
	g := graph.Build(snapshot(1, 8080), graph.Options{BindAddress: "127.0.0.1"})
	addr := []gwv1.GatewayStatusAddress{{Value: "10.0.0.1"}}
	ack := Standalone{&ir.Ack{}}
	for _, tc := range []struct {
		name           string
		dp             DataPlane
		want           string // reason, "" for no condition
		wantProgrammed string
	}{
		{"no assigning data plane", ack, "", "Programmed"},
		{"pending", assigning{Standalone: ack, pending: true}, "", "AddressNotAssigned"},
		{"all assigned", assigning{Standalone: ack, addrs: addr}, "AddressesAssigned", "Programmed"},
		{"partially", assigning{Standalone: ack, addrs: addr, unsatisfied: []string{"spec.addresses[1]: no"}}, "PartiallyAssigned", "Programmed"},
		{"none", assigning{Standalone: ack, unsatisfied: []string{"spec.addresses[0]: no"}}, "NotAssigned", "AddressNotAssigned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conds := gatewayConditions(t, Project(g, tc.dp, nil, time.Unix(100, 0)))
			c, ok := conds["AddressesAssigned"]
			switch {
			case tc.want == "" && ok:
				t.Errorf("got %+v, want no AddressesAssigned", c)
			case tc.want != "" && (!ok || c.Reason != tc.want || (c.Status == metav1.ConditionTrue) != (tc.want == "AddressesAssigned")):
				t.Errorf("got %+v, want reason %s", c, tc.want)
			}
			if p := conds["Programmed"]; p.Reason != tc.wantProgrammed {
				t.Errorf("Programmed %+v, want reason %s", p, tc.wantProgrammed)
			}
		})
	}
}
