// Package infra decides the Kubernetes infrastructure Portico provisions for
// each Gateway in a cluster: a Deployment of proxies (`portico proxy`, fed by
// the controller's config stream) and a Service in front of them, both in
// the Gateway's namespace and owned by it, so deleting the Gateway deletes
// them.
//
// The decision is a pure function, ForGateway(Gateway, Options) -> Objects,
// golden-tested in testdata/; the Kubernetes provider applies what it returns
// and reads the Gateway's addresses back from the Service (StatusAddresses).
//
// Decisions where the Gateway API leaves room:
//
//   - Names are "portico-<gateway>" when that is a valid DNS label of at most
//     63 characters; otherwise (long names, names with dots) a readable prefix
//     and a hash of the Gateway name, still within 63 characters. The
//     gateway.networking.k8s.io/gateway-name label carries the Gateway name,
//     or the same kind of hashed form when the name is longer than a label
//     value may be.
//   - spec.infrastructure.labels and .annotations go on the Deployment, its
//     Pod template and the Service; Portico's own labels win a clash.
//   - spec.addresses of type IPAddress: the first becomes the Service's
//     spec.loadBalancerIP (deprecated but what simple load balancers read)
//     and all of them are listed, comma-separated, in the annotation
//     portico.dev/load-balancer-ips for load balancers that can assign
//     several. An address the load balancer did not assign is reported by
//     UnassignedAddresses (Programmed=False, AddressNotUsable).
//   - One Service port per distinct listener port and transport protocol
//     (TCP, UDP for UDP listeners), named after the first listener's protocol
//     and the port; the target port is the same number. The listeners of
//     the Gateway's ListenerSets count (the provider passes the valid ones
//     as extra listeners); the proxy container's ports list only the
//     Gateway's own, so a ListenerSet coming or going changes the Service
//     but does not restart the proxies.
//   - Each object carries portico.dev/spec-hash, a hash of what was decided,
//     so the provider applies only what changed.
//
// Input: *gwv1.Gateway, Options, extra listeners. Output: Objects (*appsv1.Deployment,
// *corev1.Service); []gwv1.GatewayStatusAddress from a Service.
package infra
