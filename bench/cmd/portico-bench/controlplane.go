package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// routesPerFile is how the generated HTTPRoutes are spread over files.
const routesPerFile = 100

// cpResult is the control-plane measurement at one route count.
type cpResult struct {
	routes  int
	ready   time.Duration // start to /readyz
	rssKiB  int64         // VmRSS once ready
	reloads []time.Duration
}

func (c cpResult) sorted() []time.Duration {
	s := slices.Clone(c.reloads)
	slices.Sort(s)
	return s
}
func (c cpResult) reloadMedian() time.Duration {
	s := c.sorted()
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
func (c cpResult) reloadMin() time.Duration {
	if len(c.reloads) == 0 {
		return 0
	}
	return slices.Min(c.reloads)
}
func (c cpResult) reloadMax() time.Duration {
	if len(c.reloads) == 0 {
		return 0
	}
	return slices.Max(c.reloads)
}

// cpRouteYAML is HTTPRoute i: host-i.bench.local, PathPrefix /svc-i, to
// Service svc.
func cpRouteYAML(i int, svc string) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-%d
spec:
  parentRefs:
  - name: scale
  hostnames: ["host-%d.bench.local"]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /svc-%d}
    backendRefs:
    - name: %s
      port: 80
`, i, i, i, svc)
}

// cpFile is the content of routes file f (routes f*100 ...), with route
// flip (if in the file) sent to Service "b" instead of "a".
func cpFile(f, n, flip int) string {
	var docs []string
	for i := f * routesPerFile; i < min(n, (f+1)*routesPerFile); i++ {
		svc := "a"
		if i == flip {
			svc = "b"
		}
		docs = append(docs, cpRouteYAML(i, svc))
	}
	return strings.Join(docs, "---\n")
}

func cpFileName(dir string, f int) string {
	return filepath.Join(dir, fmt.Sprintf("routes-%04d.yaml", f))
}

// writeCPConfig writes a Gateway on port, Services a and b (the two
// upstream ports) and n routes.
func writeCPConfig(dir string, n, port int, l *layout) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gw := fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: scale
spec:
  gatewayClassName: portico
  listeners:
  - name: http
    protocol: HTTP
    port: %d
    allowedRoutes: {namespaces: {from: Same}}
---
%s---
%s`, port, serviceYAML("a", l.up[0]), serviceYAML("b", l.up[1]))
	if err := os.WriteFile(filepath.Join(dir, "gateway.yaml"), []byte(gw), 0o644); err != nil {
		return err
	}
	for f := 0; f*routesPerFile < n; f++ {
		if err := os.WriteFile(cpFileName(dir, f), []byte(cpFile(f, n, -1)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runControlPlane measures start-up, memory and reload latency of portico
// run at each route count.
func runControlPlane(o options, l *layout, rep *report) error {
	if err := pin(rep.upstream.pid(), fmt.Sprintf("0-%d", maxCPU())); err != nil {
		return err
	}
	for _, n := range o.cpRoutes {
		c, err := controlPlaneAt(o, l, n)
		if err != nil {
			return fmt.Errorf("%d routes: %w", n, err)
		}
		logf("control plane, %d routes: ready in %s, RSS %d MiB, file change to served %v", n, c.ready.Round(time.Millisecond), c.rssKiB/1024, c.reloads)
		rep.cp = append(rep.cp, c)
	}
	return nil
}

func maxCPU() int { return max(1, len(cpuList())) - 1 }

func cpuList() []int {
	out := []int{}
	for i := range 4096 {
		if _, err := os.Stat(fmt.Sprintf("/sys/devices/system/cpu/cpu%d", i)); err != nil {
			break
		}
		out = append(out, i)
	}
	return out
}

func controlPlaneAt(o options, l *layout, n int) (cpResult, error) {
	res := cpResult{routes: n}
	dir := filepath.Join(l.dir, fmt.Sprintf("cp-%d", n))
	port, err := freePort()
	if err != nil {
		return res, err
	}
	if err := writeCPConfig(dir, n, port, l); err != nil {
		return res, err
	}
	start := time.Now()
	p, err := tracked.start("portico", filepath.Join(l.dir, fmt.Sprintf("portico-cp-%d.log", n)), nil,
		porticoBin, "run", "--config", dir, "--admin-address", "127.0.0.1:"+strconv.Itoa(l.admin),
		"--bind-address", "127.0.0.1", "--log-level", "info")
	if err != nil {
		return res, err
	}
	defer tracked.stop(p)
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
	readyURL := fmt.Sprintf("http://127.0.0.1:%d/readyz", l.admin)
	if err := poll(120*time.Second, 10*time.Millisecond, p, func() bool {
		resp, err := c.Get(readyURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}); err != nil {
		return res, fmt.Errorf("waiting for /readyz: %w", err)
	}
	res.ready = time.Since(start)
	res.rssKiB = rss(p.pid())
	// /readyz turns 200 after the first reconcile, but Runner.Run then
	// reconciles once more before it installs the file watch: a change in
	// that window goes unnoticed. Give that second reconcile time to end.
	time.Sleep(res.ready + time.Second)
	for t := range o.cpTrials {
		// A different route each trial, spread over the files.
		flip := (n/2 + t*(n/max(1, o.cpTrials)+37)) % n
		url := fmt.Sprintf("http://127.0.0.1:%d/svc-%d/x", port, flip)
		host := fmt.Sprintf("host-%d.bench.local", flip)
		if body, err := getHost(c, url, host); err != nil || body != upstreamBody(0) {
			return res, fmt.Errorf("route %d before the change: %q, %v", flip, body, err)
		}
		f := flip / routesPerFile
		tmp := filepath.Join(dir, ".next.tmp")
		if err := os.WriteFile(tmp, []byte(cpFile(f, n, flip)), 0o644); err != nil {
			return res, err
		}
		t0 := time.Now()
		if err := os.Rename(tmp, cpFileName(dir, f)); err != nil {
			return res, err
		}
		if err := poll(60*time.Second, 2*time.Millisecond, p, func() bool {
			body, err := getHost(c, url, host)
			return err == nil && body == upstreamBody(1)
		}); err != nil {
			return res, fmt.Errorf("route %d after the change: %w", flip, err)
		}
		res.reloads = append(res.reloads, time.Since(t0))
		// Put it back (and let the reload settle) before the next trial.
		if err := os.WriteFile(cpFileName(dir, f), []byte(cpFile(f, n, -1)), 0o644); err != nil {
			return res, err
		}
		if err := poll(60*time.Second, 5*time.Millisecond, p, func() bool {
			body, err := getHost(c, url, host)
			return err == nil && body == upstreamBody(0)
		}); err != nil {
			return res, fmt.Errorf("route %d restored: %w", flip, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	return res, nil
}

func getHost(c *http.Client, url, host string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<12))
	return string(b), err
}

// poll calls ok every step until it is true, p exits, or timeout.
func poll(timeout, step time.Duration, p *proc, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for i := 0; i < 10_000_000; i++ {
		if ok() {
			return nil
		}
		if done, err := p.exited(); done {
			return fmt.Errorf("%s exited: %v", p.name, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		time.Sleep(step)
	}
	return fmt.Errorf("gave up")
}

// rss is VmRSS of pid in KiB.
func rss(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// goBenchPkgs are the packages whose Go benchmarks the report includes.
var goBenchPkgs = []string{"./internal/proxy/router/", "./internal/proxy/", "./internal/controlplane/"}

// goBenchTime is go test -benchtime (flag -benchtime).
var goBenchTime = "1s"

// runGoBench runs the Go benchmarks (-benchmem) and keeps their output.
func runGoBench(rep *report) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", goBenchTime, "-count", "1"}, goBenchPkgs...)
	logf("go %s", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=auto")
	out, err := cmd.CombinedOutput()
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "pkg:") || strings.HasPrefix(line, "cpu:") {
			keep = append(keep, line)
		}
	}
	rep.goBench = strings.Join(keep, "\n") + "\n"
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}
