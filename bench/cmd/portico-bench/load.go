package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// loadResult is what one load-generator run measured.
type loadResult struct {
	Requests int64         // completed requests
	Errors   int64         // socket errors, non-2xx/3xx, failed streams
	Elapsed  time.Duration // as the load generator measured it
	RPS      float64
	P50, P99 time.Duration
	LoadCPU  time.Duration // CPU the load generator used
}

// scenario is one kind of traffic.
type scenario struct {
	Name  string // "h1", "h1-tls", "h2-tls"
	Label string
	TLS   bool
	H2    bool
}

var scenarios = []scenario{
	{Name: "h1", Label: "HTTP/1.1 keep-alive"},
	{Name: "h1-tls", Label: "HTTP/1.1 over TLS", TLS: true},
	{Name: "h2-tls", Label: "HTTP/2 over TLS", TLS: true, H2: true},
}

// loadSpec is one load generator invocation.
type loadSpec struct {
	sc       scenario
	port     int
	dur      time.Duration
	conns    int // wrk connections; h2load: connections
	streams  int // h2load: concurrent streams per connection
	cpus     string
	logDir   string
	attempts string // file-name tag
}

func (s loadSpec) url() string {
	scheme := "http"
	if s.sc.TLS {
		scheme = "https"
	}
	return fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, s.port, benchPath)
}

// argv is the load generator's command line, pinned with taskset when cpus
// is set.
func (s loadSpec) argv(h2log string) []string {
	secs := strconv.Itoa(max(1, int(s.dur.Round(time.Second)/time.Second)))
	var a []string
	if s.sc.H2 {
		a = []string{"h2load", "-c", strconv.Itoa(s.conns), "-m", strconv.Itoa(s.streams), "-t", "1",
			"-D", secs, "-H", ":authority: " + benchHost, "--log-file", h2log, s.url()}
	} else {
		a = []string{"wrk", "-c", strconv.Itoa(s.conns), "-t", "1", "-d", secs + "s", "--latency",
			"-H", "Host: " + benchHost, s.url()}
	}
	if s.cpus != "" {
		a = append([]string{"taskset", "-c", s.cpus}, a...)
	}
	return a
}

// runLoad runs the load generator (bounded by its duration plus a margin)
// and parses its report.
func runLoad(s loadSpec) (loadResult, string, error) {
	h2log := filepath.Join(s.logDir, "h2load-"+s.attempts+".log")
	argv := s.argv(h2log)
	ctx, cancel := context.WithTimeout(context.Background(), s.dur+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(s.logDir, "load-"+s.attempts+".txt"), out, 0o644)
	var used time.Duration
	if cmd.ProcessState != nil {
		used = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return loadResult{}, string(out), fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
	}
	if s.sc.H2 {
		defer os.Remove(h2log)
		r, err := parseH2load(string(out))
		if err != nil {
			return r, string(out), err
		}
		f, err := os.Open(h2log)
		if err != nil {
			return r, string(out), err
		}
		defer f.Close()
		r.P50, r.P99, err = h2loadPercentiles(f)
		r.LoadCPU = used
		return r, string(out), err
	}
	r, err := parseWrk(string(out))
	r.LoadCPU = used
	return r, string(out), err
}

var (
	wrkRequests = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),`)
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$`)
	wrkSockErr  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

func unit(v float64, u string) time.Duration {
	switch u {
	case "us":
		return time.Duration(v * float64(time.Microsecond))
	case "ms":
		return time.Duration(v * float64(time.Millisecond))
	case "s":
		return time.Duration(v * float64(time.Second))
	case "m":
		return time.Duration(v * float64(time.Minute))
	}
	return 0
}

// parseWrk reads wrk's report (run with --latency).
func parseWrk(out string) (loadResult, error) {
	var r loadResult
	m := wrkRequests.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk: no request count in its output")
	}
	r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	v, _ := strconv.ParseFloat(m[2], 64)
	r.Elapsed = unit(v, m[3])
	if m := wrkRPS.FindStringSubmatch(out); m != nil {
		r.RPS, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "50" {
			r.P50 = unit(v, m[3])
		} else {
			r.P99 = unit(v, m[3])
		}
	}
	if r.P50 == 0 || r.P99 == 0 {
		return r, fmt.Errorf("wrk: no latency distribution (run with --latency)")
	}
	if m := wrkSockErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.Errors += n
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		r.Errors += n
	}
	return r, nil
}

var (
	h2Finished = regexp.MustCompile(`finished in ([\d.]+)(us|ms|s|m), ([\d.]+) req/s`)
	h2Requests = regexp.MustCompile(`requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2Status   = regexp.MustCompile(`status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
)

// parseH2load reads h2load's report. The latency percentiles come from its
// --log-file (h2loadPercentiles).
func parseH2load(out string) (loadResult, error) {
	var r loadResult
	m := h2Finished.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("h2load: no 'finished in' line in its output")
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	r.Elapsed = unit(v, m[2])
	r.RPS, _ = strconv.ParseFloat(m[3], 64)
	m = h2Requests.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("h2load: no 'requests:' line in its output")
	}
	done, _ := strconv.ParseInt(m[3], 10, 64)
	r.Requests = done
	for _, s := range m[5:8] {
		n, _ := strconv.ParseInt(s, 10, 64)
		r.Errors += n
	}
	if m := h2Status.FindStringSubmatch(out); m != nil {
		for _, s := range m[3:5] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.Errors += n
		}
	}
	return r, nil
}

// h2loadPercentiles reads h2load's --log-file (tab-separated: start time
// in µs since the epoch, status, µs to the end of the response) and returns
// the 50th and 99th percentile of the last column.
func h2loadPercentiles(f *os.File) (p50, p99 time.Duration, err error) {
	var lat []int64
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(lat) < 100_000_000 {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 3 {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(fs[2]), 10, 64)
		if err != nil {
			continue
		}
		lat = append(lat, v)
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if len(lat) == 0 {
		return 0, 0, fmt.Errorf("h2load log: no requests")
	}
	slices.Sort(lat)
	return time.Duration(percentile(lat, 50)) * time.Microsecond, time.Duration(percentile(lat, 99)) * time.Microsecond, nil
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}
