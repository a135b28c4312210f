package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestStatusRefusesWhatTheCRDRefuses: `portico status` on a directory with a
// Gateway the API server would refuse (port 70000) and a valid one reports
// the first with the API server's message and exits 1, and computes the
// second.
func TestStatusRefusesWhatTheCRDRefuses(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bad.yaml", `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bad
spec:
  gatewayClassName: portico
  listeners:
  - {name: http, protocol: HTTP, port: 70000}
`)
	writeFile(t, dir, "good.yaml", `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: good
spec:
  gatewayClassName: portico
  listeners:
  - {name: http, protocol: HTTP, port: 18080}
`)
	stdout, stderr, code := runCLI(t, "status", "--config", dir, "-o", "json")
	if code != 1 {
		t.Errorf("portico status exited %d, want 1\nstderr:\n%s", code, stderr)
	}
	const msg = "error: bad.yaml: document 1 (line 8): Gateway default/bad: spec.listeners[0].port: Invalid value: 70000: " +
		"spec.listeners[0].port in body should be less than or equal to 65535"
	if !strings.Contains(stderr, msg) {
		t.Errorf("stderr does not report the invalid Gateway as the API server would:\nwant %s\ngot:\n%s", msg, stderr)
	}
	objs, err := parseStatus([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	var gateways []string
	for _, o := range objs {
		if o.Kind != "Gateway" {
			continue
		}
		gateways = append(gateways, o.Metadata.Name)
		var st gwv1.GatewayStatus
		if err := json.Unmarshal(o.Status, &st); err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"Accepted", "Programmed"} {
			if c := apimeta.FindStatusCondition(st.Conditions, typ); c == nil || c.Status != metav1.ConditionTrue {
				t.Errorf("Gateway %s: %s is %+v, want True", o.Metadata.Name, typ, c)
			}
		}
	}
	if len(gateways) != 1 || gateways[0] != "good" {
		t.Errorf("status has Gateways %v, want only good", gateways)
	}
}
