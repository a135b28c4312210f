package cli

import (
	"flag"
	"strings"
	"time"

	"portico.dev/portico/internal/proxy"
)

// listenerLimits are the flags of run and proxy that protect listening
// sockets, upstream connections and the admin API.
type listenerLimits struct {
	maxConns        *int
	headerTimeout   *time.Duration
	upstreamTimeout *time.Duration
	allowedHosts    *string
}

func listenerFlags(fs *flag.FlagSet) listenerLimits {
	return listenerLimits{
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

// options sets the socket limits of o.
func (l listenerLimits) options(o proxy.Options) proxy.Options {
	o.MaxConnections = *l.maxConns
	o.ReadHeaderTimeout = *l.headerTimeout
	o.UpstreamTimeout = *l.upstreamTimeout
	if o.UpstreamTimeout <= 0 {
		o.UpstreamTimeout = -1 // 0 on the command line means none
	}
	return o
}

func (l listenerLimits) adminHosts() []string {
	if *l.allowedHosts == "" {
		return nil
	}
	return strings.Split(*l.allowedHosts, ",")
}
