// Command portico-bench runs Portico side by side with nginx, HAProxy and
// Caddy on this machine and reports requests/s, latency and CPU per request
// of each, plus the control plane's scale numbers and the Go benchmarks.
// `make bench` runs it; see bench/README.md.
//
// Every proxy gets the same job: one host, one PathPrefix route, two
// upstream endpoints (one fast nginx on two ports) round robin, keep-alive
// upstream, no access log. Scenarios: HTTP/1.1 keep-alive, HTTP/1.1 over
// TLS and HTTP/2 over TLS, each with the proxy pinned to one core with one
// worker (load generator and upstream on the other core) and unpinned.
// Within each round every proxy runs every scenario; the order of the
// proxies rotates between rounds, and the report gives the median of the
// rounds. CPU per request is the utime+stime delta of the proxy's
// processes (/proc/<pid>/stat, every thread and child) over the measured
// run, divided by the requests the load generator completed.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	rounds    int
	duration  time.Duration
	warmup    time.Duration
	proxies   []string
	scenarios []scenario
	modes     []mode
	parts     map[string]bool
	conns     int
	h2conns   int
	h2streams int
	outDir    string
	install   bool
	maxLoad   float64
	waitQuiet time.Duration
	cpRoutes  []int
	cpTrials  int
	keep      bool
	profile   string
}

func main() {
	os.Exit(run())
}

func run() int {
	var o options
	var proxies, scs, modes, parts, cpRoutes, porticoArgs, goPkgs string
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; every proxy runs every scenario once per round")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration of each load run (whole seconds)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measured run")
	flag.StringVar(&proxies, "proxies", "portico,nginx,haproxy,caddy", "proxies to run, comma-separated")
	flag.StringVar(&scs, "scenarios", "h1,h1-tls,h2-tls", "scenarios: h1, h1-tls, h2-tls")
	flag.StringVar(&modes, "modes", "pinned,unpinned", "pinned (proxy on core 1, one worker) and/or unpinned")
	flag.StringVar(&parts, "parts", "proxies,controlplane,gobench", "what to run: proxies, controlplane, gobench")
	flag.IntVar(&o.conns, "c", 64, "wrk connections")
	flag.IntVar(&o.h2conns, "h2c", 16, "h2load connections")
	flag.IntVar(&o.h2streams, "h2m", 8, "h2load concurrent streams per connection")
	flag.StringVar(&porticoBin, "portico", "bin/portico", "the portico binary")
	flag.StringVar(&porticoArgs, "portico-args", "", "extra arguments to 'portico run', space-separated (e.g. --cpu-profile /tmp/cpu.out)")
	flag.StringVar(&o.outDir, "out", "bench/results", "directory for <date>.md and latest.md; empty to only print")
	flag.BoolVar(&o.install, "install", true, "apt-get install missing tools (nginx haproxy caddy wrk nghttp2-client)")
	flag.Float64Var(&o.maxLoad, "max-load", 0.5, "1-minute load average above which the machine counts as busy (the report says noisy)")
	flag.DurationVar(&o.waitQuiet, "wait-quiet", 0, "wait up to this long for the load average to drop under -max-load before starting")
	flag.StringVar(&goBenchTime, "benchtime", "1s", "go test -benchtime for the Go benchmarks")
	flag.StringVar(&goPkgs, "gobench-pkgs", strings.Join(goBenchPkgs, ","), "packages whose Go benchmarks the report includes")
	flag.StringVar(&cpRoutes, "cp-routes", "1000,10000", "route counts for the control-plane reload measurement")
	flag.IntVar(&o.cpTrials, "cp-trials", 5, "route changes timed per route count")
	flag.BoolVar(&o.keep, "keep", false, "keep the temp dir (configs and logs)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of Portico during its first pinned run (the first of -scenarios) to this file (portico run --pprof)")
	flag.Parse()

	for _, p := range split(proxies) {
		if !slices.ContainsFunc(allPeers, func(x peer) bool { return x.name == p }) {
			return usage("unknown proxy %q", p)
		}
		o.proxies = append(o.proxies, p)
	}
	for _, s := range split(scs) {
		i := slices.IndexFunc(scenarios, func(x scenario) bool { return x.Name == s })
		if i < 0 {
			return usage("unknown scenario %q", s)
		}
		o.scenarios = append(o.scenarios, scenarios[i])
	}
	for _, m := range split(modes) {
		switch m {
		case "pinned":
			o.modes = append(o.modes, mode{Pinned: true})
		case "unpinned":
			o.modes = append(o.modes, mode{})
		default:
			return usage("unknown mode %q", m)
		}
	}
	o.parts = map[string]bool{}
	for _, p := range split(parts) {
		if p != "proxies" && p != "controlplane" && p != "gobench" {
			return usage("unknown part %q", p)
		}
		o.parts[p] = true
	}
	for _, s := range split(cpRoutes) {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 || n > 100000 {
			return usage("bad -cp-routes entry %q", s)
		}
		o.cpRoutes = append(o.cpRoutes, n)
	}
	porticoExtraArgs = strings.Fields(porticoArgs)
	goBenchPkgs = split(goPkgs)
	if o.profile != "" {
		porticoExtraArgs = append(porticoExtraArgs, "--pprof")
	}
	if o.rounds < 1 || o.rounds > 50 || o.duration < time.Second || o.duration > time.Hour {
		return usage("-rounds must be 1-50 and -duration 1s-1h")
	}

	// The trap: whatever happens, stop what we started, by PID.
	defer tracked.stopAll()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "\n%s: stopping everything started\n", s)
		tracked.stopAll()
		os.Exit(130)
	}()

	if err := ensureTools(o); err != nil {
		fmt.Fprintln(os.Stderr, "portico-bench:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "portico-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "portico-bench:", err)
		return 1
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "configs and logs in", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	rep := &report{opts: o}
	rep.machine = machineInfo()
	rep.loadStart = waitQuiet(o.maxLoad, o.waitQuiet)
	rep.start = time.Now()
	rep.noisy = rep.loadStart > o.maxLoad
	if rep.noisy {
		logf("machine busy: load average %.2f > %.2f; results will be marked noisy", rep.loadStart, o.maxLoad)
	}

	l, err := newLayout(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "portico-bench:", err)
		return 1
	}
	if o.parts["proxies"] || o.parts["controlplane"] {
		up, err := startUpstream(l)
		if err != nil {
			fmt.Fprintln(os.Stderr, "portico-bench:", err)
			return 1
		}
		defer tracked.stop(up)
		if err := waitUpstream(l, up); err != nil {
			fmt.Fprintln(os.Stderr, "portico-bench:", err)
			return 1
		}
		rep.upstream = up
	}
	failed := false
	if o.parts["proxies"] {
		if err := runProxies(o, l, rep); err != nil {
			fmt.Fprintln(os.Stderr, "portico-bench:", err)
			failed = true
		}
	}
	if o.parts["controlplane"] && !failed {
		if err := runControlPlane(o, l, rep); err != nil {
			fmt.Fprintln(os.Stderr, "portico-bench: control plane:", err)
			failed = true
		}
	}
	if o.parts["gobench"] && !failed {
		if err := runGoBench(rep); err != nil {
			fmt.Fprintln(os.Stderr, "portico-bench: go benchmarks:", err)
			failed = true
		}
	}
	rep.end = time.Now()
	md := rep.markdown()
	fmt.Println(md)
	if o.outDir != "" && !failed {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "portico-bench:", err)
			return 1
		}
		// latest.md is the last run that compared the proxies; a
		// control-plane-only run gets its own name.
		stamp := rep.start.Format("2006-01-02-150405")
		files := []string{filepath.Join(o.outDir, stamp+".md"), filepath.Join(o.outDir, "latest.md")}
		if !o.parts["proxies"] {
			files = []string{filepath.Join(o.outDir, stamp+"-controlplane.md")}
		}
		name := files[0]
		for _, f := range files {
			if err := os.WriteFile(f, []byte(md), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "portico-bench:", err)
				return 1
			}
		}
		logf("wrote %s and latest.md", name)
	}
	if failed {
		return 1
	}
	return 0
}

func usage(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "portico-bench: "+format+"\n", a...)
	flag.Usage()
	return 2
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
}

// ensureTools installs the Debian packages of missing tools (apt-get update
// first), as root or through sudo.
func ensureTools(o options) error {
	need := map[string]string{"taskset": "util-linux"}
	if o.parts["proxies"] || o.parts["controlplane"] {
		need["nginx"] = "nginx"
	}
	if o.parts["proxies"] {
		for _, p := range o.proxies {
			if p == "haproxy" || p == "caddy" {
				need[p] = p
			}
		}
		need["wrk"] = "wrk"
		need["h2load"] = "nghttp2-client"
	}
	var pkgs []string
	for bin, pkg := range need {
		if _, err := exec.LookPath(bin); err != nil {
			pkgs = append(pkgs, pkg)
		}
	}
	if o.parts["proxies"] || o.parts["controlplane"] {
		if _, err := os.Stat(porticoBin); err != nil {
			return fmt.Errorf("%s: %v (run make build, or pass -portico)", porticoBin, err)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	slices.Sort(pkgs)
	if !o.install {
		return fmt.Errorf("missing packages %v (and -install=false)", pkgs)
	}
	var pre []string
	if os.Geteuid() != 0 {
		pre = []string{"sudo"}
	}
	logf("installing %v", pkgs)
	for _, argv := range [][]string{
		append(slices.Clone(pre), "apt-get", "update"),
		append(append(slices.Clone(pre), "apt-get", "install", "-y", "--no-install-recommends"), pkgs...),
	} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
		}
	}
	return nil
}

// loadAvg is the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var v float64
	fmt.Sscan(string(b), &v)
	return v
}

// waitQuiet waits (at most d, polling every 10 s) for the load average to
// drop under limit and returns the last value read.
func waitQuiet(limit float64, d time.Duration) float64 {
	deadline := time.Now().Add(d)
	v := loadAvg()
	for v > limit && time.Now().Before(deadline) {
		logf("load average %.2f > %.2f, waiting", v, limit)
		time.Sleep(10 * time.Second)
		v = loadAvg()
	}
	return v
}

// machine is the report's description of this machine and the tools.
type machine struct {
	nproc    int
	cpu      string
	kernel   string
	versions [][2]string
}

func machineInfo() machine {
	m := machine{nproc: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	m.kernel = firstLine("uname", "-r")
	for _, v := range [][]string{
		{"portico", porticoBin, "version"},
		{"nginx", "nginx", "-v"},
		{"haproxy", "haproxy", "-v"},
		{"caddy", "caddy", "version"},
		{"wrk", "wrk", "-v"},
		{"h2load", "h2load", "--version"},
	} {
		if s := firstLine(v[1:]...); s != "" {
			m.versions = append(m.versions, [2]string{v[0], s})
		}
	}
	return m
}

func firstLine(argv ...string) string {
	if _, err := exec.LookPath(argv[0]); err != nil && !strings.Contains(argv[0], "/") {
		return ""
	}
	out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	s, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(s)
}
