package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// mode is how the proxy runs: pinned to one core with one worker, or free
// on every core.
type mode struct {
	Pinned bool
}

func (m mode) String() string {
	if m.Pinned {
		return "pinned 1 core"
	}
	return "unpinned"
}

// key names one cell of the results.
type key struct {
	Scenario string // scenario.Name
	Pinned   bool
	Proxy    string
}

// sample is one measured run.
type sample struct {
	loadResult
	CPUPerReq float64 // µs of proxy CPU per request
	foreign   float64 // % of all cores used by other processes meanwhile
}

// results collects the samples of every round.
type results struct {
	samples map[key][]sample
}

func newResults() *results { return &results{samples: map[key][]sample{}} }

func (r *results) add(k key, s sample) { r.samples[k] = append(r.samples[k], s) }

// summary is the median over rounds of each metric of one cell.
type summary struct {
	N         int
	RPS       float64
	P50, P99  time.Duration
	CPUPerReq float64
	CPUMin    float64 // the rounds' spread of CPU per request: with
	CPUMax    float64 // a noisy machine, a ratio inside it is parity
	Errors    int64   // total over rounds
}

func (r *results) summary(k key) (summary, bool) {
	ss := r.samples[k]
	if len(ss) == 0 {
		return summary{}, false
	}
	s := summary{N: len(ss)}
	var rps, p50, p99, cpu []float64
	for _, x := range ss {
		rps = append(rps, x.RPS)
		p50 = append(p50, float64(x.P50))
		p99 = append(p99, float64(x.P99))
		cpu = append(cpu, x.CPUPerReq)
		s.Errors += x.Errors
	}
	s.RPS, s.CPUPerReq = median(rps), median(cpu)
	s.CPUMin, s.CPUMax = slices.Min(cpu), slices.Max(cpu)
	s.P50, s.P99 = time.Duration(median(p50)), time.Duration(median(p99))
	return s, true
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}

// table is the Markdown table of medians, one row per scenario, mode and
// proxy, in the order given.
func (r *results) table(modes []mode, scs []scenario, proxies []string) string {
	var b strings.Builder
	b.WriteString("| Scenario | Mode | Proxy | req/s | p50 | p99 | CPU µs/req | (rounds) | errors |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, sc := range scs {
		for _, m := range modes {
			for _, p := range proxies {
				s, ok := r.summary(key{sc.Name, m.Pinned, p})
				if !ok {
					continue
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %s | %.1f | %.1f-%.1f | %d |\n",
					sc.Label, m, p, s.RPS, fmtDur(s.P50), fmtDur(s.P99), s.CPUPerReq, s.CPUMin, s.CPUMax, s.Errors)
			}
		}
	}
	return b.String()
}

// ratios is the Markdown table of Portico / peer: throughput (above 1 is
// faster than the peer) and CPU per request (above 1 costs more).
func (r *results) ratios(modes []mode, scs []scenario, proxies []string) string {
	var peers []string
	for _, p := range proxies {
		if p != "portico" {
			peers = append(peers, p)
		}
	}
	var b strings.Builder
	b.WriteString("| Scenario | Mode |")
	for _, p := range peers {
		fmt.Fprintf(&b, " req/s vs %s | CPU/req vs %s |", p, p)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---:|---:|", len(peers)) + "\n")
	for _, sc := range scs {
		for _, m := range modes {
			me, ok := r.summary(key{sc.Name, m.Pinned, "portico"})
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s |", sc.Label, m)
			for _, p := range peers {
				o, ok := r.summary(key{sc.Name, m.Pinned, p})
				fmt.Fprintf(&b, " %s | %s |", ratio(me.RPS, o.RPS, ok), ratio(me.CPUPerReq, o.CPUPerReq, ok))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func ratio(a, b float64, ok bool) string {
	if !ok || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}
