// Package controller is `portico controller`: the control-plane pipeline
// run against a real API server, keeping the cluster in line with it. The
// Kubernetes provider (internal/provider/kubernetes) reads the cluster and
// writes status; this package decides what to do with what it reads.
//
// The stages, in the order a reconcile runs them:
//
//  1. collect: the provider's informers (no polling) on GatewayClass,
//     Gateway, ListenerSet, HTTPRoute, ReferenceGrant, Namespace, Service,
//     EndpointSlice, Secret and the Deployments Portico owns. Any event only
//     posts to the run loop (internal/runloop); after the debounce window
//     (DefaultDebounce, 100 ms from the first event of a burst: a steady
//     stream of events still reconciles every 100 ms) one reconcile reads
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
//  6. write status (leader only): the provider's Store.WriteStatus, per
//     object, only when it differs from the live status, with optimistic
//     concurrency (on a conflict: re-read, re-project, retry).
//
// Acks from the proxies (configsync Changes), becoming the leader and
// changes of any watched object, including the load balancer status of our
// Services, post to the same mailbox; a failed reconcile is retried after
// 250 ms, doubling up to 30 s.
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
//   - GatewayClass status.supportedFeatures is internal/features' list,
//     sorted, on every GatewayClass of ours.
//   - Any --proxy-image is accepted: the image is only required to have
//     the portico binary on its PATH, whatever it is called.
//
// Files: controller.go (New, Run, the loop), reconcile.go (one reconcile),
// provision.go (what to apply or delete: a pure plan, then the writes),
// dataplane.go (the proxies' acks and the Services' addresses as the
// status projection sees them), status.go (what is added to the
// projection).
//
// Input: a *rest.Config and Options. Output: status in the API server,
// Deployments and Services, and ir.Config per Gateway on the config stream.
package controller
