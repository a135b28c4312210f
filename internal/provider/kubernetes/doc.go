// Package kubernetes is the Kubernetes provider: it watches an API server
// into a resource.Snapshot and writes status as the leader. What to do with
// the Snapshot (compute, publish to the proxies, provision, project status)
// is the controller's (internal/controller), which imports this package.
//
//   - Watch (provider.go, watch.go): a controller-runtime manager whose
//     informers (no polling) cover GatewayClass, Gateway, ListenerSet,
//     HTTPRoute, ReferenceGrant, Namespace, Service, EndpointSlice, Secret,
//     BackendTLSPolicy, ConfigMap (only their ca.crt key is kept in memory),
//     the Deployments Portico owns (by label) and ClusterTrustBundle when
//     the API server serves it (v1, else v1beta1). Every event calls
//     Options.OnChange, which only signals: the objects are read when the
//     controller reconciles. The manager also holds the leader election
//     (Leading, Elected), the metrics and health servers, and the
//     controller's runnables (Add), which run on every replica.
//   - Read (snapshot.go, trustbundle.go): Store.Read lists every kind from
//     the cache into a State: the Snapshot (Standalone=false, the CRD
//     defaults applied to objects stored by older CRD versions) and the
//     proxy Deployments, which are not an input of the control plane.
//   - Write status (status.go): Store.WriteStatus writes each object's
//     status through the status subresource only when it differs from the
//     live one, with optimistic concurrency: on a conflict it re-reads the
//     object; if its generation moved it gives up (the event brings a new
//     reconcile), otherwise it asks the caller to project again from the
//     fresh status and retries, at most 4 times per object.
//
// Decisions where the spec is silent:
//
//   - The ListenerSet CRD is required, like the other Gateway API v1.7
//     standard-channel kinds Portico reads.
//   - Without a ClusterTrustBundle API, caCertificateRefs to a
//     ClusterTrustBundle do not resolve (InvalidCACertificateRef).
//
// Input: a *rest.Config and Options. Output: State per Read, status in the
// API server.
package kubernetes
