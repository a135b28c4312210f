package e2e

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"portico.dev/portico/internal/testcert"
)

func TestVersion(t *testing.T) {
	stdout, stderr, code := runCLI(t, "version")
	if code != 0 {
		t.Fatalf("portico version exited %d\nstderr:\n%s", code, stderr)
	}
	if strings.TrimSpace(stdout) == "" {
		t.Error("portico version printed nothing")
	}
}

// TestTranslate checks that `portico translate` prints the IR and status as
// YAML.
func TestTranslate(t *testing.T) {
	a := startBackend(t, "echo-a")
	cert := testcert.NewCA(t, "portico e2e CA").Server(t, "secure.example.com")
	dir := t.TempDir()
	writeFile(t, dir, "all.yaml", join(
		gatewayYAML("gw",
			listener{Name: "http", Protocol: "HTTP", Port: 18080},
			listener{Name: "https", Protocol: "HTTPS", Port: 18443, Hostname: "secure.example.com", CertSecrets: []string{"cert"}},
		),
		tlsSecretYAML("cert", cert.CertPEM, cert.KeyPEM),
		servicesYAML(a),
		routeYAML("r", "gw", nil, "/", nil, to("echo-a")),
	))
	stdout, stderr, code := runCLI(t, "translate", "--config", dir)
	if code != 0 {
		t.Fatalf("portico translate exited %d\nstderr:\n%s", code, stderr)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("portico translate output is not YAML: %v\n%s", err, stdout)
	}
	if len(doc) == 0 {
		t.Fatalf("portico translate printed an empty document:\n%s", stdout)
	}
	for _, want := range []string{"18080", "18443", "echo-a"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("portico translate output lacks %q", want)
		}
	}
	if strings.Contains(stdout, "PRIVATE KEY") {
		t.Error("portico translate prints a private key; keys must be redacted")
	}
	if t.Failed() {
		t.Logf("portico translate:\n%s", stdout)
	}
}

// TestEchoCommand runs `portico echo` (the demo's backends) and stops it
// with SIGTERM.
func TestEchoCommand(t *testing.T) {
	addr := freeAddr(t)
	var out syncBuffer
	cmd := exec.Command(porticoBin, "echo", "--listen", addr, "--name", "echo-cli", "--namespace", "ns", "--service", "svc")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	client := newClient()
	var ans answer
	eventually(t, readyTimeout, "portico echo to answer", func() error {
		var err error
		ans, err = do(client, request(addr, "", "/from-cli"))
		if err != nil {
			return err
		}
		return expectPod(ans, "echo-cli")
	})
	if ans.Echo.Namespace != "ns" || ans.Echo.Service != "svc" || ans.Echo.Path != "/from-cli" {
		t.Errorf("echo = %+v", ans.Echo)
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("portico echo exited with %v after SIGTERM, want 0\n%s", err, out.String())
		}
	case <-time.After(stopTimeout):
		t.Fatalf("portico echo did not exit within %v of SIGTERM", stopTimeout)
	}
	if !strings.Contains(out.String(), "Echoing back request made to /from-cli") {
		t.Errorf("portico echo did not log the request:\n%s", out.String())
	}
}
