// Package status projects the status of every object Portico answers for,
// from the bound graph and the data plane's acknowledgement, exactly as the
// API server would store it: conditions per parent with observedGeneration,
// lastTransitionTime kept while a condition's status does not change, and
// Programmed only once the proxy has applied the configuration.
//
// Input: *graph.Graph, *ir.Ack (nil before the first apply) and the previous
// projection. Output: []Object, sorted by kind, namespace and name.
package status
