package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestControllerFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--service-type", "ExternalName"}, "--service-type"},
		{[]string{"--proxy-replicas", "0"}, "--proxy-replicas"},
		{[]string{"--proxy-image-pull-policy", "Sometimes"}, "--proxy-image-pull-policy"},
		{[]string{"--controller-url", "portico:18000"}, "--controller-url"},
		{[]string{"--config-stream-address", "18000"}, "--config-stream-address"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"stray"}, "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			if code := Main(append([]string{"controller"}, tc.args...), &bytes.Buffer{}, &stderr); code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr does not name %s:\n%s", tc.want, stderr.String())
			}
		})
	}
}

func TestControllerWithoutCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", t.TempDir()+"/missing")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	// Any proxy image name passes the flag checks (a mirror may call it
	// anything): the run gets as far as looking for a cluster.
	for _, args := range [][]string{nil, {"--proxy-image", "registry.example.com/mirror/gateway-proxy:v1"}} {
		var stderr bytes.Buffer
		if code := Main(append([]string{"controller"}, args...), &bytes.Buffer{}, &stderr); code != 1 {
			t.Errorf("%q: exit code %d, want 1; stderr:\n%s", args, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "--kubeconfig") {
			t.Errorf("%q: the error does not say how to point at a cluster:\n%s", args, stderr.String())
		}
	}
}
