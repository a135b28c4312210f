package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failingListener fails its next accepts with errs, then accepts for real.
type failingListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
	gate chan struct{} // the failures end when it is closed
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.errs) > 0 {
		select {
		case <-l.gate:
			l.errs = nil
		default:
			err := l.errs[0]
			if len(l.errs) > 1 {
				l.errs = l.errs[1:]
			}
			l.mu.Unlock()
			return nil, err
		}
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

// Accept errors that are not "closed", temporary (EMFILE) or not (ENOBUFS,
// which net/http's Serve gives up on), make the socket back off and retry:
// it is reported not accepting, in Ack and ReadinessProblems, while they
// last, and serves again afterwards.
func TestAcceptErrorsBackOffAndRecover(t *testing.T) {
	var changes atomic.Int64
	var fl *failingListener
	h := newHarnessWith(t, func(o *Options) {
		o.OnListenerChange = func() { changes.Add(1) }
		inner := o.Listen
		o.Listen = func(ctx context.Context, network, addr string) (net.Listener, error) {
			ln, err := inner(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			fl = &failingListener{Listener: ln, gate: make(chan struct{}),
				errs: []error{acceptErr(syscall.EMFILE), acceptErr(syscall.ENOBUFS)}}
			return fl, nil
		}
	})
	url := h.serve(vhost("", route("r", prefixRule("/", to("e", echoServer(t, "e"))))))
	name := strings.TrimPrefix(url, "http://")
	waitFor(t, "the socket reported not accepting", func() bool {
		a := h.p.Ack()
		return strings.Contains(a.NotAccepting[name], "no buffer space") || strings.Contains(a.NotAccepting[name], "too many open files")
	})
	probs := h.p.ReadinessProblems()
	if len(probs) != 1 || !strings.Contains(probs[0], name) || !strings.Contains(probs[0], "Gateway ns/gw listener") {
		t.Fatalf("ReadinessProblems = %q, want one naming %s and its Gateway listener", probs, name)
	}
	if changes.Load() == 0 {
		t.Fatal("OnListenerChange not called when accepts started failing")
	}
	close(fl.gate)
	if code, _ := get(t, url+"/", "x"); code != 200 {
		t.Fatalf("after the accept errors: got %d", code)
	}
	waitFor(t, "the socket reported accepting again", func() bool {
		return len(h.p.Ack().NotAccepting) == 0 && len(h.p.ReadinessProblems()) == 0
	})
}

// At MaxConnections a socket stops accepting: a further connection waits
// in the backlog and is served once another closes.
func TestConnectionLimit(t *testing.T) {
	h := newHarnessWith(t, func(o *Options) { o.MaxConnections = 2 })
	url := h.serve(vhost("", route("r", prefixRule("/", to("e", echoServer(t, "e"))))))
	addr := strings.TrimPrefix(url, "http://")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	got := make(chan int, 1)
	go func() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			got <- -2
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	select {
	case code := <-got:
		t.Fatalf("a third connection was served (%d) while two were held", code)
	case <-time.After(500 * time.Millisecond):
	}
	held[0].Close()
	select {
	case code := <-got:
		if code != 200 {
			t.Fatalf("third connection: got %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("third connection not served after one closed")
	}
	held[1].Close()
}

func TestDefaultConnectionLimit(t *testing.T) {
	for _, tc := range []struct {
		nofile uint64
		want   int
	}{{0, 64}, {256, 64}, {1024, 384}, {65536, 32640}, {1 << 20, 50_000}} {
		if got := connLimitFor(tc.nofile); got != tc.want {
			t.Errorf("connLimitFor(%d) = %d, want %d", tc.nofile, got, tc.want)
		}
	}
}

// One listener that cannot be built costs only itself: a new listener in
// the same Config is served, and the bad one is reported by name.
func TestBadListenerHarmsOnlyItself(t *testing.T) {
	h := newHarness(t)
	goodName, goodPort := h.port()
	badName, badPort := h.port()
	bad := httpListener(badName, badPort, vhost("", route("bad", prefixRule("/", to("e", echoServer(t, "e"))))))
	bad.VirtualHosts[0].Routes[0].Rules[0].Matches[0].Path = ir.PathMatch{Type: ir.PathRegex, Value: "/(unclosed"}
	ack := h.p.Apply(&ir.Config{Version: 1, Listeners: []ir.Listener{
		httpListener(goodName, goodPort, vhost("", route("r", prefixRule("/", to("good", echoServer(t, "good")))))),
		bad,
	}})
	if ack.Error != "" || len(ack.InvalidListeners) != 1 || !contains(ack.InvalidListeners[badName], "ns/bad") {
		t.Fatalf("got %+v, want only %s invalid, naming its route", ack, badName)
	}
	if code, e := get(t, "http://"+goodName+"/", "x"); code != 200 || e.Backend != "good" {
		t.Fatalf("good listener: got %d %+v", code, e)
	}
}

// A socket whose port is busy is opened by the background retry once the
// port frees, without another Apply.
func TestBusyPortRetriedInBackground(t *testing.T) {
	var changes atomic.Int64
	h := newHarnessWith(t, func(o *Options) { o.OnListenerChange = func() { changes.Add(1) } })
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	name, port := taken.Addr().String(), int32(taken.Addr().(*net.TCPAddr).Port)
	ack := h.p.Apply(&ir.Config{Version: 1, Listeners: []ir.Listener{
		httpListener(name, port, vhost("", route("r", prefixRule("/", to("e", echoServer(t, "e")))))),
	}})
	if ack.ListenerErrors[name] == "" {
		t.Fatalf("got %+v, want %s in ListenerErrors", ack, name)
	}
	taken.Close()
	waitFor(t, "the busy port to be served", func() bool { return len(h.p.Ack().ListenerErrors) == 0 })
	if code, _ := get(t, "http://"+name+"/", "x"); code != 200 {
		t.Fatalf("after the port freed: got %d", code)
	}
	if changes.Load() == 0 {
		t.Fatal("OnListenerChange not called when the socket opened")
	}
}

// TLS 1.2 clients that offer only CBC suites are refused; AEAD suites work.
func TestTLS12OffersNoCBC(t *testing.T) {
	h := newHarness(t)
	roots := x509.NewCertPool()
	cert := selfSigned(t, roots, "a", "a.example.com")
	name, port := h.port()
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTPS,
		VirtualHosts: []ir.VirtualHost{tlsVHost("", []ir.Certificate{cert}, route("r", prefixRule("/", to("e", echoServer(t, "e")))))}}}})
	dial := func(suites []uint16) error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", name, &tls.Config{RootCAs: roots, ServerName: "a.example.com",
			MaxVersion: tls.VersionTLS12, CipherSuites: suites})
		if err == nil {
			c.Close()
		}
		return err
	}
	cbc := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA}
	if err := dial(cbc); err == nil {
		t.Fatal("a TLS 1.2 handshake offering only CBC suites succeeded")
	}
	gcm := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	if err := dial(gcm); err != nil {
		t.Fatalf("a TLS 1.2 handshake offering GCM failed: %v", err)
	}
}
