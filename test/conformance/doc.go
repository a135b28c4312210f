// Package conformance runs the official Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance) against portico on this machine: a
// real kube-apiserver and kube-controller-manager (built by
// hack/conformance-build-kube.sh from the separate module ./kube), an
// embedded etcd, a fake kubelet that runs the suite's echo backends in
// process and portico's proxy Pods as processes, and a userspace
// LoadBalancer, all inside a private network namespace. See README.md.
//
// The tests here run only with PORTICO_CONFORMANCE=1, through
// `make conformance` (TestConformance) and `make conformance-smoke`
// (TestBox).
package conformance
