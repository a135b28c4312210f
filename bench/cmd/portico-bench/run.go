package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// runProxies runs every round: per mode, every proxy (order rotated by
// round) runs every scenario, warm-up first, then the measured run.
func runProxies(o options, l *layout, rep *report) error {
	ncpu := runtime.NumCPU()
	canPin := ncpu >= 2
	if !canPin {
		logf("only %d CPU: the pinned mode cannot separate the proxy from the load generator; not pinning", ncpu)
	}
	cc := newCheckClients(l)
	tick := clockTick()
	res := newResults()
	rep.results = res
	run := 0
	total := o.rounds * len(o.modes) * len(o.proxies) * len(o.scenarios)
	for r := range o.rounds {
		order := rotate(o.proxies, r)
		for _, m := range o.modes {
			proxyCPU, loadCPU, upCPU := "", "", fmt.Sprintf("0-%d", ncpu-1)
			if m.Pinned && canPin {
				proxyCPU, loadCPU, upCPU = "1", "0", "0"
			}
			// The upstream shares the load generator's core when the proxy
			// is pinned, so the proxy has its core to itself.
			if err := pin(rep.upstream.pid(), upCPU); err != nil {
				return err
			}
			for _, name := range order {
				pe := allPeers[slices.IndexFunc(allPeers, func(x peer) bool { return x.name == name })]
				var prefix []string
				if proxyCPU != "" {
					prefix = []string{"taskset", "-c", proxyCPU}
				}
				p, err := pe.start(l, m, prefix, ncpu)
				if err != nil {
					return err
				}
				if err := waitReady(cc, l, p, 30*time.Second); err != nil {
					tracked.stop(p)
					return err
				}
				if err := checkEquivalent(cc, l); err != nil {
					tracked.stop(p)
					return fmt.Errorf("%s (%s): %v", name, m, err)
				}
				closeIdle(cc)
				for _, sc := range o.scenarios {
					run++
					spec := loadSpec{sc: sc, port: l.http, dur: o.duration, conns: o.conns, streams: o.h2streams,
						cpus: loadCPU, logDir: l.dir, attempts: strconv.Itoa(run)}
					if sc.TLS {
						spec.port = l.tls
					}
					if sc.H2 {
						spec.conns = o.h2conns
					}
					if o.warmup >= time.Second {
						w := spec
						w.dur = o.warmup
						w.attempts += "-warmup"
						if _, out, err := runLoad(w); err != nil {
							tracked.stop(p)
							return fmt.Errorf("%s %s warm-up: %v\n%s", name, sc.Name, err, out)
						}
					}
					var profiled chan error
					profPath := o.profile
					if profPath != "" && name == "portico" && m.Pinned {
						profiled = make(chan error, 1)
						go func() { profiled <- fetchProfile(l, o.duration-time.Second, profPath) }()
						o.profile = "" // once
					}
					s, err := measure(spec, p, rep.upstream, tick)
					if profiled != nil {
						if perr := <-profiled; perr != nil {
							logf("CPU profile: %v", perr)
						} else {
							logf("CPU profile written: go tool pprof -top %s %s", porticoBin, profPath)
						}
					}
					if err != nil {
						tracked.stop(p)
						return fmt.Errorf("%s %s %s: %v", name, sc.Name, m, err)
					}
					if done, err := p.exited(); done {
						return fmt.Errorf("%s exited during %s: %v", name, sc.Name, err)
					}
					res.add(key{sc.Name, m.Pinned, name}, s)
					rep.foreign = append(rep.foreign, s.foreign)
					logf("[%d/%d] round %d %-8s %-14s %-7s %8.0f req/s  p50 %-9s p99 %-9s %6.1f µs CPU/req  errors %d  other load %.0f%%",
						run, total, r+1, name, m, sc.Name, s.RPS, fmtDur(s.P50), fmtDur(s.P99), s.CPUPerReq, s.Errors, s.foreign)
				}
				tracked.stop(p)
			}
		}
	}
	return nil
}

func closeIdle(c *checkClients) {
	for _, cl := range []*http.Client{c.h1, c.h1tls, c.h2tls} {
		cl.CloseIdleConnections()
	}
}

// rotate returns xs rotated left by r.
func rotate(xs []string, r int) []string {
	if len(xs) == 0 {
		return nil
	}
	r %= len(xs)
	return append(slices.Clone(xs[r:]), xs[:r]...)
}

// measure runs spec once and computes the proxy's CPU per request, and how
// much of the machine something other than the proxy, the upstream and the
// load generator used meanwhile (a noise indicator, in % of all cores).
func measure(spec loadSpec, p, up *proc, tick float64) (sample, error) {
	p0, u0, s0 := cpuTicks(p.pid()), cpuTicks(up.pid()), readCPUStat()
	lr, out, err := runLoad(spec)
	p1, u1, s1 := cpuTicks(p.pid()), cpuTicks(up.pid()), readCPUStat()
	if err != nil {
		return sample{}, fmt.Errorf("%v\n%s", err, out)
	}
	if lr.Requests == 0 {
		return sample{}, fmt.Errorf("no request completed\n%s", out)
	}
	s := sample{loadResult: lr}
	s.CPUPerReq = float64(p1-p0) / tick * 1e6 / float64(lr.Requests)
	busy, all := s1.busy-s0.busy, s1.total-s0.total
	ours := float64(p1-p0) + float64(u1-u0) + lr.LoadCPU.Seconds()*tick
	if all > 0 {
		s.foreign = max(0, (float64(busy)-ours)/float64(all)*100)
	}
	return s, nil
}

// cpuStat is the first line of /proc/stat, in clock ticks over all CPUs.
type cpuStat struct{ busy, total uint64 }

func readCPUStat() cpuStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseCPUStat(line)
}

// parseCPUStat reads "cpu user nice system idle iowait irq softirq steal
// ..."; idle and iowait are the only idle columns (guest time is already
// in user).
func parseCPUStat(line string) cpuStat {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuStat{}
	}
	var s cpuStat
	for i, v := range f[1:9] {
		n, _ := strconv.ParseUint(v, 10, 64)
		s.total += n
		if i != 3 && i != 4 {
			s.busy += n
		}
	}
	return s
}

// waitUpstream waits until both upstream ports answer their body.
func waitUpstream(l *layout, up *proc) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	for i, port := range l.up {
		ok := false
		for range 100 {
			if done, err := up.exited(); done {
				return fmt.Errorf("upstream nginx exited: %v (see %s/upstream.log)", err, l.dir)
			}
			resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
			if err == nil {
				b := make([]byte, 200)
				n, _ := resp.Body.Read(b)
				resp.Body.Close()
				if string(b[:n]) == upstreamBody(i) {
					ok = true
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !ok {
			return fmt.Errorf("upstream nginx on port %d did not answer within 10s", port)
		}
	}
	return nil
}

// fetchProfile saves a CPU profile of Portico (admin /debug/pprof/profile)
// taken over d.
func fetchProfile(l *layout, d time.Duration, path string) error {
	secs := max(1, int(d/time.Second))
	c := &http.Client{Timeout: d + 30*time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", l.admin, secs))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d (is portico run --pprof supported?)", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
