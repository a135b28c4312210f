package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestListenerSet adds a listener to a Gateway through a ListenerSet in
// another namespace and routes to it with a ListenerSet parentRef: the
// Gateway's proxy opens the new port, and the Gateway's own listener keeps
// its routes.
func TestListenerSet(t *testing.T) {
	a, b := startBackend(t, "echo-a"), startBackend(t, "echo-b")
	gwPort, setPort := freePort(t), freePort(t)
	dir := t.TempDir()
	gw := gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: gwPort})
	gw = strings.Replace(gw, "spec:\n", "spec:\n  allowedListeners:\n    namespaces:\n      from: All\n", 1)
	writeFile(t, dir, "gateway.yaml", gw)
	writeFile(t, dir, "backends.yaml", servicesYAML(a, b))
	writeFile(t, dir, "routes.yaml", routeYAML("gw-route", "gw", nil, "/", nil, to("echo-a")))
	writeFile(t, dir, "team.yaml", fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata:
  name: team-listeners
  namespace: team
spec:
  parentRef:
    name: gw
    namespace: default
  listeners:
  - name: team-http
    protocol: HTTP
    port: %d
    hostname: team.example.com
    allowedRoutes:
      namespaces:
        from: All
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: team-route
  namespace: team
spec:
  parentRefs:
  - group: gateway.networking.k8s.io
    kind: ListenerSet
    name: team-listeners
    sectionName: team-http
  rules:
  - backendRefs:
    - name: echo-b
      namespace: default
      port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata:
  name: team-to-default
spec:
  from:
  - group: gateway.networking.k8s.io
    kind: HTTPRoute
    namespace: team
  to:
  - group: ""
    kind: Service
`, setPort))
	startPortico(t, dir)
	client := newClient()
	setAddr := "127.0.0.1:" + strconv.Itoa(setPort)
	eventually(t, readyTimeout, "the ListenerSet's listener to route", func() error {
		ans, err := do(client, request(setAddr, "team.example.com", "/x"))
		if err != nil {
			return err
		}
		return expectPod(ans, "echo-b")
	})
	ans, err := do(client, request("127.0.0.1:"+strconv.Itoa(gwPort), "www.example.com", "/"))
	if err != nil {
		t.Fatal(err)
	}
	if err := expectPod(ans, "echo-a"); err != nil {
		t.Errorf("the Gateway's own listener: %v", err)
	}
	if ans, err := do(client, request(setAddr, "other.example.com", "/")); err != nil || ans.Status != 404 {
		t.Errorf("a host the ListenerSet listener does not serve: status %d, err %v; want 404", ans.Status, err)
	}

	_, out := offlineStatus(t, dir)
	for _, want := range []string{`"kind": "ListenerSet"`, `"attachedListenerSets": 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("portico status lacks %s", want)
		}
	}
}
