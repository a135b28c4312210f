package echo

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestWebSocketEchoesTextAndBinary(t *testing.T) {
	srv := newTestServer(t, testOptions())
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	// The conformance suite sends an Origin that is not the host.
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"ws://gateway/HTTPRouteBackendProtocolWebSocket"}})
	if err != nil {
		t.Fatalf("dial %s: %v (response %v)", url, err, resp)
	}
	defer conn.Close()

	messages := []struct {
		typ  int
		data []byte
	}{
		{websocket.TextMessage, []byte("Websocket Support!")},
		{websocket.BinaryMessage, []byte{0, 1, 2, 3, 4, 5, 255}},
	}
	for _, m := range messages {
		if err := conn.WriteMessage(m.typ, m.data); err != nil {
			t.Fatalf("write: %v", err)
		}
		typ, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if typ != m.typ || !bytes.Equal(data, m.data) {
			t.Errorf("echo = (%d, %q), want (%d, %q)", typ, data, m.typ, m.data)
		}
	}
}

func TestWSWithoutUpgradeEchoes(t *testing.T) {
	srv := newTestServer(t, testOptions())
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ws", nil)
	if resp, _ := get(t, req); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /ws without upgrade: status %d, Content-Type %q; want a 200 JSON echo", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
