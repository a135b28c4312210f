package controlplane

import (
	"time"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/resource"
	"portico.dev/portico/internal/status"
	"portico.dev/portico/internal/translate"
)

// Result is what the control plane computed from one Snapshot.
type Result struct {
	Graph  *graph.Graph
	Config ir.Config
}

// Compute binds, validates and lowers a Snapshot.
func Compute(s *resource.Snapshot, opts graph.Options) Result {
	g := graph.Build(s, opts)
	return Result{Graph: g, Config: translate.Translate(g)}
}

// Status projects the status of every object of ours given the data plane's
// answer (nil when nothing was applied yet) and the previous projection.
func (r Result) Status(ack *ir.Ack, prev []status.Object, now time.Time) []status.Object {
	return status.Project(r.Graph, ack, prev, now)
}
