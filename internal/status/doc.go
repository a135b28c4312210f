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
// The ack answers per socket ("address:port"), and a listener's Programmed
// follows the sockets of its Gateway's addresses: InvalidListeners (the
// proxy could not build it) gives False/Invalid with the proxy's error and
// the listener to fix; ListenerErrors (the socket could not be opened, the
// proxy retries in the background) and NotAccepting (accepts failing, e.g.
// out of file descriptors) give False/Pending with the cause. Everything
// else the proxy applied, so other listeners and Gateways stay Programmed.
//
// Routes of every kind are projected by one function (route.go): one
// parent entry of ours per parentRef the graph answers for (Accepted,
// ResolvedRefs, PartiallyInvalid while attached), other controllers'
// entries kept first. A route kind adds only how its status object wraps
// gwv1.RouteStatus (routeStatusKinds); a listener's attachedRoutes counts
// the routes of every kind attached to it.
//
// Policies of every kind are projected by one function (policy.go) into a
// GEP-713 PolicyStatus: one ancestor entry of ours per Gateway the graph
// says the policy applies through (graph.AttachedPolicy.Ancestors), with
// Accepted and the kind's own conditions; other controllers' entries keep
// their place and content, ours no longer in the graph go, new ones are
// appended while the list holds fewer than graph.MaxPolicyAncestors (16,
// the CRD's limit). A policy with no ancestor of ours and no entry of ours
// has nothing to write. A policy kind adds a one-line projector passing its
// extra conditions (BackendTLSPolicy: ResolvedRefs) and its rank in
// sortObjects.
//
// Input: *graph.Graph, *ir.Ack (nil before the first apply) and the previous
// projection. Output: []Object, sorted by kind, namespace and name.
package status
