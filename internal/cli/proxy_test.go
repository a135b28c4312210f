package cli

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy"
)

func freeLoopbackPort(t *testing.T) (int32, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return int32(ln.Addr().(*net.TCPAddr).Port), ln
}

func TestApplyBoundBindsUnaddressedListeners(t *testing.T) {
	free, ln := freeLoopbackPort(t)
	ln.Close()
	taken, busy := freeLoopbackPort(t) // stays open: binding it fails
	defer busy.Close()
	name := func(p int32) string { return ":" + strconv.Itoa(int(p)) }
	cfg := &ir.Config{Version: 7, Listeners: []ir.Listener{
		{Name: name(free), Port: free, Protocol: ir.ProtocolHTTP},
		{Name: name(taken), Port: taken, Protocol: ir.ProtocolHTTP},
		// Binds the same socket as the first once "" is 127.0.0.1.
		{Name: "127.0.0.1:" + strconv.Itoa(int(free)), Address: "127.0.0.1", Port: free, Protocol: ir.ProtocolHTTP},
	}}
	px := proxy.New(proxy.Options{DrainTimeout: time.Second})
	defer px.Shutdown(context.Background())

	ack := applyBound(px, cfg, "127.0.0.1")
	if ack.Error != "" || ack.Version != 7 {
		t.Fatalf("ack: %+v", ack)
	}
	if len(ack.ListenerErrors) != 2 || ack.ListenerErrors[name(taken)] == "" || ack.ListenerErrors["127.0.0.1:"+strconv.Itoa(int(free))] == "" {
		t.Errorf("ListenerErrors %v: want the controller's names %q (port taken) and the clashing listener", ack.ListenerErrors, name(taken))
	}
	if cfg.Listeners[0].Address != "" || cfg.Listeners[0].Name != name(free) {
		t.Errorf("applyBound modified its input: %+v", cfg.Listeners[0])
	}
	served := px.Config()
	if served == nil || served.Listeners[0].Address != "127.0.0.1" || served.Listeners[0].Name != "127.0.0.1:"+strconv.Itoa(int(free)) {
		t.Fatalf("served config: %+v", served)
	}
	c, err := net.Dial("tcp", served.Listeners[0].Name)
	if err != nil {
		t.Fatalf("the bound listener does not accept: %v", err)
	}
	c.Close()
}

func TestProxyCmdFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--gateway", "ns/gw"}, "--controller"},
		{[]string{"--controller", "http://127.0.0.1:1"}, "--gateway"},
		{[]string{"--controller", "http://127.0.0.1:1", "--gateway", "gw"}, "--gateway"},
		{[]string{"--controller", "http://127.0.0.1:1", "--gateway", "ns/gw", "--bind-address", "nope"}, "--bind-address"},
		{[]string{"--controller", "http://127.0.0.1:1", "--gateway", "ns/gw", "--token-file", "/nonexistent/token"}, "--token-file"},
	} {
		var stderr bytes.Buffer
		if code := Main(append([]string{"proxy"}, tc.args...), &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("portico proxy %v: exit %d, stderr %q; want 2 and a message about %s", tc.args, code, stderr.String(), tc.want)
		}
	}
}
