// Package kubelet is a fake kubelet for the conformance harness. It
// registers a Node (retrying on conflict), renews its Lease, binds every
// unscheduled Pod to it (there is no scheduler), gives Pods IPs from a local
// range, resolves their env and Secret/ConfigMap/projected volumes through
// the API and runs them:
//
//   - echo-basic images run in process, bound to the Pod IP, in the mode
//     echo-basic picks from its environment: HTTP on :3000, h2c on :3001 and
//     HTTPS on :8443 (portico.dev/portico/internal/echo); gRPC
//     (GRPC_ECHO_SERVER); TCP (TCP_ECHO_SERVER); UDP (UDP_ECHO_SERVER);
//   - images whose name contains "portico" (the harness passes PorticoImage
//     to --proxy-image) run the portico binary as a
//     process with the container's command, args and env (downward API
//     resolved, $(VAR) expanded, volume mount paths rewritten to files on
//     this machine), restarted with back-off when it exits, Ready when its
//     readinessProbe (httpGet or tcpSocket) passes;
//   - anything else is reported Ready with no server.
//
// It writes Ready status (podIP and podIPs, never qosClass), finalises
// deleted Pods with grace period 0 and serves
// /containerLogs/{ns}/{pod}/{container} over HTTPS for pods/log.
package kubelet
