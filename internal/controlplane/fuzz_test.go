package controlplane

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
	"portico.dev/portico/internal/status"
)

// FuzzCompute: a Snapshot decoded from any YAML goes through Compute and
// the status projection, in standalone and cluster modes, without a panic.
// Seeded with the golden inputs.
func FuzzCompute(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*/*.in.yaml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, true)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, standalone bool) {
		if len(data) > 1<<20 {
			return
		}
		snap, _ := file.Parse("case.yaml", data)
		snap.Standalone = standalone
		res := Compute(snap, graph.Options{BindAddress: "127.0.0.1", SharedSockets: standalone, Now: time.Unix(1e9, 0)})
		_ = res.Status(status.Standalone{Answer: &ir.Ack{}}, nil, time.Unix(0, 0))
		_ = res.Config.Redacted()
	})
}
