package h1

import (
	"math/rand/v2"
	"net/textproto"
	"sync/atomic"
	"time"

	"portico.dev/portico/internal/proxy/health"
)

// Route is what the fast path does with the requests of one rule, built
// once per configuration: spread requests over weighted backends, round
// robin over each backend's endpoints, edit headers, bound the exchange.
type Route struct {
	backends []routeBackend
	upTo     []uint64 // cumulative weights
	total    uint64
	// RequestTimeout bounds the whole exchange (ir.Timeouts.Request),
	// BackendTimeout one attempt (ir.Timeouts.BackendRequest); 0: none.
	requestTimeout, backendTimeout time.Duration
	// headTimeout bounds the wait for the response head when the rule
	// sets neither timeout (see SetDefaultTimeout); 0: none.
	headTimeout time.Duration
}

// SetDefaultTimeout makes d (0: none) the bound on the wait for the
// response head, from the request's write, when the rule sets neither
// timeout; it returns rt (nil stays nil).
func (rt *Route) SetDefaultTimeout(d time.Duration) *Route {
	if rt != nil && rt.requestTimeout <= 0 && rt.backendTimeout <= 0 {
		rt.headTimeout = d
	}
	return rt
}

type routeBackend struct {
	endpoints []*Endpoint
	next      atomic.Uint32
	req, resp *Edits // rule edits, then the backend's, composed
}

// BackendConfig is one backend of a Route: its weight, endpoints and the
// header edits of its filters (nil: none).
type BackendConfig struct {
	Weight    int32
	Endpoints []*Endpoint
	Request   *Edits
	Response  *Edits
}

// NewRoute builds a Route. Backends of weight 0 get nothing; it returns nil
// when no backend has weight or a backend has no endpoint (those answers
// belong to the fallback path).
func NewRoute(backends []BackendConfig, requestTimeout, backendTimeout time.Duration) *Route {
	rt := &Route{requestTimeout: requestTimeout, backendTimeout: backendTimeout}
	for _, b := range backends {
		if b.Weight <= 0 {
			continue
		}
		if len(b.Endpoints) == 0 {
			return nil
		}
		rt.total += uint64(b.Weight)
		rt.upTo = append(rt.upTo, rt.total)
		rt.backends = append(rt.backends, routeBackend{endpoints: b.Endpoints, req: b.Request, resp: b.Response})
	}
	if len(rt.backends) == 0 {
		return nil
	}
	return rt
}

// pick chooses a backend by weight, then its next endpoint round robin,
// passing over endpoints whose connects fail (package health; a healthy
// endpoint costs one atomic load).
func (rt *Route) pick() Pick {
	b := &rt.backends[0]
	if len(rt.backends) > 1 {
		n := rand.Uint64N(rt.total)
		i := 0
		for n >= rt.upTo[i] {
			i++
		}
		b = &rt.backends[i]
	}
	start := 0
	if len(b.endpoints) > 1 {
		start = int((b.next.Add(1) - 1) % uint32(len(b.endpoints)))
	}
	p := Pick{be: b, cur: health.NewCursor(len(b.endpoints), start), head: rt.headTimeout}
	i, _ := p.cur.Next(b.skip)
	p.ep = b.endpoints[i]
	return p
}

// skip reports whether endpoint i is to be passed over.
func (b *routeBackend) skip(i int) bool { return b.endpoints[i].health.Skip() }

// Header is one header field to set or add.
type Header struct{ Name, Value string }

// HeaderModifier is one RequestHeaderModifier or ResponseHeaderModifier:
// set, then add, then remove, as the filter package applies them.
type HeaderModifier struct {
	Set, Add []Header
	Remove   []string
}

// Edits is the net effect of a sequence of HeaderModifiers on a header:
// which original fields are dropped and which fields are appended.
type Edits struct {
	drop   []string // lower-case names whose original fields are dropped
	append []field  // appended in order, names canonical
}

// ComposeEdits returns the net effect of applying mods in order (nil
// entries skipped); nil when there is nothing to do.
func ComposeEdits(mods ...*HeaderModifier) *Edits {
	type state struct {
		drop   bool
		values []string
	}
	names := []string{}
	st := map[string]*state{}
	get := func(name string) *state {
		c := textproto.CanonicalMIMEHeaderKey(name)
		s, ok := st[c]
		if !ok {
			s = &state{}
			st[c] = s
			names = append(names, c)
		}
		return s
	}
	any := false
	for _, m := range mods {
		if m == nil {
			continue
		}
		for _, h := range m.Set {
			s := get(h.Name)
			s.drop, s.values = true, []string{h.Value}
			any = true
		}
		for _, h := range m.Add {
			s := get(h.Name)
			s.values = append(s.values, h.Value)
			any = true
		}
		for _, n := range m.Remove {
			s := get(n)
			s.drop, s.values = true, nil
			any = true
		}
	}
	if !any {
		return nil
	}
	e := &Edits{}
	for _, n := range names {
		s := st[n]
		if s.drop {
			e.drop = append(e.drop, lower(n))
		}
		for _, v := range s.values {
			e.append = append(e.append, field{name: n, value: v})
		}
	}
	return e
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// drops reports whether e drops the original fields named name.
func (e *Edits) drops(name string) bool {
	if e == nil {
		return false
	}
	for _, d := range e.drop {
		if len(d) == len(name) && asciiEqualFold(name, d) {
			return true
		}
	}
	return false
}

// Reserved reports whether a header modifier naming name must be left to
// the fallback path: the fields the fast path itself writes or interprets
// (framing, hop-by-hop, Host, forwarding).
func Reserved(name string) bool {
	switch lower(name) {
	case "host", "content-length", "transfer-encoding", "connection", "keep-alive",
		"proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
		"upgrade", "expect", "forwarded", "x-forwarded-for", "x-forwarded-host",
		"x-forwarded-proto", "date":
		return true
	}
	return false
}
