package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestH2C checks cleartext HTTP/2 on both legs: a prior-knowledge h2c
// client to the gateway's HTTP listener, and the gateway to a backend whose
// Service port says appProtocol kubernetes.io/h2c.
func TestH2C(t *testing.T) {
	plain, h2cBackend := startBackend(t, "echo-h1"), startBackend(t, "echo-h2c")
	port := freePort(t)
	dir := t.TempDir()
	writeFile(t, dir, "all.yaml", join(
		gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}),
		serviceYAML(plain, ""),
		serviceYAML(h2cBackend, "kubernetes.io/h2c"),
		routeYAML("plain", "gw", nil, "/", nil, to("echo-h1")),
		routeYAML("h2c", "gw", nil, "/h2c", nil, to("echo-h2c")),
	))
	startPortico(t, dir)
	gw := "127.0.0.1:" + strconv.Itoa(port)

	h2cTransport := &http.Transport{Protocols: new(http.Protocols)}
	h2cTransport.Protocols.SetUnencryptedHTTP2(true)
	h2cClient := &http.Client{Timeout: 10 * time.Second, Transport: h2cTransport}
	h1Client := newClient()

	tests := []struct {
		name             string
		client           *http.Client
		path             string
		wantPod          string
		wantClientProto  string
		wantBackendProto string
	}{
		{"h1 to h1", h1Client, "/", "echo-h1", "HTTP/1.1", "HTTP/1.1"},
		{"h2c to h1", h2cClient, "/", "echo-h1", "HTTP/2.0", "HTTP/1.1"},
		{"h1 to h2c", h1Client, "/h2c/x", "echo-h2c", "HTTP/1.1", "HTTP/2.0"},
		{"h2c to h2c", h2cClient, "/h2c/y", "echo-h2c", "HTTP/2.0", "HTTP/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans answer
			eventually(t, readyTimeout, "an answer for "+tt.path, func() error {
				var err error
				if ans, err = do(tt.client, request(gw, "h2c.example.com", tt.path)); err != nil {
					return err
				}
				return expectPod(ans, tt.wantPod)
			})
			if ans.Proto != tt.wantClientProto {
				t.Errorf("client leg: %s, want %s", ans.Proto, tt.wantClientProto)
			}
			if ans.Echo.Proto != tt.wantBackendProto {
				t.Errorf("backend leg: %s, want %s", ans.Echo.Proto, tt.wantBackendProto)
			}
		})
	}
}

// TestWebSocket upgrades through the gateway to a plain backend and to one
// whose Service port says appProtocol kubernetes.io/ws, and echoes text and
// binary messages.
func TestWebSocket(t *testing.T) {
	plain, ws := startBackend(t, "echo-plain"), startBackend(t, "echo-ws")
	port := freePort(t)
	dir := t.TempDir()
	writeFile(t, dir, "all.yaml", join(
		gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}),
		serviceYAML(plain, ""),
		serviceYAML(ws, "kubernetes.io/ws"),
		routeYAML("plain", "gw", []string{"plain.example.com"}, "/", nil, to("echo-plain")),
		routeYAML("ws", "gw", []string{"ws.example.com"}, "/", nil, to("echo-ws")),
	))
	startPortico(t, dir)
	gw := "127.0.0.1:" + strconv.Itoa(port)

	for _, host := range []string{"plain.example.com", "ws.example.com"} {
		t.Run(host, func(t *testing.T) {
			conn := dialWebSocket(t, gw, host)
			for _, m := range []struct {
				typ  int
				data []byte
			}{
				{websocket.TextMessage, []byte("Websocket Support!")},
				{websocket.BinaryMessage, []byte{0, 1, 2, 3, 4, 5, 255}},
			} {
				if err := wsRoundTrip(conn, m.typ, m.data); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// dialWebSocket opens ws://gw/ws with the given Host, retrying (bounded)
// while the gateway comes up; the connection closes when the test ends.
func dialWebSocket(t *testing.T, gw, host string) *websocket.Conn {
	t.Helper()
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	var conn *websocket.Conn
	eventually(t, readyTimeout, "a WebSocket through the gateway for "+host, func() error {
		c, resp, err := dialer.Dial("ws://"+gw+"/ws", http.Header{
			"Host":   {host},
			"Origin": {"ws://gateway/e2e"},
		})
		if err != nil {
			if resp != nil {
				return fmt.Errorf("%w (HTTP status %d)", err, resp.StatusCode)
			}
			return err
		}
		conn = c
		return nil
	})
	t.Cleanup(func() { conn.Close() })
	return conn
}

// wsRoundTrip sends one message and expects the same message back, within
// a deadline.
func wsRoundTrip(conn *websocket.Conn, typ int, data []byte) error {
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteMessage(typ, data); err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	gotTyp, got, err := conn.ReadMessage()
	if err != nil {
		return err
	}
	if gotTyp != typ || !bytes.Equal(got, data) {
		return fmt.Errorf("websocket echo: got (%d, %q), want (%d, %q)", gotTyp, got, typ, data)
	}
	return nil
}
