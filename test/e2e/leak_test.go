package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"portico.dev/portico/internal/testhold"
)

// fdCount is the number of open descriptors of process pid.
func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("counting descriptors of %d: %v", pid, err)
	}
	return len(ents)
}

// holdGateway serves / on a fresh port to hb with the given flags, waits
// for a normal request to pass (so pools and the like exist), and returns
// the gateway and its address.
func holdGateway(t *testing.T, hb *testhold.Server, extra ...string) (*portico, string) {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	b := backend{Name: "hold", Port: hb.Listener.Addr().(*net.TCPAddr).Port}
	writeFile(t, dir, "all.yaml", join(
		gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}),
		serviceYAML(b, ""),
		routeYAML("hold", "gw", nil, "/", nil, to("hold")),
	))
	p := startPortico(t, dir, extra...)
	gw := "127.0.0.1:" + strconv.Itoa(port)
	client := newClient()
	eventually(t, readyTimeout, "the route to answer", func() error {
		resp, err := client.Get("http://" + gw + "/warm")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return p, gw
}

// abandonH1 sends GET /hold/id over HTTP/1.1, waits until the backend has
// it, and closes the socket.
func abandonH1(gw, id string, arrived <-chan struct{}) error {
	c, err := net.Dial("tcp", gw)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /hold/"+id+" HTTP/1.1\r\nHost: leak.example\r\n\r\n"); err != nil {
		return err
	}
	return waitArrival(id, arrived)
}

// abandonH2 does the same over cleartext HTTP/2 with prior knowledge.
func abandonH2(gw, id string, arrived <-chan struct{}) error {
	c, err := net.Dial("tcp", gw)
	if err != nil {
		return err
	}
	defer c.Close()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "leak.example"}, {":path", "/hold/" + id}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		return err
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		return err
	}
	go func() { // read (and drop) the server's frames so it never blocks
		for {
			if _, err := fr.ReadFrame(); err != nil {
				return
			}
		}
	}()
	return waitArrival(id, arrived)
}

func waitArrival(id string, arrived <-chan struct{}) error {
	select {
	case <-arrived:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("request %s did not reach the backend within 30s", id)
	}
}

// TestAbandonedRequestsReleased abandons 10,000 requests to a backend that
// never answers (200 at a time), over HTTP/1.1 and cleartext HTTP/2 on both
// engines, and checks that the gateway releases both connections of each:
// its descriptor count returns to the baseline and the backend sees every
// upstream connection closed.
func TestAbandonedRequestsReleased(t *testing.T) {
	const total, parallel, slack = 10000, 200, 16
	for _, proto := range []struct {
		name, engine string
		abandon      func(gw, id string, arrived <-chan struct{}) error
	}{{"http1", "h1", abandonH1}, {"h2c", "h1", abandonH2}, {"nethttp-http1", "nethttp", abandonH1}, {"nethttp-h2c", "nethttp", abandonH2}} {
		t.Run(proto.name, func(t *testing.T) {
			hb := testhold.Start(t, "/hold/")
			// A long default timeout: only the clients going away may
			// release anything here.
			p, gw := holdGateway(t, hb, "--upstream-timeout", "10m", "--http-engine", proto.engine)
			pid := p.cmd.Process.Pid
			base := fdCount(t, pid)
			sem := make(chan struct{}, parallel)
			var wg sync.WaitGroup
			var failed atomic.Int64
			var firstErr atomic.Value
			for i := range total {
				if failed.Load() > 10 {
					break
				}
				sem <- struct{}{}
				wg.Add(1)
				go func(id string) {
					defer func() { <-sem; wg.Done() }()
					path := "/hold/" + id
					if err := proto.abandon(gw, id, hb.Arrival(path)); err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
					hb.Forget(path)
				}(proto.name + strconv.Itoa(i))
			}
			wg.Wait()
			if n := failed.Load(); n > 0 {
				t.Fatalf("%d abandoned requests failed, first: %v (gateway descriptors %d, baseline %d)", n, firstErr.Load(), fdCount(t, pid), base)
			}
			eventually(t, 60*time.Second, "the gateway's descriptors to return to the baseline", func() error {
				if err := p.alive(); err != nil {
					return stopPolling{err}
				}
				if n := fdCount(t, pid); n > base+slack {
					return fmt.Errorf("%d descriptors open, baseline %d; backend holds %d requests", n, base, hb.Active())
				}
				if n := hb.Active(); n > 0 {
					return fmt.Errorf("the backend still holds %d requests: their upstream connections are open", n)
				}
				return nil
			})
		})
	}
}

// TestHungBackendTimesOut: a backend that never answers gets the client a
// 504 after the default upstream timeout (set short by flag), and the
// upstream connection is closed.
func TestHungBackendTimesOut(t *testing.T) {
	hb := testhold.Start(t, "/hold/")
	p, gw := holdGateway(t, hb, "--upstream-timeout", "1s")
	pid := p.cmd.Process.Pid
	base := fdCount(t, pid)
	h2t := &http.Transport{Protocols: new(http.Protocols)}
	h2t.Protocols.SetUnencryptedHTTP2(true)
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{{"http1", newClient()}, {"h2c", &http.Client{Timeout: 30 * time.Second, Transport: h2t}}} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			resp, err := tc.client.Get("http://" + gw + "/hold/" + tc.name)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusGatewayTimeout {
				t.Fatalf("status %d (%q), want 504", resp.StatusCode, body)
			}
			if el := time.Since(start); el < 900*time.Millisecond {
				t.Errorf("answered after %v, before the 1s timeout", el)
			}
			eventually(t, 30*time.Second, "the upstream connection to close", func() error {
				if n := hb.Active(); n > 0 {
					return fmt.Errorf("the backend still holds %d requests", n)
				}
				return nil
			})
			tc.client.CloseIdleConnections()
		})
	}
	eventually(t, 30*time.Second, "the gateway's descriptors to return to the baseline", func() error {
		if n := fdCount(t, pid); n > base+8 {
			return fmt.Errorf("%d descriptors open, baseline %d", n, base)
		}
		return nil
	})
}
