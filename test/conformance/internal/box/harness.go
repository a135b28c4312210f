package box

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"

	"portico.dev/portico/test/conformance/internal/kubelet"
	"portico.dev/portico/test/conformance/internal/lb"
)

// Addresses of the box's private network namespace. hack/conformance.sh
// makes PodCIDR and LoadBalancerCIDR local on lo.
const (
	PodCIDR          = "10.244.0.0/16"
	LoadBalancerCIDR = "10.245.0.0/16"
	NodeIP           = "10.244.0.1"
	NodeName         = "portico-node"
	KubeletPort      = 10250
)

// Options configure a whole box.
type Options struct {
	Config
	// CRDDir is the Gateway API config/crd/experimental directory.
	CRDDir string
	// PorticoBinary runs the proxy Pods (and the controller).
	PorticoBinary string
}

// Box is a running control plane with the Gateway API CRDs, a fake kubelet
// and the load balancer, plus (optionally) the portico controller.
type Box struct {
	*ControlPlane
	Dynamic    dynamic.Interface
	Kubelet    *kubelet.Kubelet
	LB         *lb.LB
	Controller *Process
}

// Start brings the box up. On error, what was started is stopped.
func Start(ctx context.Context, opts Options) (_ *Box, err error) {
	if err := CheckNetns(NodeIP, "10.245.0.1"); err != nil {
		return nil, err
	}
	opts.NodeIP = net.ParseIP(NodeIP)
	cp, err := StartControlPlane(ctx, opts.Config)
	if err != nil {
		return nil, err
	}
	b := &Box{ControlPlane: cp}
	defer func() {
		if err != nil {
			b.Stop()
		}
	}()
	step := time.Now()
	if b.Dynamic, err = dynamic.NewForConfig(cp.Rest); err != nil {
		return nil, err
	}
	n, err := InstallManifests(ctx, cp.Rest, opts.CRDDir)
	if err != nil {
		return nil, fmt.Errorf("install the Gateway API CRDs from %s: %w", opts.CRDDir, err)
	}
	cp.Timings = append(cp.Timings, Timing{fmt.Sprintf("%d Gateway API CRDs established", n), time.Since(step)})
	cp.logf("box: %d Gateway API CRDs established in %s", n, time.Since(step).Round(time.Millisecond))

	step = time.Now()
	k, err := kubelet.New(kubelet.Config{
		Client:        cp.Kube,
		NodeName:      NodeName,
		NodeIP:        NodeIP,
		Port:          KubeletPort,
		PodCIDR:       PodCIDR,
		TLSCertFile:   cp.PKI.KubeletServingCert,
		TLSKeyFile:    cp.PKI.KubeletServingKey,
		PorticoBinary: opts.PorticoBinary,
		RunDir:        filepath.Join(opts.RunDir, "kubelet"),
		Logf:          fileLogf(filepath.Join(opts.RunDir, "kubelet.log")),
	})
	if err != nil {
		return nil, err
	}
	if err := k.Start(ctx); err != nil {
		return nil, err
	}
	b.Kubelet = k
	l, err := lb.New(lb.Config{Client: cp.Kube, Dynamic: b.Dynamic, CIDR: LoadBalancerCIDR, Logf: fileLogf(filepath.Join(opts.RunDir, "lb.log"))})
	if err != nil {
		return nil, err
	}
	if err := l.Start(ctx); err != nil {
		return nil, err
	}
	b.LB = l
	cp.Timings = append(cp.Timings, Timing{"fake kubelet and load balancer started", time.Since(step)})
	cp.logf("box: fake kubelet (node %s, %s:%d) and load balancer (%s) started", NodeName, NodeIP, KubeletPort, LoadBalancerCIDR)
	return b, nil
}

// fileLogf returns a Logf that appends timestamped lines to path.
func fileLogf(path string) func(string, ...any) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) {
		fmt.Fprintf(f, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
}

// CheckControllerCommand fails clearly when the portico binary has no
// `controller` subcommand yet.
func CheckControllerCommand(portico string) error {
	if _, err := os.Stat(portico); err != nil {
		return fmt.Errorf("portico binary %s: %w (build it with `make build`)", portico, err)
	}
	var out bytes.Buffer
	cmd := exec.Command(portico, "controller", "--help")
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if strings.Contains(out.String(), "unknown command") {
		return fmt.Errorf("%s has no `controller` subcommand yet (`portico controller --help` says: %s); "+
			"the conformance harness needs it", portico, firstLine(out.String()))
	}
	if err != nil && !strings.Contains(out.String(), "kubeconfig") {
		return fmt.Errorf("`%s controller --help` failed: %v: %s", portico, err, firstLine(out.String()))
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// StartController starts `portico controller --kubeconfig <admin>` plus
// extra arguments; its output goes to controller.log.
func (b *Box) StartController(portico string, extra ...string) error {
	args := append([]string{"controller", "--kubeconfig", b.PKI.Kubeconfig}, extra...)
	p, err := StartProcess("portico-controller", filepath.Join(b.cfg.RunDir, "controller.log"), nil, portico, args...)
	if err != nil {
		return err
	}
	b.Controller = p
	b.logf("box: started %s %s (pid %d), log %s", portico, strings.Join(args, " "), p.PID(), p.LogPath)
	return nil
}

// Stop stops everything the box started, each by PID and waited for: the
// controller, the fake kubelet's Pods (portico processes) and the load
// balancer, then kube-controller-manager, kube-apiserver and etcd.
func (b *Box) Stop() {
	start := time.Now()
	if b.Controller != nil {
		took := b.Controller.Stop(15 * time.Second)
		b.logf("box: stopped portico controller (pid %d) in %s", b.Controller.PID(), took.Round(time.Millisecond))
	}
	if b.Kubelet != nil {
		b.Kubelet.Stop()
		b.logf("box: stopped the fake kubelet and its pods")
	}
	if b.LB != nil {
		b.LB.Stop()
	}
	if b.ControlPlane != nil {
		b.ControlPlane.Stop()
	}
	b.logf("box: stopped in %s", time.Since(start).Round(time.Millisecond))
}
