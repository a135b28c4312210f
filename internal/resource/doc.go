// Package resource holds the input of the control plane: a Snapshot of every
// object a provider collected (from files or from the API server), and the
// defaulting the API server would apply to them.
//
// A Snapshot is immutable once built; every later stage reads it and none
// writes to it.
package resource
