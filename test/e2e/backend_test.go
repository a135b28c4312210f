package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"portico.dev/portico/internal/echo"
)

// backend is an echo server started in-process on a free loopback port. It
// reports Name as its pod name, which is how tests tell backends apart.
type backend struct {
	Name string
	Port int
}

// startBackend runs an echo backend named name until the test ends.
func startBackend(t *testing.T, name string) backend {
	t.Helper()
	port, _ := runBackend(t, name, "127.0.0.1:0")
	return backend{Name: name, Port: port}
}

// runBackend runs an echo backend named name on listen and returns its
// port and a stop function (closing its listener and connections), which
// also runs when the test ends.
func runBackend(t *testing.T, name, listen string) (int, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		done <- echo.Serve(ctx, echo.Options{
			Listen:    listen,
			Name:      name,
			Namespace: "default",
			Service:   name,
			Logger:    slog.New(slog.DiscardHandler),
			OnListening: func(plain, _ net.Addr) {
				ready <- plain.(*net.TCPAddr).Port
			},
		})
	}()
	var port int
	select {
	case port = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("echo backend %s: %v", name, err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("echo backend %s did not listen within 10s", name)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(stopTimeout):
				t.Errorf("echo backend %s did not stop within %v", name, stopTimeout)
			}
		})
	}
	t.Cleanup(stop)
	return port, stop
}

// answer is what a request through the gateway got back.
type answer struct {
	Status int
	Header http.Header
	Proto  string    // of the client-to-gateway leg
	Echo   echo.Echo // parsed when the body is echo JSON
	Body   string
	TLS    *tls.ConnectionState
}

// do sends req with client and reads the answer; the echo JSON is parsed
// when Content-Type is application/json, as the conformance suite does.
func do(client *http.Client, req *http.Request) (answer, error) {
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("read the body of %s %s: %w", req.Method, req.URL, err)
	}
	a := answer{Status: resp.StatusCode, Header: resp.Header, Proto: resp.Proto, Body: string(body), TLS: resp.TLS}
	if resp.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(body, &a.Echo); err != nil {
			return a, fmt.Errorf("%s %s: body is not echo JSON: %w\n%s", req.Method, req.URL, err, body)
		}
	}
	return a, nil
}

// request builds a GET to the gateway at addr for host and path with extra
// headers given as "Name: value".
func request(addr, host, path string, headers ...string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		panic(err)
	}
	if host != "" {
		req.Host = host
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return req
}

// expectPod checks that a request answered 200 from the backend named pod.
func expectPod(a answer, pod string) error {
	if a.Status != http.StatusOK {
		return fmt.Errorf("status %d, want 200 from %s; body %.200s", a.Status, pod, a.Body)
	}
	if a.Echo.Pod != pod {
		return fmt.Errorf("answered by %q, want %q", a.Echo.Pod, pod)
	}
	return nil
}

// newClient is an HTTP/1.1 client with keep-alives and a timeout.
func newClient() *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16},
		// Redirects are answers under test, not something to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
