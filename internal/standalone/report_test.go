package standalone

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"portico.dev/portico/internal/ir"
)

type fakeProxy struct{}

func (fakeProxy) Apply(*ir.Config) ir.Ack { return ir.Ack{} }

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// take returns what was logged since the last take.
func (l *logBuf) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

const gwHTTPS = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: portico
  listeners:
  - name: https
    port: 8443
    protocol: HTTPS
    tls: {certificateRefs: [{name: cert}]}
`

func newTestRunner(t *testing.T, dir string) (*Runner, *logBuf) {
	t.Helper()
	var buf logBuf
	r := New(Options{ConfigDir: dir, BindAddress: "127.0.0.1", Logger: slog.New(slog.NewTextHandler(&buf, nil))}, fakeProxy{})
	return r, &buf
}

func writeYAML(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConditionThatTurnsBadIsLoggedOnceAndWhenFixed(t *testing.T) {
	dir := t.TempDir()
	writeYAML(t, dir, "gw.yaml", gwHTTPS)
	r, log := newTestRunner(t, dir)
	if err := r.Reconcile(); err != nil {
		t.Fatal(err)
	}
	out := log.take()
	want := "Gateway default/gw listener https: ResolvedRefs=False (InvalidCertificateRef): spec.listeners[https].tls.certificateRefs[0]: Secret default/cert does not exist"
	if strings.Count(out, want) != 1 {
		t.Errorf("the missing Secret is not logged once:\n%s", out)
	}
	if strings.Count(out, "configuration version 1 applied") != 1 || strings.Count(out, "level=INFO") != 1 {
		t.Errorf("want one summary line at INFO:\n%s", out)
	}
	if err := r.Reconcile(); err != nil {
		t.Fatal(err)
	}
	out = log.take()
	if strings.Contains(out, "ResolvedRefs") || strings.Count(out, "\n") != 1 || !strings.Contains(out, "no object changed") {
		t.Errorf("a reload that changes nothing logs one line and repeats no problem:\n%s", out)
	}
	writeYAML(t, dir, "gw.yaml", strings.Replace(gwHTTPS, "protocol: HTTPS\n    tls: {certificateRefs: [{name: cert}]}", "protocol: HTTP", 1))
	if err := r.Reconcile(); err != nil {
		t.Fatal(err)
	}
	out = log.take()
	if !strings.Contains(out, "Gateway default/gw listener https: ResolvedRefs=True again (ResolvedRefs)") ||
		!strings.Contains(out, `changed="[Gateway default/gw]"`) {
		t.Errorf("want the condition logged as good again and the Gateway as changed:\n%s", out)
	}
}

func TestInputProblemLoggedOnceWithItsLine(t *testing.T) {
	dir := t.TempDir()
	writeYAML(t, dir, "r.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  hostnames: [a.example]\n")
	r, log := newTestRunner(t, dir)
	if err := r.Reconcile(); err != nil {
		t.Fatal(err)
	}
	out := log.take()
	if !strings.Contains(out, "r.yaml: document 1 (line 4): HTTPRoute default/r: spec.parentRefs is empty") {
		t.Errorf("a route without parentRefs is not reported with its file:\n%s", out)
	}
	if err := r.Reconcile(); err != nil {
		t.Fatal(err)
	}
	if out := log.take(); strings.Contains(out, "parentRefs") {
		t.Errorf("the same problem is logged again:\n%s", out)
	}
}

func TestTransitionsAndProblemDiff(t *testing.T) {
	added, fixed := problemDiff([]string{"a", "f: document 1 (line 3): b at line 4"}, []string{"f: document 2 (line 9): b at line 10", "c"})
	if strings.Join(added, ",") != "c" || strings.Join(fixed, ",") != "a" {
		t.Errorf("problemDiff: added %v fixed %v (a problem that moved is the same problem)", added, fixed)
	}
}

func TestTransitionsOnlyOnChange(t *testing.T) {
	st := func(status, reason, msg string) condState {
		return condState{where: "Gateway default/gw", cond: metav1.Condition{Type: "Accepted", Status: metav1.ConditionStatus(status), Reason: reason, Message: msg}}
	}
	k := "Gateway default/gw Accepted"
	cases := []struct {
		name          string
		before, after map[string]condState
		want          string // "", "bad" or "good"
	}{
		{"new and good", nil, map[string]condState{k: st("True", "Accepted", "")}, ""},
		{"new and bad", nil, map[string]condState{k: st("False", "Invalid", "x")}, "bad"},
		{"stays bad", map[string]condState{k: st("False", "Invalid", "x")}, map[string]condState{k: st("False", "Invalid", "x")}, ""},
		{"bad for another reason", map[string]condState{k: st("False", "Invalid", "x")}, map[string]condState{k: st("False", "Invalid", "y")}, "bad"},
		{"turns good", map[string]condState{k: st("False", "Invalid", "x")}, map[string]condState{k: st("True", "Accepted", "")}, "good"},
		{"stays good", map[string]condState{k: st("True", "Accepted", "")}, map[string]condState{k: st("True", "Accepted", "")}, ""},
	}
	for _, c := range cases {
		ts := transitions(c.before, c.after)
		got := ""
		if len(ts) == 1 {
			got = map[bool]string{true: "bad", false: "good"}[ts[0].bad]
		}
		if len(ts) > 1 || got != c.want {
			t.Errorf("%s: got %v, want %q", c.name, ts, c.want)
		}
	}
}
