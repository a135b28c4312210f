package conformance

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	pb "sigs.k8s.io/gateway-api-conformance-images/echo-basic/grpcechoserver"
	"sigs.k8s.io/gateway-api/conformance"
	confk8s "sigs.k8s.io/gateway-api/conformance/utils/kubernetes"

	"portico.dev/portico/test/conformance/internal/box"
)

var baseNamespaces = []string{"gateway-conformance-infra", "gateway-conformance-app-backend", "gateway-conformance-web-backend"}

// TestBox is the harness's smoke test, without the portico controller: the
// control plane comes up in the private network namespace, the CRDs
// install, the conformance base manifests' Pods become Ready with their
// echo servers answering on the Pod IPs (HTTP, h2c, HTTPS, gRPC, TCP,
// UDP), a portico process Pod runs and is probed, LoadBalancer Services get
// an IP and forward TCP and UDP, container logs are readable through
// pods/log, namespaces delete, and the teardown leaves no process behind.
func TestBox(t *testing.T) {
	requireEnabled(t)
	if _, err := os.Stat(porticoBinary(t)); err != nil {
		t.Fatalf("portico binary: %v (run `make build`)", err)
	}
	// Not startBox: this test stops the box itself, to check the teardown.
	kubeDir := os.Getenv(envKubeDir)
	if kubeDir == "" {
		t.Fatalf("%s is not set", envKubeDir)
	}
	runDir := envOr(envRunDir, repoRoot(t)+"/out/conformance") + "/smoke"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	b, err := box.Start(ctx, box.Options{
		Config:        box.Config{KubeDir: kubeDir, RunDir: runDir, Logf: t.Logf},
		CRDDir:        crdDir(t),
		PorticoBinary: porticoBinary(t),
	})
	if err != nil {
		t.Fatalf("start the box: %v (logs in %s)", err, runDir)
	}
	stopped := false
	if d, err := time.ParseDuration(os.Getenv(envKeepOpen)); err == nil && d > 0 {
		defer func() {
			t.Logf("box: holding for %s; KUBECONFIG=%s", d, b.PKI.Kubeconfig)
			time.Sleep(d)
		}()
	}
	defer func() {
		if !stopped {
			b.Stop()
		}
	}()
	t.Logf("TIMING box up (etcd, apiserver, KCM, CRDs, kubelet, LB): %s", time.Since(start).Round(time.Millisecond))
	for _, tm := range b.Timings {
		t.Logf("TIMING   %s: %s", tm.Step, tm.Duration.Round(time.Millisecond))
	}
	kc := b.Kube

	// The base manifests, and the Secrets and ConfigMaps the suite's Setup
	// generates for them.
	step := time.Now()
	applyBaseManifests(t, ctx, b)
	t.Logf("TIMING base manifests and secrets applied: %s", time.Since(step).Round(time.Millisecond))
	step = time.Now()
	pods := waitPodsReady(t, ctx, kc, baseNamespaces, 120*time.Second)
	t.Logf("TIMING %d base Pods Ready: %s", len(pods), time.Since(step).Round(time.Millisecond))

	t.Run("EchoServersOnPodIPs", func(t *testing.T) { checkEchoServers(t, pods) })
	t.Run("PodLogs", func(t *testing.T) { checkPodLogs(t, ctx, kc, pods) })
	t.Run("LoadBalancer", func(t *testing.T) { checkLoadBalancer(t, ctx, kc) })
	var porticoPID int
	t.Run("PorticoProcessPod", func(t *testing.T) { porticoPID = checkPorticoPod(t, ctx, b) })

	step = time.Now()
	for _, ns := range baseNamespaces {
		if err := kc.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete namespace %s: %v", ns, err)
		}
	}
	waitGone(t, 60*time.Second, "base namespaces", func() bool {
		for _, ns := range baseNamespaces {
			if _, err := kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false
			}
		}
		return true
	})
	t.Logf("TIMING base namespaces deleted (Pods finalised by the kubelet): %s", time.Since(step).Round(time.Millisecond))

	// Teardown: every process stopped by PID, nothing left.
	pids := map[string]int{}
	for _, p := range b.Processes() {
		pids[p.Name] = p.PID()
	}
	for k, pid := range b.Kubelet.PIDs() {
		pids["pod "+k] = pid
	}
	if porticoPID != 0 {
		pids["portico echo pod (deleted earlier)"] = porticoPID
	}
	step = time.Now()
	b.Stop()
	stopped = true
	t.Logf("TIMING teardown: %s", time.Since(step).Round(time.Millisecond))
	pidsGone(t, pids)
	for _, addr := range []string{"127.0.0.1:6443", "127.0.0.1:2379", "127.0.0.1:10257", box.NodeIP + ":10250"} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the teardown", addr)
		}
	}
}

func applyBaseManifests(t *testing.T, ctx context.Context, b *box.Box) {
	t.Helper()
	data, err := conformance.Manifests.ReadFile("base/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.ReplaceAll(string(data), "{GATEWAY_CLASS_NAME}", gatewayClassName))
	objs, err := box.DecodeObjects(data, "base/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := box.Apply(ctx, b.Rest, objs); err != nil {
		t.Fatal(err)
	}
	kc := b.Kube
	create := func(obj any) {
		var err error
		switch o := obj.(type) {
		case *corev1.Secret:
			_, err = kc.CoreV1().Secrets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.ConfigMap:
			_, err = kc.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	infra, app, web := baseNamespaces[0], baseNamespaces[1], baseNamespaces[2]
	create(confk8s.MustCreateSelfSignedCertSecret(t, web, "certificate", []string{"*"}))
	create(confk8s.MustCreateSelfSignedCertSecret(t, infra, "tls-validity-checks-certificate", []string{"*", "*.org", "*.wildcard.org"}))
	cm, _, _ := confk8s.MustCreateCACertConfigMap(t, web, "web-backend-cm")
	create(cm)
	caCM, ca, caKey := confk8s.MustCreateCACertConfigMap(t, infra, "tls-checks-ca-certificate")
	create(caCM)
	create(confk8s.MustCreateCASignedCertSecret(t, infra, "tls-checks-certificate", []string{"abc.example.com", "spiffe://abc.example.com/test-identity", "other.example.com"}, ca, caKey))
	create(confk8s.MustCreateCASignedCertSecret(t, infra, "tls-passthrough-checks-certificate", []string{"abc.example.com"}, ca, caKey))
	create(confk8s.MustCreateCASignedCertSecret(t, app, "tls-passthrough-checks-certificate", []string{"abc.example.com"}, ca, caKey))
	create(confk8s.MustCreateCASignedCertSecret(t, infra, "tls-terminate-checks-certificate", []string{"tls.example.com"}, ca, caKey))
}

// waitPodsReady waits until the namespaces have Pods and all are Ready.
func waitPodsReady(t *testing.T, ctx context.Context, kc kubernetes.Interface, namespaces []string, timeout time.Duration) []corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var all, notReady []corev1.Pod
		for _, ns := range namespaces {
			l, err := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range l.Items {
				all = append(all, p)
				if !podReady(&p) {
					notReady = append(notReady, p)
				}
			}
		}
		want := 0
		for _, ns := range namespaces {
			ds, err := kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds.Items {
				want += int(ptr.Deref(d.Spec.Replicas, 1))
			}
		}
		if len(all) >= want && len(all) > 0 && len(notReady) == 0 {
			return all
		}
		if time.Now().After(deadline) {
			var names []string
			for _, p := range notReady {
				msg := ""
				for _, c := range p.Status.Conditions {
					if c.Type == corev1.PodReady {
						msg = c.Message
					}
				}
				names = append(names, fmt.Sprintf("%s/%s (%s: %s)", p.Namespace, p.Name, p.Status.Phase, msg))
			}
			t.Fatalf("after %s, %d of %d Pods are not Ready: %s", timeout, len(notReady), len(all), strings.Join(names, "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podEnv(p *corev1.Pod, name string) string {
	for _, e := range p.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

type echoReply struct {
	Path, Host, Method, Proto, Namespace, Pod string
	TLS                                       *struct{ Version, ServerName string }
}

func getEcho(client *http.Client, url string) (echoReply, error) {
	var r echoReply
	resp, err := client.Get(url)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("%s: %s", resp.Status, body)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("not echo JSON: %v: %s", err, body)
	}
	return r, nil
}

// checkEchoServers talks to every base Pod on its Pod IP in its mode.
func checkEchoServers(t *testing.T, pods []corev1.Pod) {
	plain := &http.Client{Timeout: 5 * time.Second}
	h2c := &http.Client{Timeout: 5 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	tlsClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "abc.example.com"}, //nolint:gosec // test backend
	}}
	counts := map[string]int{}
	for _, p := range pods {
		ip := p.Status.PodIP
		if ip == "" || len(p.Status.PodIPs) != 1 || p.Status.PodIPs[0].IP != ip {
			t.Errorf("%s: podIP %q / podIPs %v", p.Name, ip, p.Status.PodIPs)
			continue
		}
		name := p.Name
		switch {
		case podEnv(&p, "GRPC_ECHO_SERVER") != "":
			conn, err := grpc.NewClient(net.JoinHostPort(ip, "3000"), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Errorf("%s: gRPC client: %v", name, err)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			resp, err := pb.NewGrpcEchoClient(conn).Echo(ctx, &pb.EchoRequest{})
			cancel()
			conn.Close()
			if err != nil || resp.GetAssertions().GetContext().GetPod() != name {
				t.Errorf("%s: gRPC Echo: %v, pod %q", name, err, resp.GetAssertions().GetContext().GetPod())
				continue
			}
			counts["grpc"]++
		case podEnv(&p, "TCP_ECHO_SERVER") != "":
			for _, port := range []string{"3000", "8443"} {
				var c net.Conn
				var err error
				if port == "8443" {
					c, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", net.JoinHostPort(ip, port),
						&tls.Config{InsecureSkipVerify: true, ServerName: "abc.example.com"}) //nolint:gosec // test backend
				} else {
					c, err = net.DialTimeout("tcp", net.JoinHostPort(ip, port), 5*time.Second)
				}
				if err != nil {
					t.Errorf("%s: TCP %s: %v", name, port, err)
					continue
				}
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				rd := bufio.NewReader(c)
				welcome, _ := rd.ReadString('\n')
				fmt.Fprint(c, "PING\nIS_TLS\nTEST\n")
				pong, _ := rd.ReadString('\n')
				isTLS, _ := rd.ReadString('\n')
				test, _ := rd.ReadString('\n')
				c.Close()
				if welcome != "Gateway API Test TCP Server\n" || pong != "PONG\n" || isTLS != fmt.Sprintf("%t\n", port == "8443") || !strings.Contains(test, name) {
					t.Errorf("%s: TCP %s answered %q %q %q %q", name, port, welcome, pong, isTLS, test)
					continue
				}
				counts["tcp"]++
			}
		case podEnv(&p, "UDP_ECHO_SERVER") != "":
			reply, err := udpExchange(net.JoinHostPort(ip, "8080"), "hello")
			if err != nil || !strings.Contains(reply, `"request":"hello"`) || !strings.Contains(reply, name) {
				t.Errorf("%s: UDP: %v %q", name, err, reply)
				continue
			}
			counts["udp"]++
		default:
			r, err := getEcho(plain, "http://"+net.JoinHostPort(ip, "3000")+"/hello?x=1")
			if err != nil || r.Pod != name || r.Namespace != p.Namespace || r.Path != "/hello?x=1" {
				t.Errorf("%s: HTTP: %v %+v", name, err, r)
				continue
			}
			counts["http"]++
			if r, err := getEcho(h2c, "http://"+net.JoinHostPort(ip, "3001")+"/h2c"); err != nil || r.Proto != "HTTP/2.0" || r.Pod != name {
				t.Errorf("%s: h2c: %v %+v", name, err, r)
			} else {
				counts["h2c"]++
			}
			if podEnv(&p, "TLS_SERVER_CERT") != "" {
				r, err := getEcho(tlsClient, "https://"+net.JoinHostPort(ip, "8443")+"/tls")
				if err != nil || r.Pod != name || r.TLS == nil {
					t.Errorf("%s: HTTPS: %v %+v", name, err, r)
				} else {
					counts["https"]++
				}
			}
		}
	}
	t.Logf("echo servers answered on Pod IPs: %v", counts)
	for _, kind := range []string{"http", "h2c", "https", "grpc", "tcp", "udp"} {
		if counts[kind] == 0 {
			t.Errorf("no %s echo server answered", kind)
		}
	}
}

func udpExchange(addr, payload string) (string, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	buf := make([]byte, 4096)
	for range 3 {
		if _, err := c.Write([]byte(payload)); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err == nil {
			return string(buf[:n]), nil
		}
	}
	return "", fmt.Errorf("no UDP reply from %s", addr)
}

// checkPodLogs makes a request and finds its echo log line through the
// API server (pods/log -> the fake kubelet's /containerLogs), honouring
// sinceTime as the mirror tests use it.
func checkPodLogs(t *testing.T, ctx context.Context, kc kubernetes.Interface, pods []corev1.Pod) {
	var pod *corev1.Pod
	for i := range pods {
		if strings.HasPrefix(pods[i].Name, "infra-backend-v1-") {
			pod = &pods[i]
		}
	}
	if pod == nil {
		t.Fatal("no infra-backend-v1 Pod")
	}
	since := time.Now().Add(-time.Second)
	path := fmt.Sprintf("/smoke-log-%d", time.Now().UnixNano())
	if _, err := getEcho(&http.Client{Timeout: 5 * time.Second}, "http://"+net.JoinHostPort(pod.Status.PodIP, "3000")+path); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	raw, err := kc.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container: "infra-backend-v1", SinceTime: &metav1.Time{Time: since},
	}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("pods/log: %v", err)
	}
	want := "Echoing back request made to " + path + " to client"
	if !strings.Contains(string(raw), want) {
		t.Fatalf("pods/log of %s lacks %q:\n%s", pod.Name, want, raw)
	}
	t.Logf("pods/log through the API server has the echo line (%s): %s", time.Since(start).Round(time.Millisecond), firstMatch(string(raw), want))
	// sinceTime in the future: nothing.
	raw, err = kc.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container: "infra-backend-v1", SinceTime: &metav1.Time{Time: time.Now().Add(time.Hour)},
	}).DoRaw(ctx)
	if err != nil || strings.Contains(string(raw), want) {
		t.Errorf("sinceTime in the future still returned the line (err %v)", err)
	}
}

func firstMatch(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// checkLoadBalancer creates LoadBalancer Services for an HTTP and the UDP
// backend, and one that asks for an address, and talks through them.
func checkLoadBalancer(t *testing.T, ctx context.Context, kc kubernetes.Interface) {
	ns := baseNamespaces[0]
	mk := func(name string, sel string, proto corev1.Protocol, port, target int32, lbIP string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.ServiceSpec{
				Type:           corev1.ServiceTypeLoadBalancer,
				Selector:       map[string]string{"app": sel},
				LoadBalancerIP: lbIP,
				Ports:          []corev1.ServicePort{{Name: "p", Protocol: proto, Port: port, TargetPort: intstr.FromInt32(target)}},
			},
		}
	}
	step := time.Now()
	for _, s := range []*corev1.Service{
		mk("smoke-lb-http", "infra-backend-v1", corev1.ProtocolTCP, 80, 3000, ""),
		mk("smoke-lb-udp", "udp", corev1.ProtocolUDP, 5300, 8080, ""),
		mk("smoke-lb-fixed", "infra-backend-v2", corev1.ProtocolTCP, 8080, 3000, "10.245.250.7"),
	} {
		if _, err := kc.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lbIP := func(name string) string {
		var ip string
		waitGone(t, 30*time.Second, "load balancer IP of "+name, func() bool {
			s, err := kc.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
			if err == nil && len(s.Status.LoadBalancer.Ingress) > 0 {
				ip = s.Status.LoadBalancer.Ingress[0].IP
			}
			return ip != ""
		})
		return ip
	}
	httpIP, udpIP, fixedIP := lbIP("smoke-lb-http"), lbIP("smoke-lb-udp"), lbIP("smoke-lb-fixed")
	t.Logf("load balancer IPs: http %s, udp %s, fixed %s (in %s)", httpIP, udpIP, fixedIP, time.Since(step).Round(time.Millisecond))
	if fixedIP != "10.245.250.7" {
		t.Errorf("spec.loadBalancerIP 10.245.250.7 not honoured: got %s", fixedIP)
	}
	// A new connection per request, as the suite's client does: the load
	// balancer balances connections.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	seen := map[string]bool{}
	var lastErr error
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) < 2 {
		r, err := getEcho(client, "http://"+httpIP+"/through-lb")
		lastErr = err
		if err == nil {
			seen[r.Pod] = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTP through the load balancer reached %v; last error: %v", seen, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("HTTP via %s:80 reached %d Pods (last error %v)", httpIP, len(seen), lastErr)
	if r, err := getEcho(client, "http://"+fixedIP+":8080/fixed"); err != nil || !strings.HasPrefix(r.Pod, "infra-backend-v2-") {
		t.Errorf("HTTP via %s:8080: %v %+v", fixedIP, err, r)
	}
	var reply string
	waitGone(t, 30*time.Second, "UDP through the load balancer", func() bool {
		reply, _ = udpExchange(net.JoinHostPort(udpIP, "5300"), "via-lb")
		return strings.Contains(reply, `"request":"via-lb"`)
	})
	t.Logf("UDP via %s:5300 answered %s", udpIP, reply)
	// Deleting the Service closes its listener.
	if err := kc.CoreV1().Services(ns).Delete(ctx, "smoke-lb-http", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, 10*time.Second, "listener of the deleted Service", func() bool {
		c, err := net.DialTimeout("tcp", httpIP+":80", time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

// checkPorticoPod runs `portico echo` as a process Pod (image names
// portico), with the Pod IP from the downward API, a readiness probe, and
// checks it answers, logs, and stops by PID when deleted. It returns the
// PID it had.
func checkPorticoPod(t *testing.T, ctx context.Context, b *box.Box) int {
	kc := b.Kube
	ns := baseNamespaces[0]
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke-portico", Namespace: ns, Labels: map[string]string{"app": "smoke-portico"}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](5),
			Containers: []corev1.Container{{
				Name:    "proxy",
				Image:   "portico.dev/portico:dev",
				Command: []string{"/usr/local/bin/portico"},
				Args:    []string{"echo", "--listen=$(POD_IP):3000", "--name=$(POD_NAME)"},
				Env: []corev1.EnvVar{
					{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
					{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
				},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 3000}},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromString("http")}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
	step := time.Now()
	if _, err := kc.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitPodsReadyNamed(t, ctx, kc, ns, pod.Name, 30*time.Second)
	t.Logf("portico process Pod Ready at %s in %s", got.Status.PodIP, time.Since(step).Round(time.Millisecond))
	r, err := getEcho(&http.Client{Timeout: 5 * time.Second}, "http://"+net.JoinHostPort(got.Status.PodIP, "3000")+"/from-process")
	if err != nil || r.Pod != pod.Name {
		t.Errorf("portico echo Pod: %v %+v", err, r)
	}
	pid := b.Kubelet.PIDs()[ns+"/"+pod.Name+"/proxy"]
	if pid == 0 {
		t.Fatal("the kubelet reports no PID for the portico Pod")
	}
	raw, err := kc.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "proxy"}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(raw), "listening on http://"+got.Status.PodIP+":3000") {
		t.Errorf("portico Pod log (err %v):\n%s", err, raw)
	}
	step = time.Now()
	if err := kc.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, 30*time.Second, "deleted portico Pod", func() bool {
		_, err := kc.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("portico Pod process %d still runs after the Pod was deleted", pid)
	}
	t.Logf("portico Pod (pid %d) deleted and its process stopped in %s", pid, time.Since(step).Round(time.Millisecond))
	return pid
}

func waitPodsReadyNamed(t *testing.T, ctx context.Context, kc kubernetes.Interface, ns, name string, timeout time.Duration) *corev1.Pod {
	t.Helper()
	var p *corev1.Pod
	waitGone(t, timeout, "Pod "+ns+"/"+name+" Ready", func() bool {
		var err error
		p, err = kc.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && podReady(p)
	})
	return p
}

// waitGone polls cond every 100 ms until it holds, or fails the test.
func waitGone(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
