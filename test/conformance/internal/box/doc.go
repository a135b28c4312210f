// Package box starts and stops the conformance harness's cluster: PKI
// (certificates and an admin kubeconfig, generated in Go), embedded etcd,
// kube-apiserver and kube-controller-manager as child processes, the Gateway
// API CRDs, the fake kubelet and the load balancer, and the portico
// controller. Input: Options (binary and run directories); output: a Box with
// clients, stopped by Stop in reverse order, each process by PID.
package box
