// Package kubernetes is the Kubernetes provider: `portico controller`. It
// runs the control-plane pipeline against a real API server and keeps the
// cluster in line with it.
//
// The stages, in the order Provider.Run starts them:
//
//  1. collect: controller-runtime informers (no polling) on GatewayClass,
//     Gateway, ListenerSet, HTTPRoute, ReferenceGrant, Namespace, Service,
//     EndpointSlice, Secret and the Deployments Portico owns. Any event only
//     pokes a coalescing mailbox; after a short debounce one reconcile lists
//     everything from the cache into a resource.Snapshot (Standalone=false).
//  2. compute: controlplane.Compute with graph.Options{ProvisionedAddresses:
//     true} (every proxy binds its Pod IP; the Service provides addresses).
//  3. deliver: translate.ForGateway of each accepted Gateway of ours is
//     published to the config stream (internal/configsync); Gateways gone or
//     no longer accepted are removed from it. Every replica does this, so a
//     proxy is served whichever replica it reaches.
//  4. provision (leader only): a Deployment and a Service per accepted
//     Gateway (the Service also opening the ports of its ListenerSets'
//     listeners), as internal/infra decides, applied with server-side apply
//     (field manager "portico") only when they differ.
//  5. project status (leader only): status.Project with the live status as
//     prev (so other controllers' conditions and route parents are kept),
//     the proxies' acks (Programmed) and the Service's load balancer
//     addresses (status.addresses, AddressNotAssigned, AddressNotUsable).
//  6. write status (leader only): per object, through the status
//     subresource, only when it differs from the live status, with
//     optimistic concurrency (on a conflict: re-read, re-project, retry).
//
// Acks from the proxies (configsync Changes) and changes of any watched
// object, including the load balancer status of our Services, poke the same
// mailbox; a failed reconcile is retried with capped exponential backoff.
//
// Decisions where the spec is silent:
//
//   - Infrastructure of a Gateway that stops being accepted is kept as it
//     is (neither updated nor deleted) so a transient mistake does not cost
//     the Gateway its load balancer address; it is deleted with the Gateway
//     (owner references) or when the Gateway moves to another controller's
//     class.
//   - HTTPRoutes that no longer reference any Gateway of ours lose the route
//     parent entries Portico wrote; other controllers' entries stay.
//   - A ListenerSet whose parentRef stops naming a Gateway of ours keeps
//     the conditions Portico last wrote: ListenerSet conditions are not per
//     controller, and the new parent's controller overwrites them.
//   - The ListenerSet CRD is required, like the other Gateway API v1.7
//     standard-channel kinds Portico reads.
//   - GatewayClass status.supportedFeatures is internal/features' list,
//     sorted, on every GatewayClass of ours.
//
// Input: a *rest.Config and Options. Output: status in the API server,
// Deployments and Services, and ir.Config per Gateway on the config stream.
package kubernetes
