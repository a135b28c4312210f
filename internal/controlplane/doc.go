// Package controlplane is the pure middle of the pipeline, shared by the run
// loop, `portico translate`, `portico status` and the golden tests:
// Compute(snapshot) binds and validates (internal/graph) and lowers
// (internal/translate); Result.Status projects status (internal/status) once
// the data plane has answered.
package controlplane
