package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"portico.dev/portico/internal/proxy"
)

// The environment variables run and proxy read, as the defaults of their
// flags. Only this package reads the environment; the libraries take
// options.
const (
	// envHTTPEngine is --http-engine's default: h1 or nethttp.
	envHTTPEngine = "PORTICO_HTTP_ENGINE"
	// envReadiness=off makes --readiness default to false.
	envReadiness = "PORTICO_READINESS"
)

// listenerLimits are the flags of run and proxy that configure the proxy:
// the HTTP engine, readiness hints, and the limits that protect listening
// sockets, upstream connections and the admin API.
type listenerLimits struct {
	engine          *string
	readiness       *bool
	maxConns        *int
	headerTimeout   *time.Duration
	upstreamTimeout *time.Duration
	allowedHosts    *string
}

func listenerFlags(fs *flag.FlagSet) listenerLimits {
	return listenerLimits{
		engine: fs.String("http-engine", os.Getenv(envHTTPEngine),
			"HTTP engine: h1 (purpose-built HTTP/1.1 fast path, default) or nethttp (net/http only, behind h1's request parser); default from $"+envHTTPEngine),
		readiness: fs.Bool("readiness", os.Getenv(envReadiness) != "off",
			"wait for reads with the proxy's own epoll readiness hints (false: Go's poller only); $"+envReadiness+"=off makes false the default"),
		maxConns: fs.Int("max-connections", 0,
			"connections each listening socket holds open at once; past it, new ones wait in the kernel backlog (0: half the file descriptor limit, at most 50000; -1: no limit)"),
		headerTimeout: fs.Duration("read-header-timeout", 0,
			"time a client has to send a request head, from its first byte (0: 30s)"),
		upstreamTimeout: fs.Duration("upstream-timeout", proxy.DefaultUpstreamTimeout,
			"how long to wait for an upstream's response head on routes that set no timeouts (0: forever)"),
		allowedHosts: fs.String("admin-allowed-hosts", "",
			"comma-separated Host names the admin API answers besides localhost, loopback IPs and the IP it is bound to (\"*\": any; protects against DNS rebinding)"),
	}
}

// options sets the engine, readiness and socket limits of o; the error
// names the flag.
func (l listenerLimits) options(o proxy.Options) (proxy.Options, error) {
	engine, err := proxy.EngineByName(*l.engine)
	if err != nil {
		return o, fmt.Errorf("--http-engine: %w", err)
	}
	o.Engine = engine
	o.DisableReadiness = !*l.readiness
	o.MaxConnections = *l.maxConns
	o.ReadHeaderTimeout = *l.headerTimeout
	o.UpstreamTimeout = *l.upstreamTimeout
	if o.UpstreamTimeout <= 0 {
		o.UpstreamTimeout = -1 // 0 on the command line means none
	}
	return o, nil
}

func (l listenerLimits) adminHosts() []string {
	if *l.allowedHosts == "" {
		return nil
	}
	return strings.Split(*l.allowedHosts, ",")
}
