// Package crdvalidation checks standalone input as a cluster's API server
// would with the Gateway API CRDs installed: the CRDs' OpenAPI schemas and
// x-kubernetes-validations CEL rules, evaluated by the API server's own
// libraries (k8s.io/apiextensions-apiserver), so that what a cluster would
// refuse is refused here, with the same message.
//
// Input: apiVersion, kind and the JSON of one document. Output: nil, or an
// *InvalidError carrying the API server's field errors.
//
// Decisions:
//
//   - The schemas are the gateway-api module's CRD YAML
//     (config/crd/experimental of the version in go.mod), copied into crds/
//     by hack/update-crds.sh: go:embed cannot reach another module's files
//     and the module embeds none. TestCRDsMatchModule fails when the copy
//     differs from the module's, so a gateway-api upgrade cannot leave it
//     stale.
//   - The experimental channel, because Portico reads fields that only it
//     has: spec.listeners[].filters (listener ExternalAuth) and
//     spec.addresses[].routability of Gateways and ListenerSets, which the
//     standard channel's schema prunes. It is also what the conformance run
//     installs (hack/conformance.sh). Its schemas are a superset of the
//     standard ones with the same rules; the kinds read are GatewayClass,
//     Gateway, HTTPRoute, ListenerSet, ReferenceGrant and BackendTLSPolicy,
//     in every version the CRD serves (v1beta1 included).
//   - The order is the API server's for a create (customresource_handler.go
//     and registry/customresource/strategy.go): prune unknown fields
//     (reported: strict field validation), drop nulls, apply the schema's
//     defaults, drop status (status subresource), then validate metadata
//     (name a DNS subdomain, namespace a DNS label, labels and annotations),
//     the OpenAPI schema, embedded objects and list-type invariants (list
//     maps: duplicate listener names), and last the CEL rules unless an
//     earlier error blocks them, as the API server does. The defaults here
//     are the schema's; the hand-written ones of internal/resource are
//     applied later by the loader (TestDefaultedObjectsValidate checks that
//     they validate too).
//   - Each object is validated as a create: the loader keeps only objects
//     that validated, so the "old" object of an update would be valid and
//     ratcheting would change nothing.
//   - Schemas and CEL programs are built once per process, lazily per kind
//     and version (sync.OnceValues), and are immutable afterwards; the CEL
//     cost limits are the API server's (PerCallLimit per rule,
//     RuntimeCELCostBudget per object).
//   - The loader re-parses only files that changed, and Validate remembers
//     its result per document content (sha256 of apiVersion, kind and JSON;
//     two generations of at most 32,768 entries), so a reload validates only
//     the documents that changed.
//   - Namespaced objects without a namespace are validated in "default", as
//     the loader places them.
//   - Quoted string values longer than 256 bytes are shortened in messages
//     (the API server never sees them: it refuses bodies over 3 MiB).
//   - Kubernetes core kinds (Namespace, Service, Secret, EndpointSlice,
//     ConfigMap) and ClusterTrustBundle are not checked: their validation
//     lives in k8s.io/kubernetes, which is not importable as a library, and
//     rewriting it by hand is what this package avoids.
//   - Cost: about 1 ms and 280 KB of garbage per HTTPRoute seen first
//     (BenchmarkValidateRoute), half of it in CEL evaluation, where the
//     library's schema adaptor (model.Structural.Properties) copies a map of
//     property schemas on every field access. A first load of 10,000 routes
//     takes several times longer than without validation; reloads pay only
//     for changed documents. 100,000 listeners take a few seconds, as they
//     would in the API server (which would refuse the request for its size
//     first).
package crdvalidation
