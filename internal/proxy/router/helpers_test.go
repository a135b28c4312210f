package router

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"portico.dev/portico/internal/ir"
)

// tag is a handler that names the rule it serves: "route#rule".
type tag string

func (tag) ServeHTTP(http.ResponseWriter, *http.Request) {}

func buildTag(_ *ir.VirtualHost, route *ir.HTTPRoute, rule *ir.HTTPRule) (http.Handler, error) {
	return tag(fmt.Sprintf("%s#%d", route.Name, rule.Index)), nil
}

func prefix(v string) ir.HTTPMatch {
	return ir.HTTPMatch{Path: ir.PathMatch{Type: ir.PathPrefix, Value: v}}
}
func exact(v string) ir.HTTPMatch {
	return ir.HTTPMatch{Path: ir.PathMatch{Type: ir.PathExact, Value: v}}
}
func regex(v string) ir.HTTPMatch {
	return ir.HTTPMatch{Path: ir.PathMatch{Type: ir.PathRegex, Value: v}}
}

// rules makes one rule per match list, indexed in order.
func rules(matches ...[]ir.HTTPMatch) []ir.HTTPRule {
	out := make([]ir.HTTPRule, len(matches))
	for i, m := range matches {
		out[i] = ir.HTTPRule{Index: i, Matches: m}
	}
	return out
}

func route(name string, hostnames []ir.RouteHostname, matches ...[]ir.HTTPMatch) ir.HTTPRoute {
	return ir.HTTPRoute{Name: name, Hostnames: hostnames, Rules: rules(matches...)}
}

// hn is a route hostname whose Match is its Precedence (listener without
// hostname); hnI is one narrowed by a listener hostname.
func hn(h string) []ir.RouteHostname { return []ir.RouteHostname{{Match: h, Precedence: h}} }
func hnI(match, prec string) []ir.RouteHostname {
	return []ir.RouteHostname{{Match: match, Precedence: prec}}
}

func ms(m ...ir.HTTPMatch) []ir.HTTPMatch { return m }

func mustNew(t testing.TB, l *ir.Listener) *Table {
	t.Helper()
	tb, err := New(l, buildTag)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tb
}

func listener(vhs ...ir.VirtualHost) *ir.Listener {
	return &ir.Listener{Name: "0.0.0.0:80", Port: 80, Protocol: ir.ProtocolHTTP, VirtualHosts: vhs}
}

// req builds a request; target may carry a query.
func req(method, host, target string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

// decide returns the tag of the chosen rule or the status as a string.
func decide(tb *Table, r *http.Request, sni string) string {
	res := tb.Route(r, sni)
	if res.Handler == nil {
		return fmt.Sprint(res.Status)
	}
	return string(res.Handler.(tag))
}
