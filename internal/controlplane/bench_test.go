package controlplane

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
	"portico.dev/portico/internal/resource"
	"portico.dev/portico/internal/status"
)

// scaleDir writes n HTTPRoutes (host-i.bench.local, PathPrefix /svc-i,
// 100 per file) on one Gateway with two Services into a temp dir.
func scaleDir(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	base := `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: scale
spec:
  gatewayClassName: portico
  listeners:
  - name: http
    protocol: HTTP
    port: 8080
`
	for i, port := range []int{3001, 3002} {
		base += fmt.Sprintf(`---
apiVersion: v1
kind: Service
metadata:
  name: svc-%[1]d
spec:
  ports:
  - name: http
    port: 80
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: svc-%[1]d
  labels:
    kubernetes.io/service-name: svc-%[1]d
addressType: IPv4
ports:
- name: http
  port: %[2]d
endpoints:
- addresses: ["127.0.0.1"]
`, i, port)
	}
	writeFile(b, filepath.Join(dir, "gateway.yaml"), base)
	for f := 0; f*100 < n; f++ {
		var docs []string
		for i := f * 100; i < min(n, (f+1)*100); i++ {
			docs = append(docs, fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-%[1]d
spec:
  parentRefs:
  - name: scale
  hostnames: ["host-%[1]d.bench.local"]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /svc-%[1]d}
    backendRefs:
    - name: svc-%[2]d
      port: 80
`, i, i%2))
		}
		writeFile(b, filepath.Join(dir, fmt.Sprintf("routes-%04d.yaml", f)), strings.Join(docs, "---\n"))
	}
	return dir
}

// scaleSnapshot loads scaleDir through the file loader as `portico run`
// would, so the CRD defaults are applied.
func scaleSnapshot(b *testing.B, n int) *resource.Snapshot {
	b.Helper()
	snap, diags, err := file.NewLoader(scaleDir(b, n)).Load()
	if err != nil {
		b.Fatal(err)
	}
	if len(diags) > 0 {
		b.Fatalf("diagnostics: %v", diags)
	}
	snap.Standalone = true
	return snap
}

func writeFile(b *testing.B, path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

var scaleOpts = graph.Options{BindAddress: "127.0.0.1", SharedSockets: true}

// BenchmarkCompute is the translation of every reload: bind, validate and
// lower n routes. "live-MiB" is the heap the Result keeps (graph and IR).
func BenchmarkCompute(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		snap := scaleSnapshot(b, n)
		res := Compute(snap, scaleOpts)
		if got := countRoutes(&res.Config); got != n {
			b.Fatalf("%d routes in the IR, want %d", got, n)
		}
		b.Run(fmt.Sprintf("%droutes", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compute(snap, scaleOpts)
			}
			b.ReportMetric(liveMiB(func() any { return Compute(snap, scaleOpts) }), "live-MiB")
		})
	}
}

// BenchmarkStatus is the status projection that follows every apply.
func BenchmarkStatus(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		res := Compute(scaleSnapshot(b, n), scaleOpts)
		dp := status.Standalone{Answer: &ir.Ack{}}
		now := time.Unix(0, 0)
		b.Run(fmt.Sprintf("%droutes", n), func(b *testing.B) {
			b.ReportAllocs()
			prev := res.Status(dp, nil, now)
			for b.Loop() {
				res.Status(dp, prev, now)
			}
		})
	}
}

// BenchmarkLoad is reading the directory again when nothing changed, as
// every reload does before Compute: each file is read and hashed, none is
// parsed again.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		l := file.NewLoader(scaleDir(b, n))
		if _, _, err := l.Load(); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%droutes/unchanged", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := l.Load(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func countRoutes(c *ir.Config) int {
	n := 0
	for _, l := range c.Listeners {
		for _, vh := range l.VirtualHosts {
			n += len(vh.Routes)
		}
	}
	return n
}

// liveMiB is the heap still held after GC by what f returns.
func liveMiB(f func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
}
