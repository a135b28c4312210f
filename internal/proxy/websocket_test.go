package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"portico.dev/portico/internal/ir"
)

// wsEcho is a backend that echoes WebSocket messages.
func wsEcho(t *testing.T) *httptest.Server {
	up := websocket.Upgrader{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func dialWS(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(strings.Replace(url, "http://", "ws://", 1), http.Header{"Host": {"example.com"}})
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", url, err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func echoes(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	c.NetConn().SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	_, got, err := c.ReadMessage()
	if err != nil || string(got) != msg {
		t.Fatalf("read: %q %v, want %q", got, err, msg)
	}
}

func TestWebSocketPassesThrough(t *testing.T) {
	for _, proto := range []ir.BackendProtocol{ir.BackendHTTP, ir.BackendWebSocket} {
		t.Run(string(proto), func(t *testing.T) {
			h := newHarness(t)
			be := to("ws", wsEcho(t))
			be.Protocol = proto
			rule := prefixRule("/ws", be)
			// Timeouts bound the handshake only, never the conversation.
			rule.Timeouts.Request = ir.Duration(300 * time.Millisecond)
			rule.Timeouts.BackendRequest = ir.Duration(300 * time.Millisecond)
			url := h.serve(vhost("", route("r", rule)))
			c := dialWS(t, url+"/ws")
			echoes(t, c, "hello")
			time.Sleep(500 * time.Millisecond)
			echoes(t, c, "still here")
		})
	}
}

// A WebSocket on a removed listener keeps working while the listener
// drains, and is closed when the drain timeout ends.
func TestWebSocketOnRemovedListenerEndsAfterDrain(t *testing.T) {
	h := newHarness(t)
	h.p.drainTimeout = 300 * time.Millisecond
	url := h.serve(vhost("", route("r", prefixRule("/ws", to("ws", wsEcho(t))))))
	c := dialWS(t, url+"/ws")
	echoes(t, c, "before")

	start := time.Now()
	h.apply(&ir.Config{Version: 2})
	echoes(t, c, "draining")
	c.NetConn().SetDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("connection still open after the drain")
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed after %v, want about the 300ms drain timeout", d)
	}
}

// TestWebSocketOutlivesDefaultTimeout: the default upstream timeout bounds
// the wait for the 101 only; the upgraded connection may stay quiet
// longer.
func TestWebSocketOutlivesDefaultTimeout(t *testing.T) {
	h := newHarness(t)
	h.p.upTimeout = 300 * time.Millisecond
	url := h.serve(vhost("", route("ws", prefixRule("/", to("ws", wsEcho(t))))))
	c := dialWS(t, url+"/chat")
	echoes(t, c, "before")
	time.Sleep(1200 * time.Millisecond) // four timeouts and more: reaper sweeps included
	echoes(t, c, "after")
}
