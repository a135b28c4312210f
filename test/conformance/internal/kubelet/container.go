package kubelet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// container is one running container of a Pod: in-process servers, or a
// portico process supervised like the kubelet would (restarted with
// back-off when it exits).
type container struct {
	name, image, kind string
	log               *containerLog
	startedAt         time.Time

	mu           sync.Mutex
	ready        bool
	running      bool
	restarts     int32
	lastExit     *corev1.ContainerStateTerminated
	waitReason   string
	waitMessage  string
	pid          int
	onChange     func()
	stopFn       func()
	stopOnce     sync.Once
	stoppedClean chan struct{}
}

func (c *container) set(f func()) {
	c.mu.Lock()
	f()
	c.mu.Unlock()
	if c.onChange != nil {
		c.onChange()
	}
}

// PID returns the process id of a portico container (0 otherwise).
func (c *container) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid
}

// stop stops the container and waits until it has.
func (c *container) stop() {
	c.stopOnce.Do(func() {
		if c.stopFn != nil {
			c.stopFn()
		}
		c.log.close()
	})
}

// status is the container's ContainerStatus.
func (c *container) status() corev1.ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	started := c.running
	st := corev1.ContainerStatus{
		Name:         c.name,
		Image:        c.image,
		ImageID:      c.image,
		ContainerID:  "fake://" + c.name,
		Ready:        c.ready && c.running,
		Started:      &started,
		RestartCount: c.restarts,
	}
	switch {
	case c.running:
		st.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.startedAt.Truncate(time.Second))}
	default:
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waitReason, Message: c.waitMessage}
	}
	if c.lastExit != nil {
		st.LastTerminationState.Terminated = c.lastExit
	}
	return st
}

// startInProcess runs the in-process servers of kind for the container.
func startInProcess(kind string, c *container, spec serverSpec) error {
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := startServers(ctx, kind, spec)
	if err != nil {
		cancel()
		if wait != nil {
			wait()
		}
		return err
	}
	c.stopFn = func() { cancel(); wait() }
	c.mu.Lock()
	c.running, c.ready, c.startedAt = true, true, time.Now()
	c.mu.Unlock()
	return nil
}

// processSpec is what a portico container runs.
type processSpec struct {
	argv  []string
	env   []string
	dir   string
	podIP string
	probe *corev1.Probe
	ports []corev1.ContainerPort
	grace time.Duration
}

// portico resolves the container's command and args to the portico binary:
// an empty command, or one whose program is named portico, runs
// porticoBinary with the rest; any other command runs as given.
func porticoArgv(porticoBinary string, command, args []string, vars map[string]string, m mounts) ([]string, error) {
	var argv []string
	switch {
	case len(command) == 0:
		argv = append([]string{porticoBinary}, args...)
	case filepath.Base(command[0]) == "portico":
		argv = append(append([]string{porticoBinary}, command[1:]...), args...)
	default:
		argv = append(append([]string(nil), command...), args...)
	}
	if porticoBinary == "" && argv[0] == "" {
		return nil, errors.New("no --portico-binary given to run a portico container")
	}
	for i := 1; i < len(argv); i++ {
		argv[i] = m.rewrite(expand(argv[i], vars))
	}
	return argv, nil
}

// startProcess supervises the process: start, watch, restart with back-off
// (1 s doubling to 10 s) when it exits, probe readiness.
func startProcess(c *container, spec processSpec, logf func(string, ...any)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var cur struct {
		sync.Mutex
		cmd *exec.Cmd
	}
	c.stopFn = func() {
		cancel()
		cur.Lock()
		cmd := cur.cmd
		cur.Unlock()
		if cmd != nil && cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
				return
			case <-time.After(spec.grace):
				_ = cmd.Process.Kill()
			}
		}
		<-done
	}
	go func() {
		defer close(done)
		backoff := time.Second
		for attempt := 0; ctx.Err() == nil; attempt++ {
			cmd := exec.Command(spec.argv[0], spec.argv[1:]...)
			cmd.Env, cmd.Dir = spec.env, spec.dir
			cmd.Stdout, cmd.Stderr = c.log, c.log
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
			c.log.Printf("fake kubelet: exec %s", strings.Join(spec.argv, " "))
			started := time.Now()
			err := cmd.Start()
			if err != nil {
				c.log.Printf("fake kubelet: start failed: %v", err)
				c.set(func() { c.waitReason, c.waitMessage = "CreateContainerError", err.Error() })
			} else {
				cur.Lock()
				cur.cmd = cmd
				cur.Unlock()
				c.set(func() {
					c.running, c.startedAt, c.pid = true, started, cmd.Process.Pid
					c.ready = false
					if attempt > 0 {
						c.restarts++
					}
				})
				logf("pod container %s: started pid %d", c.name, cmd.Process.Pid)
				probeCtx, stopProbe := context.WithCancel(ctx)
				go probeLoop(probeCtx, c, spec)
				err = cmd.Wait()
				stopProbe()
				code := int32(0)
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = int32(ee.ExitCode())
				}
				c.log.Printf("fake kubelet: process %d exited: %v", cmd.Process.Pid, err)
				cur.Lock()
				cur.cmd = nil
				cur.Unlock()
				c.set(func() {
					c.running, c.ready, c.pid = false, false, 0
					c.lastExit = &corev1.ContainerStateTerminated{
						ExitCode: code, Reason: "Error", Message: fmt.Sprint(err),
						StartedAt: metav1.NewTime(started.Truncate(time.Second)), FinishedAt: metav1.NewTime(time.Now().Truncate(time.Second)),
					}
					c.waitReason, c.waitMessage = "CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container", backoff)
				})
				if time.Since(started) > 30*time.Second {
					backoff = time.Second
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}()
}

// probeLoop runs the readiness probe: every 250 ms until it first succeeds,
// then every periodSeconds (at most 2 s). Without a probe the container is
// ready once its process has run for 100 ms.
func probeLoop(ctx context.Context, c *container, spec processSpec) {
	p := spec.probe
	if p == nil || (p.HTTPGet == nil && p.TCPSocket == nil) {
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
			c.set(func() { c.ready = true })
		}
		return
	}
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	period = min(period, 2*time.Second)
	failureThreshold := max(int(p.FailureThreshold), 1)
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	failures := 0
	ready := false
	for {
		err := probeOnce(ctx, p, spec, timeout)
		switch {
		case err == nil && !ready:
			ready, failures = true, 0
			c.log.Printf("fake kubelet: readiness probe succeeded")
			c.set(func() { c.ready = true })
		case err == nil:
			failures = 0
		case ready:
			failures++
			if failures >= failureThreshold {
				ready = false
				c.log.Printf("fake kubelet: readiness probe failed: %v", err)
				c.set(func() { c.ready = false })
			}
		}
		wait := period
		if !ready {
			wait = 250 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func probeOnce(ctx context.Context, p *corev1.Probe, spec processSpec, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.HTTPGet != nil:
		g := p.HTTPGet
		port, err := probePort(g.Port, spec.ports)
		if err != nil {
			return err
		}
		host := g.Host
		if host == "" {
			host = spec.podIP
		}
		scheme := "http"
		if g.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		path := g.Path
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), path), nil)
		if err != nil {
			return err
		}
		for _, h := range g.HTTPHeaders {
			req.Header.Add(h.Name, h.Value)
		}
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true} //nolint:gosec // as the kubelet does
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe answered %s", resp.Status)
		}
		return nil
	case p.TCPSocket != nil:
		port, err := probePort(p.TCPSocket.Port, spec.ports)
		if err != nil {
			return err
		}
		host := p.TCPSocket.Host
		if host == "" {
			host = spec.podIP
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return nil
}

func probePort(p intstr.IntOrString, ports []corev1.ContainerPort) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("probe port %q is not a named container port", p.StrVal)
}

// baseEnv is the environment every portico process starts with, before the
// Pod's own variables: a PATH, HOME and the API server's address (there is
// no kube-proxy behind the kubernetes Service's cluster IP).
func baseEnv(dir string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"KUBERNETES_SERVICE_HOST=127.0.0.1",
		"KUBERNETES_SERVICE_PORT=6443",
	}
}
