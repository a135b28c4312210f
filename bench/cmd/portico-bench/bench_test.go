package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/controlplane"
	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
)

func TestParseWrk(t *testing.T) {
	for _, c := range []struct {
		file     string
		want     loadResult
		wantErrs int64
	}{
		{"wrk.txt", loadResult{Requests: 5567, Elapsed: 2040 * time.Millisecond, RPS: 2727.27, P50: 17600 * time.Microsecond, P99: 416050 * time.Microsecond}, 0},
		{"wrk-errors.txt", loadResult{Requests: 801234, Elapsed: 10 * time.Second, RPS: 80123.40, P50: 741 * time.Microsecond, P99: 1520 * time.Microsecond}, 15},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseWrk(string(b))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		c.want.Errors = c.wantErrs
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.file, got, c.want)
		}
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("no error for output without a report")
	}
}

func TestParseH2load(t *testing.T) {
	b, err := os.ReadFile("testdata/h2load.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseH2load(string(b))
	if err != nil {
		t.Fatal(err)
	}
	want := loadResult{Requests: 2337, Elapsed: 2 * time.Second, RPS: 1168.50}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	bad := strings.Replace(string(b), "0 failed, 0 errored, 0 timeout", "4 failed, 2 errored, 1 timeout", 1)
	bad = strings.Replace(bad, "0 4xx, 0 5xx", "3 4xx, 5 5xx", 1)
	if got, _ := parseH2load(bad); got.Errors != 15 {
		t.Errorf("errors %d, want 15", got.Errors)
	}
}

func TestH2loadPercentiles(t *testing.T) {
	var lines []string
	for i := 1; i <= 200; i++ { // latencies 200..1 µs: the order must not matter
		lines = append(lines, "1700000000000000\t200\t"+strconv.Itoa(201-i))
	}
	f := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	p50, p99, err := h2loadPercentiles(fh)
	if err != nil {
		t.Fatal(err)
	}
	if p50 != 100*time.Microsecond || p99 != 198*time.Microsecond {
		t.Errorf("p50 %v p99 %v, want 100µs and 198µs", p50, p99)
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as proc(5) allows.
	line := "4242 (nginx: worker (x)) S 4241 4241 4241 0 -1 4194624 123 0 0 0 1500 250 0 0 20 0 1 0 5000 100000 500 18446744073709551615\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 4241 || st.utime != 1500 || st.stime != 250 {
		t.Errorf("got %+v", st)
	}
	if _, err := parseStat([]byte("garbage")); err == nil {
		t.Error("no error for garbage")
	}
}

func TestParseCPUStat(t *testing.T) {
	s := parseCPUStat("cpu  100 5 50 1000 20 3 2 1 0 0")
	if s.busy != 161 || s.total != 1181 {
		t.Errorf("got %+v, want busy 161 total 1181", s)
	}
}

func TestMedianAndRatios(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even %v", m)
	}
	r := newResults()
	for i, rps := range []float64{10000, 12000, 11000} {
		r.add(key{"h1", true, "portico"}, sample{loadResult: loadResult{RPS: rps, P50: time.Duration(i+1) * time.Millisecond, P99: 5 * time.Millisecond}, CPUPerReq: 78 + 2*float64(i)})
		r.add(key{"h1", true, "nginx"}, sample{loadResult: loadResult{RPS: 44000, P50: 500 * time.Microsecond, P99: time.Millisecond, Errors: 1}, CPUPerReq: 10})
	}
	s, _ := r.summary(key{"h1", true, "portico"})
	if s.RPS != 11000 || s.P50 != 2*time.Millisecond || s.N != 3 {
		t.Errorf("summary %+v", s)
	}
	modes, scs := []mode{{Pinned: true}}, scenarios[:1]
	tab := r.table(modes, scs, []string{"portico", "nginx"})
	for _, want := range []string{"| HTTP/1.1 keep-alive | pinned 1 core | portico | 11000 | 2.00 ms | 5.00 ms | 80.0 | 78.0-82.0 | 0 |", "| nginx | 44000 | 500 µs | 1.00 ms | 10.0 | 10.0-10.0 | 3 |"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	rat := r.ratios(modes, scs, []string{"portico", "nginx", "caddy"})
	if want := "| HTTP/1.1 keep-alive | pinned 1 core | 0.25 | 8.00 | - | - |"; !strings.Contains(rat, want) {
		t.Errorf("ratios lack %q:\n%s", want, rat)
	}
}

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	if got := strings.Join(rotate(xs, 4), ""); got != "bca" {
		t.Errorf("rotate 4: %s", got)
	}
	if got := strings.Join(xs, ""); got != "abc" {
		t.Errorf("rotate changed its input: %s", got)
	}
}

func TestLoadArgv(t *testing.T) {
	s := loadSpec{sc: scenarios[2], port: 8443, dur: 10 * time.Second, conns: 16, streams: 8, cpus: "0"}
	got := strings.Join(s.argv("/tmp/h2.log"), " ")
	want := "taskset -c 0 h2load -c 16 -m 8 -t 1 -D 10 -H :authority: bench.local --log-file /tmp/h2.log https://127.0.0.1:8443/app/hello"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	s = loadSpec{sc: scenarios[0], port: 8080, dur: 3 * time.Second, conns: 64}
	if got, want := strings.Join(s.argv(""), " "), "wrk -c 64 -t 1 -d 3s --latency -H Host: bench.local http://127.0.0.1:8080/app/hello"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// The generated Portico configuration must be what the other proxies are
// told: both listeners programmed, the route attached to both, one backend
// with the two upstream endpoints, and no diagnostics.
func TestPorticoConfigIsEquivalent(t *testing.T) {
	l, err := newLayout(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadIR(t, map[string]string{"bench.yaml": porticoConfig(l)})
	if len(cfg.Listeners) != 2 {
		t.Fatalf("%d listeners, want 2", len(cfg.Listeners))
	}
	for _, li := range cfg.Listeners {
		if li.Address != "127.0.0.1" {
			t.Errorf("listener %s on %q", li.Name, li.Address)
		}
		var routes []ir.HTTPRoute
		for _, vh := range li.VirtualHosts {
			routes = append(routes, vh.Routes...)
		}
		if len(routes) != 1 || len(routes[0].Rules) != 1 {
			t.Fatalf("listener %s: routes %+v", li.Name, routes)
		}
		rule := routes[0].Rules[0]
		if m := rule.Matches[0].Path; m.Type != ir.PathPrefix || m.Value != benchPrefix {
			t.Errorf("match %+v", m)
		}
		if len(rule.Backends) != 1 || len(rule.Backends[0].Endpoints) != 2 {
			t.Fatalf("backends %+v", rule.Backends)
		}
		eps := rule.Backends[0].Endpoints
		if eps[0].Port == eps[1].Port || (int(eps[0].Port) != l.up[0] && int(eps[0].Port) != l.up[1]) {
			t.Errorf("endpoints %+v, want the upstream ports %v", eps, l.up)
		}
	}
}

func TestControlPlaneConfig(t *testing.T) {
	l, err := newLayout(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cp")
	if err := writeCPConfig(dir, 250, 18080, l); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cpFileName(dir, 1), []byte(cpFile(1, 250, 123)), 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "routes-*.yaml"))
	if len(files) != 3 {
		t.Fatalf("%d route files, want 3", len(files))
	}
	cfg := loadDir(t, dir)
	n := 0
	for _, vh := range cfg.Listeners[0].VirtualHosts {
		for _, r := range vh.Routes {
			n++
			want := int32(l.up[0])
			if r.Name == "default/route-123" {
				want = int32(l.up[1])
			}
			if got := r.Rules[0].Backends[0].Endpoints[0].Port; got != want {
				t.Errorf("%s goes to port %d, want %d", r.Name, got, want)
			}
		}
	}
	if n != 250 {
		t.Errorf("%d routes served, want 250", n)
	}
}

func loadIR(t *testing.T, files map[string]string) ir.Config {
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return loadDir(t, dir)
}

func loadDir(t *testing.T, dir string) ir.Config {
	t.Helper()
	snap, diags, err := file.NewLoader(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		t.Errorf("diagnostic: %s", d)
	}
	snap.Standalone = true
	res := controlplane.Compute(snap, graph.Options{BindAddress: "127.0.0.1", SharedSockets: true})
	for _, w := range res.Graph.Warnings {
		t.Errorf("warning: %s", w)
	}
	return res.Config
}
