package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/configsync"
	"portico.dev/portico/internal/ir"
)

// proxyConfig is what a controller would send for Gateway default/gw with
// one HTTP listener on port (address left to the proxy, as in a cluster)
// routing everything to b, with response header X-Config-Version: tag.
func proxyConfig(port int, b backend, tag string) ir.Config {
	return ir.Config{Listeners: []ir.Listener{{
		Name: ":" + strconv.Itoa(port), Port: int32(port), Protocol: ir.ProtocolHTTP,
		VirtualHosts: []ir.VirtualHost{{
			Name: "default/gw/http",
			Routes: []ir.HTTPRoute{{
				Name: "default/r",
				Rules: []ir.HTTPRule{{
					Matches: []ir.HTTPMatch{{Path: ir.PathMatch{Type: ir.PathPrefix, Value: "/"}}},
					Filters: ir.HTTPFilters{ResponseHeaders: &ir.HeaderModifier{Set: []ir.Header{{Name: "X-Config-Version", Value: tag}}}},
					Backends: []ir.Backend{{
						Name: "default/" + b.Name + ":80", Weight: 1,
						Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: int32(b.Port)}},
					}},
				}},
			}},
		}},
	}}}
}

// startProxy runs `portico proxy` against controller for default/gw and
// stops it by PID when the test ends.
func startProxy(t *testing.T, controller, tokenFile string) *portico {
	t.Helper()
	p := &portico{t: t, admin: freeAddr(t)}
	p.start("proxy",
		"--controller", controller,
		"--gateway", "default/gw",
		"--bind-address", "127.0.0.1",
		"--admin-address", p.admin,
		"--proxy-id", "proxy-0",
		"--token-file", tokenFile,
		"--drain-timeout", "2s",
		"--log-level", "debug")
	return p
}

// waitAck waits for Changes until the Server's Ack of default/gw is for
// version.
func waitAck(t *testing.T, s *configsync.Server, version uint64) *ir.Ack {
	t.Helper()
	deadline := time.After(reloadTimeout)
	for {
		if a := s.Ack("default/gw"); a != nil && a.Version == version {
			return a
		}
		select {
		case <-s.Changes():
		case <-deadline:
			t.Fatalf("no ack of version %d within %v; Ack = %+v, proxies %+v", version, reloadTimeout, s.Ack("default/gw"), s.Proxies("default/gw"))
		}
	}
}

// TestProxyFollowsController runs `portico proxy` against an in-process
// config stream: readiness waits for a config, traffic flows, a new version
// is applied and acked, and the proxy keeps serving when the controller
// goes away.
func TestProxyFollowsController(t *testing.T) {
	b := startBackend(t, "echo-a")
	port := freePort(t)
	gw := "127.0.0.1:" + strconv.Itoa(port)

	srv := configsync.NewServer(nil)
	srv.Token = "e2e-token"
	srv.PollTimeout = time.Second
	ctl := httptest.NewServer(srv.Handler())
	stopCtl := func() { ctl.CloseClientConnections(); ctl.Close() }
	t.Cleanup(stopCtl)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("e2e-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startProxy(t, ctl.URL, tokenFile)
	// Alive but not ready before the controller has a config for it.
	eventually(t, readyTimeout, "the proxy to poll the controller", func() error {
		if err := p.alive(); err != nil {
			return stopPolling{err}
		}
		if len(srv.Proxies("default/gw")) == 0 {
			return fmt.Errorf("no proxy polling")
		}
		return nil
	})
	if _, err := p.adminGet("/healthz"); err != nil {
		t.Fatal(err)
	}
	if body, err := p.adminGet("/readyz"); err == nil {
		t.Fatalf("/readyz answered 200 (%s) before any config", body)
	}

	client := newClient()
	expect := func(tag string) func() error {
		return func() error {
			ans, err := do(client, request(gw, "", "/hello"))
			if err != nil {
				return err
			}
			if err := expectPod(ans, "echo-a"); err != nil {
				return err
			}
			if got := ans.Header.Get("X-Config-Version"); got != tag {
				return fmt.Errorf("X-Config-Version %q, want %q", got, tag)
			}
			return nil
		}
	}

	srv.Publish("default/gw", proxyConfig(port, b, "1"))
	v1, _ := srv.Latest("default/gw")
	p.waitReady()
	eventually(t, reloadTimeout, "traffic through the proxy", expect("1"))
	if a := waitAck(t, srv, v1); a.Error != "" || len(a.ListenerErrors) != 0 {
		t.Fatalf("ack of version %d: %+v", v1, a)
	}
	infos := srv.Proxies("default/gw")
	if len(infos) != 1 || infos[0].ID != "proxy-0" || infos[0].Version != v1 {
		t.Errorf("Proxies: %+v", infos)
	}

	// A new version: applied, acked (Changes fires), served.
	srv.Publish("default/gw", proxyConfig(port, b, "2"))
	v2, _ := srv.Latest("default/gw")
	if v2 <= v1 {
		t.Fatalf("version %d after %d", v2, v1)
	}
	waitAck(t, srv, v2)
	eventually(t, reloadTimeout, "the second version to be served", expect("2"))

	// /config shows the config served, bound to --bind-address.
	body, err := p.adminGet("/config")
	if err != nil {
		t.Fatal(err)
	}
	var served ir.Config
	if err := json.Unmarshal(body, &served); err != nil {
		t.Fatalf("/config: %v\n%s", err, body)
	}
	if served.Version != v2 || len(served.Listeners) != 1 || served.Listeners[0].Name != gw || served.Listeners[0].Address != "127.0.0.1" {
		t.Errorf("/config: version %d, listeners %+v; want version %d on %s", served.Version, served.Listeners, v2, gw)
	}

	// The controller goes away: the proxy keeps serving version 2 and
	// stays ready while it retries.
	stopCtl()
	for i := 0; i < 10; i++ {
		if err := expect("2")(); err != nil {
			t.Fatalf("request %d with the controller away: %v", i, err)
		}
		time.Sleep(150 * time.Millisecond)
	}
	if _, err := p.adminGet("/readyz"); err != nil {
		t.Errorf("/readyz with the controller away: %v", err)
	}
	if err := p.alive(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.output.String(), "still serving the last config, retrying") {
		t.Errorf("no retry logged with the controller away")
	}

	// SIGTERM: a clean exit.
	p.stop()
	if p.err != nil {
		t.Errorf("portico proxy exited with %v after SIGTERM; output:\n%s", p.err, tail(p.output.String(), 8<<10))
	}
}

// TestProxyWrongToken checks that a proxy with the wrong token applies
// nothing and says why.
func TestProxyWrongToken(t *testing.T) {
	srv := configsync.NewServer(nil)
	srv.Token = "right"
	srv.Publish("default/gw", ir.Config{})
	ctl := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ctl.CloseClientConnections(); ctl.Close() })
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("wrong"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, ctl.URL, tokenFile)
	eventually(t, readyTimeout, "the proxy to log the refusal", func() error {
		if err := p.alive(); err != nil {
			return stopPolling{err}
		}
		if !strings.Contains(p.output.String(), "401") {
			return fmt.Errorf("no 401 in the output yet")
		}
		return nil
	})
	if body, err := p.adminGet("/readyz"); err == nil {
		t.Errorf("/readyz answered 200 (%s) with the wrong token", body)
	}
	if a := srv.Ack("default/gw"); a != nil {
		t.Errorf("Ack with the wrong token: %+v", a)
	}
}
