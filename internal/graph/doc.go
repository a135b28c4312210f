// Package graph binds and validates: it turns a resource.Snapshot into a
// Graph in which every GatewayClass, Gateway, ListenerSet, listener and
// route of ours carries what it resolved to and the conditions that say
// why.
//
// Route binding (route.go) is one code for every route kind. A route is a
// Route: its RouteCore (kind, metadata, parentRefs, hostnames, per-parent
// results, ResolvedRefs), which binding alone reads and writes, and the
// kind's own part behind three methods (resolveRules, rulesAccepted,
// PartiallyInvalid). For every kind alike: parentRefs to Gateways and
// ListenerSets, sectionName and port, allowedRoutes.kinds (the route's own
// kind must be among the listener's SupportedKinds) and namespaces,
// hostname intersection (package hostname; a kind without hostnames, such
// as TCPRoute, has nil Hostnames and so takes the listener's), the
// ReferenceGrant "from" of a backendRef (the route's own kind: a grant
// from HTTPRoute does not open a Service to a GRPCRoute), Listener.Routes
// (attachedRoutes counts every kind) and each parent's Accepted condition,
// checked in this order: parent missing or not accepted, no listener with
// that sectionName/port (NoMatchingParent), none admitting the kind and
// namespace (NotAllowedByListeners), no hostname intersection
// (NoMatchingListenerHostname), no rule that can be served (the kind's
// rulesAccepted). Adding a kind is a file with its type (embedding
// *RouteCore, implementing Route) and one entry in routeKinds (its kind,
// the listener protocols that take it, and how to list its objects
// oldest first), plus its entry in status.routeStatusKinds and its
// lowering in translate. Routes are bound kind by kind in routeKinds order,
// each kind oldest first: that is the order of Graph.Routes and
// Listener.Routes. All route kinds are of group gateway.networking.k8s.io.
//
// Listener distinctness (distinct.go) is one rule, Gateway API v1.7's,
// applied within a Gateway or ListenerSet (markConflicts: nobody wins),
// across a Gateway and its ListenerSets (mergeListeners: the earlier wins)
// and across Gateways sharing a socket in standalone mode
// (resolvePortSharing: the older Gateway wins, the later listener is
// PortUnavailable):
//
//   - Listeners on another port number, or on the same number over another
//     network (UDP against HTTP, HTTPS, TLS or TCP), are distinct.
//   - On one port, HTTP listeners are told apart by hostname, and so are
//     HTTPS and TLS listeners together, whatever the TLS mode (one TLS
//     socket whose ClientHello SNI picks the listener: the spec's
//     TLSRouteModeMixed). The same canonical hostname (package hostname;
//     both empty included) is HostnameConflict. The tls field never makes
//     two listeners distinct (the spec says so).
//   - HTTP with HTTPS or TLS on one port is ProtocolConflict: the spec
//     would call them distinct, but Portico does not tell cleartext from TLS
//     on one socket, so they are not compatible (as before v1.7 support).
//   - TCP shares its port with nothing on TCP, and UDP with nothing on UDP
//     (two TCP or two UDP listeners included): ProtocolConflict.
//   - A protocol conflict is reported before a hostname conflict. Listeners
//     that are not accepted (UnsupportedProtocol, say) take part only as
//     the later side of a ListenerSet check, so a conflict is what the user
//     fixes first.
//
// ListenerSets (listenerset.go), where the Gateway API leaves room:
//
//   - A Gateway without spec.allowedListeners allows none (the CRD default,
//     From: None). A ListenerSet it does not allow, or whose Gateway is not
//     accepted, is not attached: Accepted=False (NotAllowed,
//     ParentNotAccepted), Programmed=False with the same reason, and no
//     listener entries (none of its listeners is part of the Gateway).
//   - Precedence: the Gateway's own listeners, then ListenerSets by
//     creation time, then "namespace/name". Across resources the first of
//     two indistinct listeners wins and the later one gets Accepted=False,
//     Conflicted=True and Programmed=False, all with reason
//     HostnameConflict or ProtocolConflict (see Listener distinctness; a
//     conflict is reported even for a protocol Portico cannot serve).
//     Within one resource no listener
//     wins, as the Gateway spec requires. A ListenerSet never changes its
//     Gateway's listeners or conditions, and a conflict message names the
//     parent Gateway's listener but never another ListenerSet.
//   - A ListenerSet is accepted when at least one of its listeners can be
//     served (valid, and for HTTPS with a usable certificate);
//     Accepted=True with reason ListenersNotValid when only some can, and
//     Accepted=False/ListenersNotValid when none can. The listeners of a
//     ListenerSet that is not accepted claim nothing.
//   - allowedRoutes "Same" and certificateRefs without a namespace mean the
//     ListenerSet's namespace; a certificateRef to another namespace needs a
//     ReferenceGrant from ListenerSet (one from Gateway does not count).
//   - A route's parentRef reaches only the listeners of the resource it
//     names: a Gateway parentRef, with or without sectionName, never a
//     ListenerSet's listener (GEP-1713).
//
// Client certificate validation (frontendtls.go), where the Gateway API
// leaves room:
//
//   - spec.tls.frontend applies to every HTTPS listener on the port, those
//     of attached ListenerSets included; its references are the Gateway's
//     (a ReferenceGrant from Gateway to ConfigMap). A perPort entry replaces
//     the default as a whole: one without validation turns it off.
//   - Several caCertificateRefs are all trusted; a bad one makes
//     ResolvedRefs False (the listener's own certificates are reported
//     first) and the others are used. ConfigMaps give ca.crt (data or
//     binaryData), ClusterTrustBundles spec.trustBundle; only PEM
//     CERTIFICATE blocks count and each must parse.
//   - InsecureFrontendValidationMode=True is set while any default or
//     perPort validation says AllowInsecureFallback, whether or not a
//     listener uses that port.
//
// Listener filters (listenerfilters.go): ExternalAuth with protocol HTTP is
// served; ExtensionRef and protocol GRPC make the listener Accepted=False
// (UnsupportedValue) rather than serve it without the filter. An
// authorization backend that does not resolve makes ResolvedRefs False
// (InvalidListenerFilterRef, or RefNotPermitted without a ReferenceGrant
// from the Gateway or ListenerSet) and the listener refuses every request
// (500) rather than skip the check.
//
// Policy attachment (policy.go, policymerge.go), GEP-713, shared by every
// policy kind:
//
//   - A policy is an AttachedPolicy: its kind, metadata, spec.targetRefs
//     (group, kind, name, optional sectionName; local, so in the policy's
//     namespace) and, set by the kind, its own Problem (Accepted=False).
//     A kind lists the target kinds it takes; a targetRef of another kind
//     is Unsupported: it selects nothing and is not reported (the CRD of a
//     kind normally forbids such refs).
//   - Targets resolve against the graph: a Gateway of ours (sectionName: a
//     listener), a ListenerSet attached to one (sectionName: one of its
//     listeners), a route of any registered kind of ours (sectionName: a
//     named rule, for kinds with rule names), a Service (sectionName: a
//     port name). An object or section that does not exist is
//     TargetNotFound, reported once the policy has an ancestor to report it
//     on.
//   - Conflicts: of the policies of one kind holding the same target and
//     sectionName, the oldest wins, then "namespace/name", on age alone
//     (an invalid older policy is not skipped: the owner fixes or removes
//     it); the others are Conflicted there. A Gateway and one of its
//     listeners are different targets, and so are a route and its rule:
//     such policies stack through inheritance rather than conflict. The
//     same targetRef twice in one policy is no conflict.
//   - Ancestors are the Gateways the policy applies through, sorted by
//     namespace and name; what counts as "applies through" is the kind's
//     (BackendTLSPolicy: Gateways of routes that use a targeted Service
//     port). Accepted per ancestor is the first problem found there, per
//     target in this order: Conflicted, the policy's own Problem,
//     TargetNotFound; else True/Accepted. Status writes at most
//     MaxPolicyAncestors (16, the CRD's limit) entries, other controllers'
//     included and kept.
//   - Inheritance, defaults and overrides (policymerge.go): the hierarchy
//     is Gateway > ListenerSet > listener > route > rule; a policy on a
//     level is inherited by every level below (PolicyChain.AppliedAt gives
//     the policy holding each level). EffectivePolicy merges per field:
//     overrides from the top down (the highest wins), then defaults from
//     the bottom up (the most specific wins); any override beats any
//     default. Service policies (BackendTLSPolicy) are direct only and no
//     kind uses overrides yet.
//   - A new policy kind is: its type embedding *AttachedPolicy in a file of
//     its own (validation and what it does to its targets), a bind call in
//     Build after the routes, its snapshot slot, and its projector in
//     package status (one line passing its extra conditions to
//     projector.policy).
//
// Backend TLS (backendtls.go), where the Gateway API leaves room:
//
//   - A BackendTLSPolicy takes Service targets only. Of those selecting
//     the same Service and sectionName, the oldest wins (the attachment
//     rule above). A backendRef uses the policy of its port's name, else
//     the one of the whole Service.
//   - A policy's ancestors are the Gateways of ours to which a route using
//     a targeted Service port is attached (backendRefs and mirrors). Per
//     ancestor, Accepted reports a conflict first, then the policy's own
//     problem, then a sectionName naming no port (TargetNotFound).
//   - CA bundles come from ConfigMaps (ca.crt in data or binaryData),
//     Secrets (ca.crt) and ClusterTrustBundles, read by package
//     certs/certref (as are frontend CA bundles and kubernetes.io/tls
//     Secrets; its typed failures map to the reasons here); the valid ones
//     of several refs are trusted together (ResolvedRefs False names the
//     others);
//     none valid is NoValidCACertificate. Any spec.options key makes the
//     policy Invalid rather than ignored. A backend whose policy is not
//     accepted (other than Conflicted) answers 500, never cleartext.
//   - A port with appProtocol https (any case) or kubernetes.io/wss needs a
//     policy: without one the route's ResolvedRefs is False
//     (UnsupportedProtocol) and the backend answers 500. kubernetes.io/h2c
//     under a policy is HTTP/2 over TLS.
//   - The Gateway ResolvedRefs condition is set only on Gateways with
//     spec.tls.backend; an unusable clientCertificateRef leaves TLS
//     backends dialled without a client certificate.
//
// Build is a pure function of the Snapshot. It never mutates its input and
// never drops a resource silently: an object it cannot use gets a condition
// naming the field and the fix, and every other object is unaffected.
//
// Input: *resource.Snapshot. Output: *Graph, read by internal/translate
// (to lower to IR) and internal/status (to project status).
//
// Certificate validity (certexpiry.go): an expired or not-yet-valid listener
// certificate is still served and ResolvedRefs stays True: the spec's
// InvalidCertificateRef is for a reference that is missing, unsupported or
// malformed, and an expired certificate is none of these (serving it keeps
// clients that skip verification working, and the fix is the owner's). The
// ResolvedRefs message says it ("...; but spec.listeners[x].tls.
// certificateRefs[0]: Secret ns/name: the certificate expired at ..."), a
// warning names it, and Graph.NextCertificateCheck tells the caller when to
// build again (the next notBefore or notAfter of a served certificate).
// Options.Now is the time checked against (time.Now when zero).
//
// Warnings (Graph.Warnings) begin "Kind namespace/name: field", so that the
// file provider can locate the field's line. A route (of any kind) with no
// parentRefs has no status to carry a problem (a route's status is per
// parent): it is a warning. A Gateway whose class is not ours is told why: the class belongs
// to another controller, or does not exist (the implicit class "portico"
// exists only while the input defines no class of ours).
package graph
