package box

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Fixed addresses inside the box's private network namespace.
const (
	APIServerPort = 6443
	etcdClientURL = "http://127.0.0.1:2379"
	etcdPeerURL   = "http://127.0.0.1:2380"
	kcmPort       = 10257
	// ServiceCIDR is the cluster IP range (no kube-proxy serves it).
	ServiceCIDR = "10.96.0.0/16"
)

// Config says where the box finds its binaries and keeps its files.
type Config struct {
	// KubeDir holds kube-apiserver, kube-controller-manager and etcd
	// (hack/conformance-build-kube.sh builds them).
	KubeDir string
	// RunDir receives the PKI, etcd's data and every log. It is emptied
	// first.
	RunDir string
	// NodeIP is the fake kubelet's address; it goes into the kubelet
	// serving certificate.
	NodeIP net.IP
	// Logf reports progress; nil discards it.
	Logf func(format string, args ...any)
}

// ControlPlane is a running etcd, kube-apiserver and kube-controller-manager.
type ControlPlane struct {
	cfg   Config
	PKI   *PKI
	Rest  *rest.Config
	Kube  kubernetes.Interface
	procs []*Process // in start order
	// Timings of the start, for reports.
	Timings []Timing
}

// Timing is one measured step.
type Timing struct {
	Step     string
	Duration time.Duration
}

func (c *ControlPlane) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
	}
}

// StartControlPlane generates the PKI and starts etcd, kube-apiserver and
// kube-controller-manager, each waited for until healthy. On error, what was
// started is stopped again.
func StartControlPlane(ctx context.Context, cfg Config) (_ *ControlPlane, err error) {
	c := &ControlPlane{cfg: cfg}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	for _, bin := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(cfg.KubeDir, bin)); err != nil {
			return nil, fmt.Errorf("%s is missing from %s: build it with hack/conformance-build-kube.sh", bin, cfg.KubeDir)
		}
	}
	if err := os.RemoveAll(cfg.RunDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return nil, err
	}
	start := time.Now()
	step := start
	mark := func(name string) {
		now := time.Now()
		c.Timings = append(c.Timings, Timing{name, now.Sub(step)})
		c.logf("box: %s in %s", name, now.Sub(step).Round(time.Millisecond))
		step = now
	}

	apiURL := fmt.Sprintf("https://127.0.0.1:%d", APIServerPort)
	if c.PKI, err = GeneratePKI(filepath.Join(cfg.RunDir, "pki"), apiURL, []net.IP{cfg.NodeIP, net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, fmt.Errorf("generate certificates: %w", err)
	}
	mark("certificates generated")

	if err := c.start("etcd", filepath.Join(cfg.KubeDir, "etcd"),
		"--data-dir", filepath.Join(cfg.RunDir, "etcd-data"),
		"--listen-client-url", etcdClientURL, "--listen-peer-url", etcdPeerURL); err != nil {
		return nil, err
	}
	if err := c.waitHTTP(ctx, "etcd", etcdClientURL+"/health", nil); err != nil {
		return nil, err
	}
	mark("etcd healthy")

	p := c.PKI
	if err := c.start("kube-apiserver", filepath.Join(cfg.KubeDir, "kube-apiserver"),
		"--etcd-servers="+etcdClientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", APIServerPort),
		"--tls-cert-file="+p.APIServerCert,
		"--tls-private-key-file="+p.APIServerKey,
		"--client-ca-file="+p.CACert,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+p.ServiceAccountPub,
		"--service-account-signing-key-file="+p.ServiceAccountKey,
		"--service-cluster-ip-range="+ServiceCIDR,
		"--authorization-mode=Node,RBAC",
		"--kubelet-client-certificate="+p.KubeletClientCert,
		"--kubelet-client-key="+p.KubeletClientKey,
		"--kubelet-preferred-address-types=InternalIP",
		// A loopback advertise address cannot be an endpoint; nothing needs
		// the kubernetes Service's endpoints here.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=1",
	); err != nil {
		return nil, err
	}

	c.Rest, err = clientcmd.BuildConfigFromFlags("", p.Kubeconfig)
	if err != nil {
		return nil, err
	}
	c.Rest.QPS, c.Rest.Burst = 200, 400
	adminTLS, err := rest.TLSConfigFor(c.Rest)
	if err != nil {
		return nil, err
	}
	if err := c.waitHTTP(ctx, "kube-apiserver", apiURL+"/readyz", adminTLS); err != nil {
		return nil, err
	}
	mark("kube-apiserver ready")
	if c.Kube, err = kubernetes.NewForConfig(c.Rest); err != nil {
		return nil, err
	}

	if err := c.start("kube-controller-manager", filepath.Join(cfg.KubeDir, "kube-controller-manager"),
		"--kubeconfig="+p.Kubeconfig,
		"--authentication-kubeconfig="+p.Kubeconfig,
		"--authorization-kubeconfig="+p.Kubeconfig,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", kcmPort),
		"--leader-elect=false",
		"--controllers=*",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file="+p.ServiceAccountKey,
		"--root-ca-file="+p.CACert,
		"--cluster-signing-cert-file="+p.CACert,
		"--cluster-signing-key-file="+p.CAKey,
		"--profiling=false",
		"--v=1",
	); err != nil {
		return nil, err
	}
	insecure := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback health check of our own process
	if err := c.waitHTTP(ctx, "kube-controller-manager", fmt.Sprintf("https://127.0.0.1:%d/healthz", kcmPort), insecure); err != nil {
		return nil, err
	}
	mark("kube-controller-manager healthy")
	c.logf("box: control plane up in %s", time.Since(start).Round(time.Millisecond))
	return c, nil
}

func (c *ControlPlane) start(name, bin string, args ...string) error {
	p, err := StartProcess(name, filepath.Join(c.cfg.RunDir, name+".log"), nil, bin, args...)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	c.logf("box: started %s (pid %d), log %s", name, p.PID(), p.LogPath)
	return nil
}

// waitHTTP polls url until it answers 200, the process named name exits,
// or 90 s pass.
func (c *ControlPlane) waitHTTP(ctx context.Context, name, url string, tlsConfig *tls.Config) error {
	proc := c.procs[len(c.procs)-1]
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		if ok, _ := proc.Exited(); ok {
			return fmt.Errorf("%s %s before it was healthy; see %s", name, proc.ExitError(), proc.LogPath)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy after 90s at %s (last: %s); see %s", name, url, last, proc.LogPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Processes returns the running processes in start order.
func (c *ControlPlane) Processes() []*Process { return c.procs }

// Stop stops kube-controller-manager, kube-apiserver and etcd in that order,
// each by PID, waiting for each to exit (kube-apiserver hangs in its
// graceful shutdown when etcd goes first).
func (c *ControlPlane) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		took := p.Stop(15 * time.Second)
		c.logf("box: stopped %s (pid %d) in %s", p.Name, p.PID(), took.Round(time.Millisecond))
	}
	c.procs = nil
}

// errNotInBox is returned by CheckNetns when the process does not run in
// the private network namespace the box needs.
var errNotInBox = errors.New("not inside the box's network namespace")

// CheckNetns verifies that addrs (one per local range the box uses) can be
// bound, which is true only inside `unshare -n` after
// `ip route add local <range> dev lo`.
func CheckNetns(addrs ...string) error {
	for _, a := range addrs {
		ln, err := net.Listen("tcp", net.JoinHostPort(a, "0"))
		if err != nil {
			return fmt.Errorf("%w: cannot bind %s (%v); run through `make conformance` / hack/conformance.sh, "+
				"which runs the test under `unshare -n` with `ip route add local 10.244.0.0/16 dev lo` and 10.245.0.0/16", errNotInBox, a, err)
		}
		_ = ln.Close()
	}
	return nil
}
