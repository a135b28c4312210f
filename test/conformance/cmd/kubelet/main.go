// Command kubelet runs the conformance harness's fake kubelet on its own,
// against any API server (for debugging the box by hand): it registers a
// Node, binds and runs Pods (echo-basic in process, portico images as
// processes) and serves container logs. It must run where the Pod and node
// IPs are local, e.g. inside `unshare -n` with
// `ip route add local 10.244.0.0/16 dev lo`. See package kubelet.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"portico.dev/portico/test/conformance/internal/kubelet"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig `file` (admin credentials)")
	nodeName := flag.String("node-name", "portico-node", "Node `name` to register")
	nodeIP := flag.String("node-ip", "10.244.0.1", "Node InternalIP; the kubelet API listens on it")
	port := flag.Int("port", 10250, "kubelet API `port`")
	podCIDR := flag.String("pod-cidr", "10.244.0.0/16", "`prefix` Pod IPs come from (must be local)")
	cert := flag.String("tls-cert", "", "kubelet API serving certificate `file` (PEM)")
	key := flag.String("tls-key", "", "kubelet API serving key `file` (PEM)")
	portico := flag.String("portico-binary", "", "portico `binary` that runs Pods whose image names portico")
	runDir := flag.String("run-dir", "kubelet-run", "`directory` for Pod volumes and container logs")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatal(err)
	}
	k, err := kubelet.New(kubelet.Config{
		Client: kc, NodeName: *nodeName, NodeIP: *nodeIP, Port: *port, PodCIDR: *podCIDR,
		TLSCertFile: *cert, TLSKeyFile: *key, PorticoBinary: *portico, RunDir: *runDir,
		Logf: func(f string, a ...any) { log.Printf(f, a...) },
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := k.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	<-ctx.Done()
	log.Print("stopping: pods' processes first")
	k.Stop()
}
