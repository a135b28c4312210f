package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// peer is one proxy under test.
type peer struct {
	name string
	// start writes the peer's configuration for m into l.dir and starts it
	// (under taskset when prefix says so).
	start func(l *layout, m mode, prefix []string, ncpu int) (*proc, error)
}

var allPeers = []peer{
	{"portico", startPortico},
	{"nginx", startNginx},
	{"haproxy", startHAProxy},
	{"caddy", startCaddy},
}

// porticoBin is the binary under test (flag -portico).
var porticoBin = "bin/portico"

func startPortico(l *layout, m mode, prefix []string, _ int) (*proc, error) {
	dir := filepath.Join(l.dir, "portico")
	if err := os.WriteFile(filepath.Join(dir, "bench.yaml"), []byte(porticoConfig(l)), 0o644); err != nil {
		return nil, err
	}
	var env []string
	if m.Pinned {
		env = append(env, "GOMAXPROCS=1")
	}
	argv := append(prefix, porticoBin, "run", "--config", dir,
		"--admin-address", "127.0.0.1:"+strconv.Itoa(l.admin), "--bind-address", "127.0.0.1", "--log-level", "warn")
	argv = append(argv, porticoExtraArgs...)
	return tracked.start("portico", filepath.Join(l.dir, "portico.log"), env, argv...)
}

// porticoExtraArgs are appended to "portico run" (flag -portico-args), for
// example a CPU profile.
var porticoExtraArgs []string

func startNginx(l *layout, m mode, prefix []string, _ int) (*proc, error) {
	conf := filepath.Join(l.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxProxy(l, m.Pinned)), 0o644); err != nil {
		return nil, err
	}
	argv := append(prefix, "nginx", "-p", l.dir, "-e", filepath.Join(l.dir, "nginx-error.log"), "-c", conf)
	return tracked.start("nginx", filepath.Join(l.dir, "nginx.log"), nil, argv...)
}

func startHAProxy(l *layout, m mode, prefix []string, ncpu int) (*proc, error) {
	conf := filepath.Join(l.dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(haproxyConfig(l, m.Pinned, ncpu)), 0o644); err != nil {
		return nil, err
	}
	argv := append(prefix, "haproxy", "-db", "-f", conf)
	return tracked.start("haproxy", filepath.Join(l.dir, "haproxy.log"), nil, argv...)
}

func startCaddy(l *layout, m mode, prefix []string, _ int) (*proc, error) {
	conf := filepath.Join(l.dir, "Caddyfile")
	if err := os.WriteFile(conf, []byte(caddyfile(l)), 0o644); err != nil {
		return nil, err
	}
	home := filepath.Join(l.dir, "caddy-home")
	env := []string{"HOME=" + home, "XDG_DATA_HOME=" + home, "XDG_CONFIG_HOME=" + home}
	if m.Pinned {
		env = append(env, "GOMAXPROCS=1")
	}
	argv := append(prefix, "caddy", "run", "--config", conf, "--adapter", "caddyfile")
	return tracked.start("caddy", filepath.Join(l.dir, "caddy.log"), env, argv...)
}

func startUpstream(l *layout) (*proc, error) {
	conf := filepath.Join(l.dir, "upstream.conf")
	if err := os.WriteFile(conf, []byte(upstreamNginx(l)), 0o644); err != nil {
		return nil, err
	}
	return tracked.start("upstream", filepath.Join(l.dir, "upstream.log"), nil,
		"nginx", "-p", l.dir, "-e", filepath.Join(l.dir, "upstream-error.log"), "-c", conf)
}

// clients for the checks: cleartext, TLS with HTTP/1.1 only, TLS with h2.
type checkClients struct {
	h1, h1tls, h2tls *http.Client
}

func newCheckClients(l *layout) *checkClients {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(l.certPEM)
	tlsCfg := func(protos ...string) *tls.Config {
		return &tls.Config{RootCAs: roots, ServerName: benchHost, NextProtos: protos}
	}
	mk := func(t *http.Transport) *http.Client {
		t.Proxy = nil
		t.DisableCompression = true
		return &http.Client{Transport: t, Timeout: 5 * time.Second}
	}
	h1tls := &http.Transport{TLSClientConfig: tlsCfg("http/1.1"), TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	h2tls := &http.Transport{TLSClientConfig: tlsCfg("h2"), ForceAttemptHTTP2: true}
	return &checkClients{h1: mk(&http.Transport{}), h1tls: mk(h1tls), h2tls: mk(h2tls)}
}

// get sends GET benchPath with Host benchHost and returns the status,
// protocol and body.
func get(c *http.Client, url string) (int, int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, "", err
	}
	req.Host = benchHost
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, resp.ProtoMajor, string(b), err
}

// waitReady polls the proxy's cleartext port until it answers 200 from the
// upstream, for at most timeout.
func waitReady(c *checkClients, l *layout, p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	url := fmt.Sprintf("http://127.0.0.1:%d%s", l.http, benchPath)
	var last string
	for i := 0; time.Now().Before(deadline) && i < 100000; i++ {
		if done, err := p.exited(); done {
			return fmt.Errorf("%s exited: %v (see %s)", p.name, err, filepath.Join(l.dir, p.name+".log"))
		}
		code, _, body, err := get(c.h1, url)
		if err == nil && code == 200 && strings.HasPrefix(body, "upstream-") {
			return nil
		}
		last = fmt.Sprintf("status %d, err %v", code, err)
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %s", p.name, timeout, last)
}

// checkEquivalent proves the configuration is the one we mean: over each
// protocol, the host and prefix route to both upstream endpoints in turn,
// h2 is negotiated where expected, and another host or path is not routed
// upstream.
func checkEquivalent(c *checkClients, l *layout) error {
	for _, t := range []struct {
		name   string
		client *http.Client
		url    string
		proto  int
	}{
		{"HTTP/1.1", c.h1, fmt.Sprintf("http://127.0.0.1:%d%s", l.http, benchPath), 1},
		{"HTTP/1.1 over TLS", c.h1tls, fmt.Sprintf("https://127.0.0.1:%d%s", l.tls, benchPath), 1},
		{"HTTP/2 over TLS", c.h2tls, fmt.Sprintf("https://127.0.0.1:%d%s", l.tls, benchPath), 2},
	} {
		seen := map[string]bool{}
		for range 6 {
			code, proto, body, err := get(t.client, t.url)
			if err != nil {
				return fmt.Errorf("%s: %v", t.name, err)
			}
			if code != 200 || proto != t.proto {
				return fmt.Errorf("%s: status %d over HTTP/%d, want 200 over HTTP/%d", t.name, code, proto, t.proto)
			}
			seen[body] = true
		}
		if !seen[upstreamBody(0)] || !seen[upstreamBody(1)] {
			return fmt.Errorf("%s: six requests did not reach both upstream endpoints (%d distinct answers)", t.name, len(seen))
		}
	}
	code, _, body, err := get(c.h1, fmt.Sprintf("http://127.0.0.1:%d/other", l.http))
	if err != nil {
		return err
	}
	if strings.HasPrefix(body, "upstream-") || code == 200 {
		return fmt.Errorf("a path outside %s reached the upstream (status %d)", benchPrefix, code)
	}
	return nil
}
