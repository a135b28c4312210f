package proxy

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/backend"
	"portico.dev/portico/internal/proxy/h1"
	"portico.dev/portico/internal/proxy/router"
)

// generation is everything one socket serves for one Config: immutable once
// built, replaced as a whole by the next Apply.
type generation struct {
	handler http.Handler  // the match table; answers 404 and 421 itself
	table   *router.Table // the same, for the HTTP/1.1 engine's fast path
	sni     *sniTable     // HTTPS only
}

// builder builds the generations of one Config.
type builder struct {
	up      *backend.Builder
	mirrors *backend.MirrorLimiter
	// fast holds the HTTP/1.1 engine's upstream pools; fastKeys records
	// the endpoints the generation's fast routes use.
	fast     *h1.Pool
	fastKeys map[string]struct{}
	// upstreamTimeout is the default bound on the wait for a response
	// head (Options.UpstreamTimeout; 0: none).
	upstreamTimeout time.Duration
}

// build validates l and builds its generation without side effects other
// than creating (not dialing) upstream transports in the pool.
func (b *builder) build(l *ir.Listener) (*generation, error) {
	if err := validateListener(l); err != nil {
		return nil, err
	}
	g := &generation{}
	if l.Protocol == ir.ProtocolHTTPS {
		sni, err := newSNITable(l)
		if err != nil {
			return nil, err
		}
		g.sni = sni
	}
	m := b.up.NewMirrors(b.mirrors)
	table, err := router.New(l, func(vh *ir.VirtualHost, route *ir.HTTPRoute, rule *ir.HTTPRule) (http.Handler, error) {
		return b.rule(l, rule, m)
	}, router.WithPreRouting(b.preRouting))
	if err != nil {
		return nil, err
	}
	if err := b.up.Err(); err != nil {
		return nil, err
	}
	g.handler, g.table = table, table
	return g, nil
}

// rule builds the handler of one rule: request timeout, rule filters,
// weighted split, then per backend its own filters and the forwarder.
func (b *builder) rule(l *ir.Listener, rule *ir.HTTPRule, m *backend.Mirrors) (http.Handler, error) {
	pol := backend.Policy{Timeouts: rule.Timeouts, Retry: rule.Retry}
	if rule.Timeouts.Request <= 0 && rule.Timeouts.BackendRequest <= 0 {
		pol.HeadTimeout = b.upstreamTimeout
	}
	keepHost := rewritesHost(&rule.Filters)
	ws := make([]backend.Weighted, len(rule.Backends))
	for i := range rule.Backends {
		be := &rule.Backends[i]
		h := b.up.Backend(be, pol)
		// An invalid or empty backend answers by itself; its filters
		// would have nothing to act on.
		if be.Invalid == "" && len(be.Endpoints) > 0 {
			var err error
			if h, err = b.chain(fmt.Sprintf("backend %q filters", be.Name), be.Filters, l.Port, h, m); err != nil {
				return nil, err
			}
			keepHost = keepHost || rewritesHost(be.Filters)
		}
		ws[i] = backend.Weighted{Weight: be.Weight, Handler: h}
	}
	h, err := b.chain("filters", &rule.Filters, l.Port, backend.Split(ws), m)
	if err != nil {
		return nil, err
	}
	h = backend.WithRequestTimeout(time.Duration(rule.Timeouts.Request), h)
	if keepHost {
		h = backend.KeepOriginalHost(h)
	}
	return &ruleHandler{Handler: h, fast: b.fastRoute(rule)}, nil
}

// validateListener checks what the socket needs; routes are checked by the
// router as it compiles them.
func validateListener(l *ir.Listener) error {
	if l.Port < 1 || l.Port > 65535 {
		return fmt.Errorf("port %d is out of range 1-65535", l.Port)
	}
	if l.Address != "" {
		if _, err := netip.ParseAddr(l.Address); err != nil {
			return fmt.Errorf("address %q is not an IP address", l.Address)
		}
	}
	if want := net.JoinHostPort(l.Address, strconv.Itoa(int(l.Port))); l.Name != want {
		return fmt.Errorf("name %q does not match address and port (want %q)", l.Name, want)
	}
	switch l.Protocol {
	case ir.ProtocolHTTP, ir.ProtocolHTTPS:
	default:
		return fmt.Errorf("protocol %q is not served (want HTTP or HTTPS)", l.Protocol)
	}
	return nil
}
