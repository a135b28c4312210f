// Package graph binds and validates: it turns a resource.Snapshot into a
// Graph in which every GatewayClass, Gateway, listener and HTTPRoute of ours
// carries what it resolved to and the conditions that say why.
//
// Build is a pure function of the Snapshot. It never mutates its input and
// never drops a resource silently: an object it cannot use gets a condition
// naming the field and the fix, and every other object is unaffected.
//
// Input: *resource.Snapshot. Output: *Graph, read by internal/translate
// (to lower to IR) and internal/status (to project status).
package graph
