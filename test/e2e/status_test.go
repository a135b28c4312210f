package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// statusObject is one entry of `portico status -o json` and of the admin
// /status: an object's identity and its status.
type statusObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Namespace  string `json:"namespace"`
		Name       string `json:"name"`
		Generation int64  `json:"generation"`
	} `json:"metadata"`
	Status json.RawMessage `json:"status"`
}

// offlineStatus runs `portico status -o json` on dir: the objects it
// prints, and the output itself.
func offlineStatus(t *testing.T, dir string) ([]statusObject, string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, "status", "--config", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("portico status exited %d\nstderr:\n%s", code, stderr)
	}
	objs, err := parseStatus([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	return objs, stdout
}

// parseStatus reads a JSON list of status objects (or {"items": [...]}).
func parseStatus(b []byte) ([]statusObject, error) {
	var list []statusObject
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var wrapped struct {
			Items []statusObject `json:"items"`
		}
		if err := json.Unmarshal(trimmed, &wrapped); err != nil {
			return nil, err
		}
		return wrapped.Items, nil
	}
	if err := json.Unmarshal(trimmed, &list); err != nil {
		return nil, fmt.Errorf("status is not a JSON list of objects: %w\n%s", err, tail(string(b), 4<<10))
	}
	return list, nil
}

func findStatus(objs []statusObject, kind, name string) (statusObject, error) {
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name && (o.Metadata.Namespace == "default" || o.Metadata.Namespace == "") {
			return o, nil
		}
	}
	var have []string
	for _, o := range objs {
		have = append(have, o.Kind+" "+o.Metadata.Namespace+"/"+o.Metadata.Name)
	}
	return statusObject{}, fmt.Errorf("no %s default/%s in the status; have %v", kind, name, have)
}

// wantCondition checks that conds has condType with status and, when not
// empty, reason, observed at generation.
func wantCondition(conds []metav1.Condition, condType string, status metav1.ConditionStatus, reason string, generation int64) error {
	for _, c := range conds {
		if c.Type != condType {
			continue
		}
		if c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("%s is %s/%s (%q), want %s/%s", condType, c.Status, c.Reason, c.Message, status, reason)
		}
		if c.ObservedGeneration != generation {
			return fmt.Errorf("%s has observedGeneration %d, want the object's generation %d", condType, c.ObservedGeneration, generation)
		}
		return nil
	}
	return fmt.Errorf("no %s condition in %+v", condType, conds)
}

// gatewayConditions checks the Gateway's own conditions.
func gatewayConditions(objs []statusObject, name string, wantProgrammed bool) error {
	o, err := findStatus(objs, "Gateway", name)
	if err != nil {
		return err
	}
	if o.Metadata.Generation < 1 {
		return fmt.Errorf("Gateway %s has metadata.generation %d, want at least 1", name, o.Metadata.Generation)
	}
	var st gwv1.GatewayStatus
	if err := json.Unmarshal(o.Status, &st); err != nil {
		return fmt.Errorf("Gateway %s status: %w", name, err)
	}
	gen := o.Metadata.Generation
	if err := wantCondition(st.Conditions, "Accepted", metav1.ConditionTrue, "Accepted", gen); err != nil {
		return fmt.Errorf("Gateway %s: %w", name, err)
	}
	if wantProgrammed {
		if err := wantCondition(st.Conditions, "Programmed", metav1.ConditionTrue, "Programmed", gen); err != nil {
			return fmt.Errorf("Gateway %s: %w", name, err)
		}
	}
	return nil
}

// routeParentConditions checks the conditions an HTTPRoute has for its
// parent Gateway gw.
func routeParentConditions(objs []statusObject, route, gw string, want map[string][2]string) error {
	o, err := findStatus(objs, "HTTPRoute", route)
	if err != nil {
		return err
	}
	var st gwv1.HTTPRouteStatus
	if err := json.Unmarshal(o.Status, &st); err != nil {
		return fmt.Errorf("HTTPRoute %s status: %w", route, err)
	}
	for _, p := range st.Parents {
		if string(p.ParentRef.Name) != gw {
			continue
		}
		if p.ControllerName != "portico.dev/gateway-controller" {
			return fmt.Errorf("HTTPRoute %s parent %s: controllerName %q", route, gw, p.ControllerName)
		}
		for condType, sr := range want {
			if err := wantCondition(p.Conditions, condType, metav1.ConditionStatus(sr[0]), sr[1], o.Metadata.Generation); err != nil {
				return fmt.Errorf("HTTPRoute %s parent %s: %w", route, gw, err)
			}
		}
		return nil
	}
	return fmt.Errorf("HTTPRoute %s has no parent status for Gateway %s: %s", route, gw, o.Status)
}

// TestStatus checks the status portico reports, offline (`portico status`)
// and live (admin /status), including a route to a Service that does not
// exist, which must answer 500.
func TestStatus(t *testing.T) {
	a := startBackend(t, "echo-a")
	port := freePort(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}))
	writeFile(t, dir, "backends.yaml", servicesYAML(a))
	writeFile(t, dir, "routes.yaml", join(
		routeYAML("good", "gw", nil, "/", nil, to("echo-a")),
		routeYAML("missing", "gw", nil, "/missing", nil, to("no-such-service")),
	))

	good := map[string][2]string{"Accepted": {"True", "Accepted"}, "ResolvedRefs": {"True", "ResolvedRefs"}}
	missing := map[string][2]string{"Accepted": {"True", "Accepted"}, "ResolvedRefs": {"False", "BackendNotFound"}}

	t.Run("offline", func(t *testing.T) {
		objs, stdout := offlineStatus(t, dir)
		// Offline there is no proxy to apply the config, so Programmed
		// is not asserted here; the live test below checks it.
		if err := gatewayConditions(objs, "gw", false); err != nil {
			t.Error(err)
		}
		if err := routeParentConditions(objs, "good", "gw", good); err != nil {
			t.Error(err)
		}
		if err := routeParentConditions(objs, "missing", "gw", missing); err != nil {
			t.Error(err)
		}
		// The default GatewayClass is made up, not read from the input;
		// whether it is listed is not part of the contract. When it is,
		// it must be Accepted.
		if gc, err := findStatusAny(objs, "GatewayClass", "portico"); err != nil {
			t.Logf("note: %v (the Gateway being Accepted shows it exists)", err)
		} else {
			var st gwv1.GatewayClassStatus
			if err := json.Unmarshal(gc.Status, &st); err != nil {
				t.Fatal(err)
			}
			if err := wantCondition(st.Conditions, "Accepted", metav1.ConditionTrue, "", gc.Metadata.Generation); err != nil {
				t.Errorf("GatewayClass portico: %v", err)
			}
		}
		if t.Failed() {
			t.Logf("portico status -o json:\n%s", stdout)
		}
	})

	t.Run("formats", func(t *testing.T) {
		for _, format := range []string{"yaml", "table"} {
			stdout, stderr, code := runCLI(t, "status", "--config", dir, "-o", format)
			if code != 0 {
				t.Errorf("portico status -o %s exited %d\nstderr:\n%s", format, code, stderr)
				continue
			}
			for _, name := range []string{"gw", "good", "missing"} {
				if !strings.Contains(stdout, name) {
					t.Errorf("portico status -o %s does not mention %s:\n%s", format, name, stdout)
				}
			}
		}
	})

	t.Run("live", func(t *testing.T) {
		p := startPortico(t, dir)
		var objs []statusObject
		eventually(t, reloadTimeout, "admin /status to show the Gateway Programmed", func() error {
			body, err := p.adminGet("/status")
			if err != nil {
				return err
			}
			if objs, err = parseStatus(body); err != nil {
				return err
			}
			return gatewayConditions(objs, "gw", true)
		})
		if err := routeParentConditions(objs, "good", "gw", good); err != nil {
			t.Error(err)
		}
		if err := routeParentConditions(objs, "missing", "gw", missing); err != nil {
			t.Error(err)
		}

		gw := "127.0.0.1:" + strconv.Itoa(port)
		client := newClient()
		eventually(t, readyTimeout, "the good route to answer", func() error {
			ans, err := do(client, request(gw, "x.example.com", "/"))
			if err != nil {
				return err
			}
			return expectPod(ans, "echo-a")
		})
		ans, err := do(client, request(gw, "x.example.com", "/missing/thing"))
		if err != nil {
			t.Fatal(err)
		}
		if ans.Status != http.StatusInternalServerError {
			t.Errorf("route to a missing Service: status %d, want 500; body %.200s", ans.Status, ans.Body)
		}

		for _, path := range []string{"/healthz", "/readyz", "/config"} {
			if _, err := p.adminGet(path); err != nil {
				t.Errorf("admin %s: %v", path, err)
			}
		}
	})
}

// findStatusAny finds a cluster-scoped or namespaced object by kind and name.
func findStatusAny(objs []statusObject, kind, name string) (statusObject, error) {
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o, nil
		}
	}
	return statusObject{}, fmt.Errorf("no %s %s in the status", kind, name)
}
