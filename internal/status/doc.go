// Package status projects the status of every object Portico answers for,
// from the bound graph and the data plane's acknowledgement, exactly as the
// API server would store it: conditions per parent with observedGeneration,
// lastTransitionTime kept while a condition's status does not change, and
// Programmed only once the proxy has applied the configuration. A
// ListenerSet's Programmed summarises only its own listeners, as its parent
// Gateway's proxies acknowledged them; a Gateway's attachedListenerSets
// counts its accepted ListenerSets and is left out for a Gateway that
// allows none and has none.
//
// Input: *graph.Graph, *ir.Ack (nil before the first apply) and the previous
// projection. Output: []Object, sorted by kind, namespace and name.
package status
