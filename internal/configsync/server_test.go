package configsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portico.dev/portico/internal/ir"
)

const gw = "default/gw"

// cfgPort is a one-listener config; different ports make different configs.
func cfgPort(port int32) ir.Config {
	name := fmt.Sprintf(":%d", port)
	return ir.Config{Listeners: []ir.Listener{{Name: name, Port: port, Protocol: ir.ProtocolHTTP}}}
}

// newTestServer serves a Server with a short PollTimeout; set changes its
// fields before it serves.
func newTestServer(t *testing.T, set ...func(*Server)) (*Server, *httptest.Server) {
	t.Helper()
	s := NewServer(nil)
	s.PollTimeout = 200 * time.Millisecond
	for _, f := range set {
		f(s)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.CloseClientConnections(); hs.Close() })
	return s, hs
}

// get polls the config of gw as proxy id holding version.
func get(t *testing.T, hs *httptest.Server, token string, version uint64, id string) (int, configResponse) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/gateways/default/gw/config?version=%d&proxy=%s", hs.URL, version, id), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body configResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, body
}

func postAck(t *testing.T, hs *httptest.Server, id string, ack ir.Ack) int {
	t.Helper()
	b, _ := json.Marshal(ackRequest{Proxy: id, Ack: ack})
	resp, err := hs.Client().Post(hs.URL+"/v1/gateways/default/gw/ack", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func latest(t *testing.T, s *Server) uint64 {
	t.Helper()
	v, ok := s.Latest(gw)
	if !ok {
		t.Fatal("no version published")
	}
	return v
}

func TestPublishVersionsIncreaseOnlyOnChange(t *testing.T) {
	s := NewServer(nil)
	if _, ok := s.Latest(gw); ok {
		t.Fatal("Latest before Publish: ok")
	}
	s.Publish(gw, cfgPort(80))
	v1 := latest(t, s)
	same := cfgPort(80)
	same.Version = 12345 // ignored
	s.Publish(gw, same)
	if v := latest(t, s); v != v1 {
		t.Fatalf("same config published again: version %d -> %d, want unchanged", v1, v)
	}
	s.Publish(gw, cfgPort(81))
	v2 := latest(t, s)
	if v2 <= v1 {
		t.Fatalf("changed config: version %d -> %d, want higher", v1, v2)
	}
	s.Publish("other/gw", cfgPort(80))
	if v := latest(t, s); v != v2 {
		t.Fatalf("another gateway's publish changed this one's version: %d -> %d", v2, v)
	}

	// A restarted controller (a new Server) publishes higher versions.
	restarted := NewServer(nil)
	restarted.Publish(gw, cfgPort(81))
	if v := latest(t, restarted); v <= v2 {
		t.Fatalf("restarted server's first version %d, want above %d", v, v2)
	}

	// Remove, then publish the same config: a new, higher version.
	s.Remove(gw)
	if _, ok := s.Latest(gw); ok {
		t.Fatal("Latest after Remove: ok")
	}
	s.Publish(gw, cfgPort(81))
	if v := latest(t, s); v <= v2 {
		t.Fatalf("after Remove: version %d, want above %d", v, v2)
	}
}

func TestNextVersionNeverGoesBack(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	if v := nextVersion(0, now); v != uint64(now.UnixMicro()) {
		t.Errorf("nextVersion(0) = %d, want the clock %d", v, now.UnixMicro())
	}
	ahead := uint64(now.UnixMicro()) + 10
	if v := nextVersion(ahead, now); v != ahead+1 {
		t.Errorf("clock behind the last version: got %d, want %d", v, ahead+1)
	}
}

func TestPollReturnsAtOnceWhenBehind(t *testing.T) {
	s, hs := newTestServer(t)
	s.Publish(gw, cfgPort(80))
	v := latest(t, s)
	code, body := get(t, hs, "", 0, "p1")
	if code != http.StatusOK || body.Version != v || body.Config.Version != v {
		t.Fatalf("poll from 0: %d version %d (config %d), want 200 with %d", code, body.Version, body.Config.Version, v)
	}
	if diff := cmp.Diff(cfgPort(80).Listeners, body.Config.Listeners); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	// A version this server never reached (a clock that stepped back
	// across a restart) gets the latest too.
	if code, body := get(t, hs, "", v+1000, "p1"); code != http.StatusOK || body.Version != v {
		t.Errorf("poll from a future version: %d %d, want 200 %d", code, body.Version, v)
	}
}

func TestPollTimesOutWith304(t *testing.T) {
	s, hs := newTestServer(t)
	// Nothing published yet: a proxy of a restarted controller waits too.
	start := time.Now()
	if code, _ := get(t, hs, "", 0, "p1"); code != http.StatusNotModified {
		t.Fatalf("poll with nothing published: %d, want 304", code)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("304 after %v, want after PollTimeout (200ms)", d)
	}
	s.Publish(gw, cfgPort(80))
	if code, _ := get(t, hs, "", latest(t, s), "p1"); code != http.StatusNotModified {
		t.Fatalf("poll up to date: %d, want 304", code)
	}
}

func TestPollWakesOnPublish(t *testing.T) {
	s, hs := newTestServer(t, func(s *Server) { s.PollTimeout = 10 * time.Second })
	s.Publish(gw, cfgPort(80))
	v1 := latest(t, s)
	type result struct {
		code int
		body configResponse
	}
	done := make(chan result, 1)
	go func() {
		code, body := get(t, hs, "", v1, "p1")
		done <- result{code, body}
	}()
	// Wait until the poll is in, then publish.
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Proxies(gw)) == 0 || !s.Proxies(gw)[0].Polling {
		if time.Now().After(deadline) {
			t.Fatal("the poll never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("poll returned before a publish: %d", r.code)
	case <-time.After(50 * time.Millisecond):
	}
	start := time.Now()
	s.Publish(gw, cfgPort(81))
	select {
	case r := <-done:
		if r.code != http.StatusOK || r.body.Version != latest(t, s) || r.body.Config.Listeners[0].Port != 81 {
			t.Fatalf("woken poll: %d %+v", r.code, r.body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("woken after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("poll not woken by Publish")
	}
}

func TestAckAggregation(t *testing.T) {
	s, hs := newTestServer(t)
	s.Publish(gw, cfgPort(80))
	v1 := latest(t, s)
	if a := s.Ack(gw); a != nil {
		t.Fatalf("Ack before any ack: %+v", a)
	}
	// An ack of an older version says nothing about the latest.
	if code := postAck(t, hs, "p1", ir.Ack{Version: v1 - 1}); code != http.StatusNoContent {
		t.Fatalf("ack: %d", code)
	}
	if a := s.Ack(gw); a != nil {
		t.Fatalf("Ack after an ack of an older version: %+v", a)
	}
	postAck(t, hs, "p1", ir.Ack{Version: v1, ListenerErrors: map[string]string{":80": "port taken"}})
	postAck(t, hs, "p2", ir.Ack{Version: v1, ListenerErrors: map[string]string{":80": "other", ":81": "not local"}})
	want := &ir.Ack{Version: v1, ListenerErrors: map[string]string{":80": "port taken", ":81": "not local"}}
	if diff := cmp.Diff(want, s.Ack(gw)); diff != "" {
		t.Errorf("merged acks (-want +got):\n%s", diff)
	}
	// One nack of the latest version is the gateway's answer.
	postAck(t, hs, "p3", ir.Ack{Version: v1, Error: "listener \":80\": bad regex"})
	if a := s.Ack(gw); a == nil || a.Error != "listener \":80\": bad regex" || a.Version != v1 {
		t.Errorf("Ack with one nack: %+v", a)
	}
	infos := s.Proxies(gw)
	if len(infos) != 3 || infos[0].ID != "p1" || infos[2].Error == "" || infos[1].Version != v1 {
		t.Errorf("Proxies: %+v", infos)
	}
	// A new version: no ack until a proxy acks it.
	s.Publish(gw, cfgPort(81))
	if a := s.Ack(gw); a != nil {
		t.Errorf("Ack right after a new version: %+v", a)
	}
	s.Remove(gw)
	if a := s.Ack(gw); a != nil {
		t.Errorf("Ack after Remove: %+v", a)
	}
}

func TestAckBadRequests(t *testing.T) {
	_, hs := newTestServer(t)
	for _, body := range []string{`{`, `{"ack":{"version":1}}`} {
		resp, err := hs.Client().Post(hs.URL+"/v1/gateways/default/gw/ack", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("ack %s: %d, want 400", body, resp.StatusCode)
		}
	}
	for _, q := range []string{"version=1", "proxy=p&version=x"} {
		resp, err := hs.Client().Get(hs.URL + "/v1/gateways/default/gw/config?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("poll ?%s: %d, want 400", q, resp.StatusCode)
		}
	}
}

// drain empties the Changes channel.
func drain(s *Server) {
	select {
	case <-s.Changes():
	default:
	}
}

func fired(s *Server) bool {
	select {
	case <-s.Changes():
		return true
	case <-time.After(time.Second):
		return false
	}
}

func TestChangesFires(t *testing.T) {
	s, hs := newTestServer(t)
	s.Publish(gw, cfgPort(80))
	v1 := latest(t, s)
	drain(s)
	postAck(t, hs, "p1", ir.Ack{Version: v1})
	if !fired(s) {
		t.Fatal("Changes did not fire on the first ack")
	}
	postAck(t, hs, "p2", ir.Ack{Version: v1})
	select {
	case <-s.Changes():
		t.Fatal("Changes fired though Ack did not change")
	default:
	}
	postAck(t, hs, "p2", ir.Ack{Version: v1, Error: "refused"})
	if !fired(s) {
		t.Fatal("Changes did not fire on a nack")
	}
	// Coalescing: many changes, one pending signal.
	postAck(t, hs, "p2", ir.Ack{Version: v1})
	postAck(t, hs, "p2", ir.Ack{Version: v1, ListenerErrors: map[string]string{":80": "x"}})
	if !fired(s) {
		t.Fatal("Changes did not fire")
	}
	select {
	case <-s.Changes():
		t.Fatal("Changes not coalesced")
	default:
	}
}

func TestProxyExpiry(t *testing.T) {
	s, hs := newTestServer(t, func(s *Server) { s.ProxyExpiry = 100 * time.Millisecond })
	s.Publish(gw, cfgPort(80))
	v1 := latest(t, s)
	postAck(t, hs, "p1", ir.Ack{Version: v1, Error: "refused"})
	drain(s)
	// The proxy goes away: its nack stops counting, and Changes says so.
	if !fired(s) {
		t.Fatal("Changes did not fire when the proxy expired")
	}
	if a := s.Ack(gw); a != nil {
		t.Errorf("Ack of an expired proxy: %+v", a)
	}
	if p := s.Proxies(gw); len(p) != 0 {
		t.Errorf("Proxies after expiry: %+v", p)
	}
}

func TestTokenEnforced(t *testing.T) {
	s, hs := newTestServer(t, func(s *Server) { s.Token = "s3cret" })
	s.Publish(gw, cfgPort(80))
	for _, token := range []string{"", "wrong"} {
		if code, _ := get(t, hs, token, 0, "p1"); code != http.StatusUnauthorized {
			t.Errorf("poll with token %q: %d, want 401", token, code)
		}
	}
	if code := postAck(t, hs, "p1", ir.Ack{Version: 1}); code != http.StatusUnauthorized {
		t.Errorf("ack without token: %d, want 401", code)
	}
	if code, _ := get(t, hs, "s3cret", 0, "p1"); code != http.StatusOK {
		t.Errorf("poll with the token: %d, want 200", code)
	}
}
