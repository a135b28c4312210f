package echo

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The conformance suite dials with an Origin naming the test, not the host,
// so every origin is accepted.
var upgrader = websocket.Upgrader{
	CheckOrigin: func(*http.Request) bool { return true },
}

func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// serveWebSocket echoes every text and binary message back with the same
// type until the client closes.
func (h *handler) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client already.
	}
	h.log.Info("established websocket connection", "client", r.RemoteAddr)
	if !h.ws.add(conn) {
		// Shutdown began between the handshake and now: say so, as closeAll does.
		goingAway(conn)
		return
	}
	defer h.ws.remove(conn)
	for {
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(typ, msg); err != nil {
			return
		}
	}
}

// webSockets tracks open WebSocket connections so that shutting down closes
// them: http.Server.Shutdown does not see hijacked connections.
type webSockets struct {
	mu     sync.Mutex
	conns  map[*websocket.Conn]struct{}
	closed bool
}

func newWebSockets() *webSockets {
	return &webSockets{conns: make(map[*websocket.Conn]struct{})}
}

func (s *webSockets) add(c *websocket.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *webSockets) remove(c *websocket.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	_ = c.Close()
}

// closeAll closes every open WebSocket and refuses new ones.
func (s *webSockets) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		goingAway(c)
	}
	clear(s.conns)
}

// goingAway sends a going-away close frame and closes c. WriteControl may run
// concurrently with the echo loop's writes.
func goingAway(c *websocket.Conn) {
	bye := websocket.FormatCloseMessage(websocket.CloseGoingAway, "echo backend shutting down")
	_ = c.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
	_ = c.Close()
}
