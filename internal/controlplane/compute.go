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

// Status projects the status of every object of ours given what the data
// plane answered and the status the objects have now.
func (r Result) Status(dp status.DataPlane, prev []status.Object, now time.Time) []status.Object {
	return status.Project(r.Graph, dp, prev, now)
}
