package kubelet

import (
	"slices"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"POD_IP": "10.244.0.7", "N": "x"}
	for in, want := range map[string]string{
		"$(POD_IP):9901": "10.244.0.7:9901",
		"--a=$(N)$(N)":   "--a=xx",
		"$$(POD_IP)":     "$(POD_IP)",
		"$(MISSING)":     "$(MISSING)",
		"no vars":        "no vars",
		"trailing $":     "trailing $",
		"$(unterminated": "$(unterminated",
		"cost $5 $(N)":   "cost $5 x",
	} {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMountsRewrite(t *testing.T) {
	m := mounts{
		{mountPath: "/etc/secret-volume", hostPath: "/run/p/secret"},
		{mountPath: "/etc/secret-volume/nested", hostPath: "/run/p/nested"},
	}
	for in, want := range map[string]string{
		"/etc/secret-volume/crt":            "/run/p/secret/crt",
		"/etc/secret-volume/nested/key":     "/run/p/nested/key",
		"--tls-cert=/etc/secret-volume/crt": "--tls-cert=/run/p/secret/crt",
		"/etc/secret-volumes/x":             "/etc/secret-volumes/x",
		"plain":                             "plain",
	} {
		if got := m.rewrite(in); got != want {
			t.Errorf("rewrite(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPorticoArgv(t *testing.T) {
	vars := map[string]string{"POD_IP": "10.244.0.9"}
	got, err := porticoArgv("/repo/bin/portico", []string{"portico"}, []string{"proxy", "--bind-address", "$(POD_IP)"}, vars, nil)
	if err != nil || !slices.Equal(got, []string{"/repo/bin/portico", "proxy", "--bind-address", "10.244.0.9"}) {
		t.Errorf("command portico: %q %v", got, err)
	}
	got, _ = porticoArgv("/repo/bin/portico", nil, []string{"proxy"}, vars, nil)
	if !slices.Equal(got, []string{"/repo/bin/portico", "proxy"}) {
		t.Errorf("no command: %q", got)
	}
	got, _ = porticoArgv("/repo/bin/portico", []string{"/bin/sh", "-c"}, []string{"echo"}, vars, nil)
	if !slices.Equal(got, []string{"/bin/sh", "-c", "echo"}) {
		t.Errorf("other command: %q", got)
	}
}

func TestContainerKind(t *testing.T) {
	for _, c := range []struct {
		image string
		env   map[string]string
		want  string
	}{
		{"registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0", nil, kindHTTPEcho},
		{"registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0", map[string]string{"GRPC_ECHO_SERVER": "1"}, kindGRPCEcho},
		{"registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0", map[string]string{"TCP_ECHO_SERVER": "1"}, kindTCPEcho},
		{"registry.k8s.io/gateway-api/conformance/echo-basic:v0.2.0", map[string]string{"UDP_ECHO_SERVER": "1"}, kindUDPEcho},
		{"ghcr.io/portico-dev/portico:v0.1.0", nil, kindPortico},
		{PorticoImage, nil, kindPortico},
		{"registry.k8s.io/gateway-api/conformance/echo-advanced:v0.1.0", nil, kindIdle},
	} {
		if got := containerKind(c.image, c.env); got != c.want {
			t.Errorf("containerKind(%s, %v) = %s, want %s", c.image, c.env, got, c.want)
		}
	}
}
