package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/configsync"
)

// forEngines runs test once per HTTP engine, as a subtest named after it.
func forEngines(t *testing.T, test func(t *testing.T, engine string)) {
	for _, engine := range []string{"h1", "nethttp"} {
		t.Run(engine, func(t *testing.T) { test(t, engine) })
	}
}

// oneRouteConfig starts backend echo-a and writes a config directory with
// Gateway gw (HTTP listener "http" on port) and route r sending path to
// echo-a.
func oneRouteConfig(t *testing.T, port int, path string) string {
	t.Helper()
	a := startBackend(t, "echo-a")
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}))
	writeFile(t, dir, "backends.yaml", servicesYAML(a))
	writeFile(t, dir, "route.yaml", routeYAML("r", "gw", nil, path, nil, to("echo-a")))
	return dir
}

// adminClient keeps one connection to the admin API, so that it can be
// asked while the process cannot accept new ones.
func adminClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
}

func adminGetWith(c *http.Client, p *portico, path string) (int, string, error) {
	resp, err := c.Get("http://" + p.admin + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// listenerCondition returns the condType condition of listener ln of
// Gateway gw in the status objects.
func listenerCondition(body []byte, gw, ln, condType string) (metav1.Condition, error) {
	objs, err := parseStatus(body)
	if err != nil {
		return metav1.Condition{}, err
	}
	o, err := findStatus(objs, "Gateway", gw)
	if err != nil {
		return metav1.Condition{}, err
	}
	var st gwv1.GatewayStatus
	if err := json.Unmarshal(o.Status, &st); err != nil {
		return metav1.Condition{}, err
	}
	for _, l := range st.Listeners {
		if string(l.Name) != ln {
			continue
		}
		for _, c := range l.Conditions {
			if c.Type == condType {
				return c, nil
			}
		}
	}
	return metav1.Condition{}, fmt.Errorf("Gateway %s has no listener %s with a %s condition: %s", gw, ln, condType, o.Status)
}

// waitListenerProgrammed waits until listener http of Gateway gw has
// Programmed with status want (and, when not empty, a message holding
// msg) in the status that fetch returns.
func waitListenerProgrammed(t *testing.T, what string, fetch func() (string, error), want bool, msg string) {
	t.Helper()
	status := metav1.ConditionFalse
	if want {
		status = metav1.ConditionTrue
	}
	eventually(t, readyTimeout, what, func() error {
		body, err := fetch()
		if err != nil {
			return err
		}
		c, err := listenerCondition([]byte(body), "gw", "http", "Programmed")
		if err != nil {
			return err
		}
		if c.Status != status || !strings.Contains(c.Message, msg) {
			return fmt.Errorf("listener Programmed: %s %s %q", c.Status, c.Reason, c.Message)
		}
		return nil
	})
}

// statusVia fetches the admin /status of p with c.
func statusVia(c *http.Client, p *portico) func() (string, error) {
	return func() (string, error) {
		_, body, err := adminGetWith(c, p, "/status")
		return body, err
	}
}

// fdLimits reads the soft and hard "Max open files" of pid.
func fdLimits(t *testing.T, pid int) (soft, hard string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(strings.TrimPrefix(line, "Max open files"))
			return f[0], f[1]
		}
	}
	t.Fatalf("no Max open files in /proc/%d/limits", pid)
	return "", ""
}

func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestFileDescriptorExhaustion runs out of file descriptors in the gateway
// (its RLIMIT_NOFILE lowered under it): the listener stops accepting,
// /readyz and status say so, and once the connections are closed it serves
// again, /readyz is 200 and the listener Programmed, by itself.
func TestFileDescriptorExhaustion(t *testing.T) {
	forEngines(t, testFDExhaustion)
}

func testFDExhaustion(t *testing.T, engine string) {
	port := freePort(t)
	dir := oneRouteConfig(t, port, "/")
	p := startPortico(t, dir, "--http-engine", engine)
	pid := p.cmd.Process.Pid
	gw := "127.0.0.1:" + strconv.Itoa(port)
	client := newClient()
	eventuallyPod(t, client, gw, "/", "echo-a", readyTimeout)
	client.CloseIdleConnections()

	// Go raises the soft limit to the hard one at start (package os).
	if soft, hard := fdLimits(t, pid); soft != hard {
		t.Errorf("Max open files of portico: soft %s, hard %s; want the soft limit raised to the hard one", soft, hard)
	}

	ac := adminClient()
	if code, body, err := adminGetWith(ac, p, "/readyz"); err != nil || code != 200 {
		t.Fatalf("/readyz before: %d %q %v", code, body, err)
	}
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &old); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	low := unix.Rlimit{Cur: uint64(openFDs(t, pid) + 16), Max: old.Max}
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &low, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 64 { // the kernel completes them all; the gateway can accept ~16
		c, err := net.DialTimeout("tcp", gw, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %s: %v", gw, err)
		}
		conns = append(conns, c)
	}
	eventually(t, readyTimeout, "/readyz to report the listener not accepting", func() error {
		code, body, err := adminGetWith(ac, p, "/readyz")
		if err != nil {
			return err
		}
		if code != http.StatusServiceUnavailable || !strings.Contains(body, gw) || !strings.Contains(body, "too many open files") ||
			!strings.Contains(body, "Gateway default/gw listener http") {
			return fmt.Errorf("/readyz: %d %q", code, body)
		}
		return nil
	})
	waitListenerProgrammed(t, "status to report the listener not accepting", statusVia(ac, p), false, "not accepting connections")

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	eventually(t, readyTimeout, "/readyz to be 200 again", func() error {
		code, body, err := adminGetWith(ac, p, "/readyz")
		if err != nil || code != 200 {
			return fmt.Errorf("/readyz: %d %q %v", code, body, err)
		}
		return nil
	})
	eventuallyPod(t, client, gw, "/", "echo-a", readyTimeout)
	waitListenerProgrammed(t, "the listener Programmed again", statusVia(ac, p), true, "")
}

// TestSlowloris: clients that send a head byte by byte do not keep a
// normal client from being served, and are closed after the header
// timeout.
func TestSlowloris(t *testing.T) {
	forEngines(t, testSlowloris)
}

func testSlowloris(t *testing.T, engine string) {
	port := freePort(t)
	dir := oneRouteConfig(t, port, "/")
	startPortico(t, dir, "--http-engine", engine, "--read-header-timeout", "1s")
	gw := "127.0.0.1:" + strconv.Itoa(port)

	// A head that takes over 20 s at one byte per 100 ms.
	head := "GET / HTTP/1.1\r\nHost: x.example.com\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
	const slow = 40
	closed := make(chan time.Duration, slow)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for range slow {
		c, err := net.DialTimeout("tcp", gw, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		wg.Add(2)
		readDone := make(chan struct{})
		go func() { // the reader sees the gateway close the connection
			defer wg.Done()
			defer close(readDone)
			_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
			_, _ = io.Copy(io.Discard, c)
			closed <- time.Since(start)
		}()
		go func() {
			defer wg.Done()
			defer c.Close()
			for i := 0; i < len(head); i++ {
				if _, err := c.Write([]byte{head[i]}); err != nil {
					break
				}
				select {
				case <-time.After(100 * time.Millisecond):
				case <-readDone:
					return
				case <-stop:
					return
				}
			}
			<-readDone
		}()
	}
	client := newClient()
	for range 5 {
		ans, err := do(client, request(gw, "x.example.com", "/"))
		if err != nil {
			t.Fatalf("a normal client among slow ones: %v", err)
		}
		if err := expectPod(ans, "echo-a"); err != nil {
			t.Fatalf("a normal client among slow ones: %v", err)
		}
	}
	deadline := time.After(30 * time.Second)
	for i := range slow {
		select {
		case d := <-closed:
			if d > 15*time.Second {
				t.Errorf("a slow client was closed after %v, want about the 1s header timeout", d)
			}
		case <-deadline:
			t.Fatalf("only %d of %d slow clients closed within 30 s (header timeout 1 s)", i, slow)
		}
	}
}

// TestBadListenerHarmsOnlyItself: one change adds a Gateway with port 70000
// and a good route. The Gateway is refused as the API server would refuse it
// (reported in /diagnostics with the field, absent from status); the route is
// served and the good Gateway stays Programmed. (A listener that passes
// validation but that the proxy cannot build is covered, per listener, by
// internal/proxy's TestBadListenerHarmsOnlyItself.)
func TestBadListenerHarmsOnlyItself(t *testing.T) {
	port := freePort(t)
	dir := oneRouteConfig(t, port, "/old")
	p := startPortico(t, dir)
	gw := "127.0.0.1:" + strconv.Itoa(port)

	writeFile(t, dir, "change.yaml", join(
		gatewayYAML("bad", listener{Name: "http", Protocol: "HTTP", Port: 70000}),
		routeYAML("new", "gw", nil, "/new", nil, to("echo-a")),
	))
	client := newClient()
	eventuallyPod(t, client, gw, "/new", "echo-a", reloadTimeout)
	eventually(t, reloadTimeout, "status: gw Programmed, bad reported and not stored", func() error {
		body, err := p.adminGet("/status")
		if err != nil {
			return err
		}
		objs, err := parseStatus(body)
		if err != nil {
			return err
		}
		if err := gatewayConditions(objs, "gw", true); err != nil {
			return err
		}
		for _, o := range objs {
			if o.Kind == "Gateway" && o.Metadata.Name == "bad" {
				return fmt.Errorf("Gateway default/bad is in the status although its port is invalid")
			}
		}
		diags, err := p.adminGet("/diagnostics")
		if err != nil {
			return err
		}
		if want := "Gateway default/bad: spec.listeners[0].port: Invalid value: 70000"; !strings.Contains(string(diags), want) {
			return fmt.Errorf("/diagnostics does not say %q: %s", want, diags)
		}
		return nil
	})
}

// TestBusyPortRetried: a listener whose port is taken is served once the
// port frees, with no file change, and its status follows.
func TestBusyPortRetried(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	dir := oneRouteConfig(t, port, "/")
	p := startPortico(t, dir)
	waitListenerProgrammed(t, "status: the listener not programmed, port in use", statusVia(adminClient(), p), false, "address already in use")
	if out := p.output.String(); !strings.Contains(out, "Gateway default/gw listener http") {
		t.Errorf("the bind failure is not logged with its Gateway listener:\n%s", tail(out, 4<<10))
	}
	taken.Close()
	gw := "127.0.0.1:" + strconv.Itoa(port)
	client := newClient()
	eventuallyPod(t, client, gw, "/", "echo-a", readyTimeout)
	waitListenerProgrammed(t, "the listener Programmed", statusVia(adminClient(), p), true, "")
}

// TestAdminHostCheck: the admin API refuses a Host that is not loopback
// (DNS rebinding) unless allowed by flag.
func TestAdminHostCheck(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: freePort(t)}))
	p := startPortico(t, dir, "--admin-allowed-hosts", "portico.internal")
	for host, want := range map[string]int{
		"localhost": 200, p.admin: 200, "portico.internal:9901": 200,
		"rebind.attacker.example": 403, "rebind.attacker.example:" + strings.Split(p.admin, ":")[1]: 403,
	} {
		c, err := net.DialTimeout("tcp", p.admin, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /config HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			c.Close()
			t.Fatalf("Host %s: %v", host, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /config with Host %s: %d, want %d (%s)", host, resp.StatusCode, want, body)
		}
		if want == 403 && !strings.Contains(string(body), "--admin-allowed-hosts") {
			t.Errorf("403 body does not say how to allow the Host: %s", body)
		}
	}
}

// TestProxyBusyPortReacked: `portico proxy` whose port is busy acks the
// bind error, retries in the background, and once the port frees sends
// the controller a new answer to the same version, so the cluster's status
// follows without a new config.
func TestProxyBusyPortReacked(t *testing.T) {
	b := startBackend(t, "echo-a")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port

	srv := configsync.NewServer(nil)
	srv.Token = "e2e-token"
	srv.PollTimeout = 30 * time.Second // the re-ack must not wait for a poll to end
	ctl := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ctl.CloseClientConnections(); ctl.Close() })
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("e2e-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.Publish("default/gw", proxyConfig(port, b, "1"))
	v1, _ := srv.Latest("default/gw")
	p := startProxy(t, ctl.URL, tokenFile)
	a := waitAck(t, srv, v1)
	name := ":" + strconv.Itoa(port)
	if !strings.Contains(a.ListenerErrors[name], "address already in use") {
		t.Fatalf("ack of version %d: %+v, want %s in ListenerErrors", v1, a, name)
	}
	taken.Close()
	deadline := time.After(readyTimeout)
	for {
		if a := srv.Ack("default/gw"); a != nil && a.Version == v1 && len(a.ListenerErrors) == 0 {
			break
		}
		select {
		case <-srv.Changes():
		case <-deadline:
			t.Fatalf("no new answer without the bind error; Ack = %+v; output:\n%s", srv.Ack("default/gw"), tail(p.output.String(), 4<<10))
		}
	}
	client := newClient()
	eventuallyPod(t, client, "127.0.0.1:"+strconv.Itoa(port), "/", "echo-a", reloadTimeout)
}
