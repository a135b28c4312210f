package proxy

import (
	"bufio"
	"net"
	"net/http"
	"testing"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/testclient"
)

// resetter is an endpoint that accepts connections and resets each one
// (SO_LINGER 0) once it has read a request head, without answering: a
// backend crashing or refusing work after the connect succeeded.
func resetter(t *testing.T) net.Addr {
	return serveConns(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_ = c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
}

// An endpoint that resets connections before any byte of an answer loses
// no idempotent request: it is retried on the backend's other endpoint,
// on the fast paths' client (HTTP/1.1 and HTTP/2) and backend.Pool's.
func TestResetEndpointIsSkipped(t *testing.T) {
	good := newRestartable(t, "good")
	be := ir.Backend{Name: "ns/ab:80", Weight: 1, Protocol: ir.BackendHTTP, Endpoints: []ir.Endpoint{endpoint(resetter(t)), endpoint(good.addr)}}
	h := newHarness(t)
	url := h.serve(vhost("", route("r",
		prefixRule("/fast", be),
		withFilters(prefixRule("/handler", be), ir.HTTPFilters{Rewrite: &ir.Rewrite{Hostname: "rewritten.example"}}),
	)))
	for proto, c := range map[string]*http.Client{"HTTP/1.1": client, "HTTP/2": h2cClient()} {
		for _, p := range []string{"/fast", "/handler"} {
			if n, first := testclient.Failures(c, getter(url+p), 200, 4); n > 0 {
				t.Errorf("%s GET %s with one endpoint resetting: %d of 200 failed (%s)", proto, p, n, first)
			}
		}
	}
}
