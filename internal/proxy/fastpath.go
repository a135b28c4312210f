package proxy

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/h1"
	"portico.dev/portico/internal/proxy/h2"
	"portico.dev/portico/internal/proxy/router"
)

// ruleHandler is a rule's handler (filters and backends, for the fallback
// path and net/http) with, when the rule allows it, the h1.Route the
// HTTP/1.1 engine's fast path serves it with.
type ruleHandler struct {
	http.Handler
	fast *h1.Route
}

// RouteH1 lets the H1 engine route a request from its parsed head: it
// returns the fast-path Route of the matched rule, or nil (no match, 421,
// a pre-routing handler to run, or a rule the fast path cannot serve), in
// which case the engine calls ServeHTTP.
func (s *socket) RouteH1(req *h1.Request) *h1.Route {
	return s.gen.Load().routeH1(req)
}

// RouteH2 is RouteH1 for the HTTP/2 engine.
func (s *socket) RouteH2(req *h2.Request) *h1.Route {
	return s.gen.Load().routeFast(req, req.SNI())
}

// fastRequest is what routing reads of a request parsed by an engine.
type fastRequest interface {
	Method() string
	Host() string
	Path() string
	RawQuery() string
	router.HeaderSource
}

func (g *generation) routeH1(req *h1.Request) *h1.Route {
	return g.routeFast(req, req.SNI())
}

func (g *generation) routeFast(req fastRequest, sni string) *h1.Route {
	f := router.Fields{Method: req.Method(), Host: req.Host(), Path: req.Path(), RawQuery: req.RawQuery(), Header: req}
	res, pre := g.table.RouteFields(&f, sni)
	if pre || res.Handler == nil {
		return nil
	}
	if rh, ok := res.Handler.(*ruleHandler); ok {
		return rh.fast
	}
	return nil
}

// fastRoute builds the fast-path Route of rule, or returns nil when the
// rule needs something only the http.Handler does: redirects, rewrites,
// CORS, mirrors, retries, header modifiers of fields the engine manages
// (h1.Reserved), invalid or empty backends, h2c or TLS backends.
func (b *builder) fastRoute(rule *ir.HTTPRule) *h1.Route {
	f := &rule.Filters
	if !fastFilters(f) || rule.Retry != nil && rule.Retry.Attempts > 0 {
		return nil
	}
	var bcs []h1.BackendConfig
	for i := range rule.Backends {
		be := &rule.Backends[i]
		if be.Weight <= 0 {
			continue
		}
		if be.Invalid != "" || len(be.Endpoints) == 0 || be.Protocol == ir.BackendH2C || be.TLS != nil || !fastFilters(be.Filters) {
			return nil
		}
		bc := h1.BackendConfig{Weight: be.Weight}
		for _, ep := range be.Endpoints {
			addr := net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port)))
			b.fastKeys[addr] = struct{}{}
			bc.Endpoints = append(bc.Endpoints, b.fast.Endpoint(addr))
		}
		var beReq, beResp *ir.HeaderModifier
		if be.Filters != nil {
			beReq, beResp = be.Filters.RequestHeaders, be.Filters.ResponseHeaders
		}
		// Requests: the rule's filters run first; responses: the backend's
		// edit first (its writer is the inner one).
		bc.Request = h1.ComposeEdits(modifier(f.RequestHeaders), modifier(beReq))
		bc.Response = h1.ComposeEdits(modifier(beResp), modifier(f.ResponseHeaders))
		bcs = append(bcs, bc)
	}
	return h1.NewRoute(bcs, time.Duration(rule.Timeouts.Request), time.Duration(rule.Timeouts.BackendRequest)).SetDefaultTimeout(b.upstreamTimeout)
}

// fastFilters reports whether f holds only header modifiers of fields the
// fast path may edit.
func fastFilters(f *ir.HTTPFilters) bool {
	if f == nil {
		return true
	}
	if f.CORS != nil || f.Redirect != nil || f.Rewrite != nil || len(f.Mirrors) > 0 {
		return false
	}
	return fastModifier(f.RequestHeaders) && fastModifier(f.ResponseHeaders)
}

func fastModifier(m *ir.HeaderModifier) bool {
	if m == nil {
		return true
	}
	for _, h := range m.Set {
		if h1.Reserved(h.Name) {
			return false
		}
	}
	for _, h := range m.Add {
		if h1.Reserved(h.Name) {
			return false
		}
	}
	for _, n := range m.Remove {
		if h1.Reserved(n) {
			return false
		}
	}
	return true
}

func modifier(m *ir.HeaderModifier) *h1.HeaderModifier {
	if m == nil {
		return nil
	}
	out := &h1.HeaderModifier{Remove: m.Remove}
	for _, h := range m.Set {
		out.Set = append(out.Set, h1.Header{Name: h.Name, Value: h.Value})
	}
	for _, h := range m.Add {
		out.Add = append(out.Add, h1.Header{Name: h.Name, Value: h.Value})
	}
	return out
}
