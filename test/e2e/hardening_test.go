package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/echo"
	"portico.dev/portico/internal/testclient"
)

// engines are the values of --http-engine; every test here runs on both.
var engines = []string{"h1", "nethttp"}

// serveWithEngine runs portico with --http-engine engine on a Gateway
// "gw" with one HTTP listener, plus docs, and returns the listener's
// address.
func serveWithEngine(t *testing.T, engine string, docs ...string) string {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	writeFile(t, dir, "all.yaml", join(append([]string{gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port})}, docs...)...))
	startPortico(t, dir, "--http-engine", engine)
	return "127.0.0.1:" + strconv.Itoa(port)
}

// TestPathNormalisation sends targets that climb, double slashes or hide
// letters in escapes through the built binary, over HTTP/1.1 and HTTP/2:
// the rule on /admin must see every request for /admin, the backend gets
// the normal path, and what cannot be normalised safely is answered 400.
func TestPathNormalisation(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			admin, public := startBackend(t, "echo-admin"), startBackend(t, "echo-public")
			gw := serveWithEngine(t, engine,
				servicesYAML(admin, public),
				routeYAML("admin", "gw", nil, "/admin", nil, to("echo-admin")),
				routeYAML("public", "gw", nil, "/", nil, to("echo-public")),
			)
			client := newClient()
			eventually(t, readyTimeout, "the routes to be served", func() error {
				a, err := do(client, request(gw, "paths.example", "/admin"))
				if err != nil {
					return err
				}
				return expectPod(a, "echo-admin")
			})

			for _, c := range []struct {
				target, pod, path string // pod "": 400
				h1Only            bool
			}{
				{target: "/admin/x", pod: "echo-admin", path: "/admin/x"},
				{target: "/public/../admin/x", pod: "echo-admin", path: "/admin/x"},
				{target: "/public/%2e%2e/admin", pod: "echo-admin", path: "/admin"},
				{target: "//admin", pod: "echo-admin", path: "/admin"},
				{target: "/./admin", pod: "echo-admin", path: "/admin"},
				{target: "/%61dmin?q=/../x", pod: "echo-admin", path: "/admin?q=/../x"},
				{target: "/admin%2fx", pod: "echo-public", path: "/admin%2Fx"},
				{target: "/admin;x=1", pod: "echo-public", path: "/admin;x=1"},
				{target: "http://paths.example/public/../admin", pod: "echo-admin", path: "/admin", h1Only: true},
				{target: "/../admin"},
				{target: "/public/..;/admin"},
				{target: `/public\..\admin`},
				{target: "/admin%00"},
			} {
				for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
					var a testclient.Answer
					var err error
					if proto == "HTTP/1.1" {
						a, err = testclient.HTTP1(gw, c.target, "paths.example")
					} else if !c.h1Only {
						a, err = testclient.H2C(gw, c.target, "paths.example")
					} else {
						continue
					}
					if err != nil {
						t.Fatalf("%s %q: %v", proto, c.target, err)
					}
					if c.pod == "" {
						if a.Status != http.StatusBadRequest && !(proto == "HTTP/2" && a.Reset) {
							t.Errorf("%s %q: got %d %s, want 400", proto, c.target, a.Status, a.Body)
						}
						continue
					}
					var e echo.Echo
					if a.Status != 200 || json.Unmarshal(a.Body, &e) != nil || e.Pod != c.pod || e.Path != c.path {
						t.Errorf("%s %q: got %d from %q with path %q, want %s with %q (%.200s)", proto, c.target, a.Status, e.Pod, e.Path, c.pod, c.path, a.Body)
					}
				}
			}
		})
	}
}

// pairYAML is a Service "pair" whose two endpoints are the loopback ports
// portA and portB (one EndpointSlice each).
func pairYAML(portA, portB int) string {
	slice := func(name string, port int) string {
		return fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %s
  labels:
    kubernetes.io/service-name: pair
addressType: IPv4
ports:
  - name: http
    protocol: TCP
    port: %d
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
`, name, port)
	}
	return join(`apiVersion: v1
kind: Service
metadata:
  name: pair
spec:
  ports:
    - name: http
      protocol: TCP
      port: 80
`, slice("pair-a", portA), slice("pair-b", portB))
}

// TestDeadEndpoint kills one of a Service's two endpoints under load: no
// request may fail (a refused connect goes to the other endpoint, the
// dead one is skipped), and once it is back it gets traffic again.
func TestDeadEndpoint(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			portA, stopA := runBackend(t, "pod-a", "127.0.0.1:0")
			portB, _ := runBackend(t, "pod-b", "127.0.0.1:0")
			gw := serveWithEngine(t, engine, pairYAML(portA, portB), routeYAML("pair", "gw", nil, "/", nil, to("pair")))
			h2Transport := &http.Transport{Protocols: new(http.Protocols)}
			h2Transport.Protocols.SetUnencryptedHTTP2(true)
			clients := []struct {
				proto string
				c     *http.Client
			}{{"HTTP/1.1", newClient()}, {"HTTP/2", &http.Client{Timeout: 10 * time.Second, Transport: h2Transport}}}
			for _, pod := range []string{"pod-a", "pod-b"} {
				eventuallyPod(t, clients[0].c, gw, "/", pod, readyTimeout)
			}

			stopA()
			post := func() *http.Request {
				req := request(gw, "pair.example", "/load")
				req.Method, req.Body, req.ContentLength = http.MethodPost, io.NopCloser(strings.NewReader("payload")), 7
				return req
			}
			for _, c := range clients {
				if n, first := testclient.Failures(c.c, func() *http.Request { return request(gw, "pair.example", "/load") }, 2000, 4); n > 0 {
					t.Errorf("%s with one of two endpoints dead: %d of 2000 GETs failed (first: %s)", c.proto, n, first)
				}
				if n, first := testclient.Failures(c.c, post, 500, 4); n > 0 {
					t.Errorf("%s with one of two endpoints dead: %d of 500 POSTs failed (first: %s)", c.proto, n, first)
				}
			}

			runBackend(t, "pod-a", "127.0.0.1:"+strconv.Itoa(portA))
			for _, c := range clients {
				// Past the longest interval a failing endpoint is skipped for.
				eventuallyPod(t, c.c, gw, "/", "pod-a", 45*time.Second)
			}
		})
	}
}
