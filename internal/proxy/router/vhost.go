package router

import (
	"fmt"
	"net/http"
	"slices"

	"portico.dev/portico/internal/hostname"
	"portico.dev/portico/internal/ir"
)

// group holds the entries of every route hostname with the same Match and
// Precedence on one virtual host, sorted by match precedence.
type group struct {
	match     hostname.Name
	prec      hostname.Name
	entries   []*entry
	index     *pathIndex // nil for small groups, which are scanned
	lastRoute int        // route index last appended, to skip repeated hostnames
}

// candidates is what a host may match, most specific hostname group first.
// A request takes the first matching entry of the first group that has one:
// the fall-through of GatewayRouteHostnameIntersectionPrecedence.
type candidates []*group

type vhost struct {
	routes hostname.Index[candidates]
	// pre runs before route matching and ends in serve; nil when the
	// virtual host has nothing to run first.
	pre http.Handler
}

// find returns the first entry matching q among the candidates for host.
func (v *vhost) find(q *query, host string) *entry {
	groups, ok := v.routes.Lookup(host)
	if !ok {
		return nil
	}
	for _, g := range groups {
		if e := g.find(q); e != nil {
			return e
		}
	}
	return nil
}

// find is the linear scan a path tree may later replace.
func (g *group) find(q *query) *entry {
	if g.index != nil {
		return g.index.find(q)
	}
	return first(g.entries, q)
}

func newVHost(vh *ir.VirtualHost, build BuildFunc) (*vhost, error) {
	type bucketKey struct{ match, prec hostname.Name }
	buckets := map[bucketKey]*group{}
	var all []*group
	for ri := range vh.Routes {
		route := &vh.Routes[ri]
		entries, err := routeEntries(vh, route, ri, build)
		if err != nil {
			return nil, err
		}
		hostnames := route.Hostnames
		if len(hostnames) == 0 {
			hostnames = []ir.RouteHostname{{}}
		}
		for _, hn := range hostnames {
			k := bucketKey{hostname.Parse(hn.Match), hostname.Parse(hn.Precedence)}
			g := buckets[k]
			if g == nil {
				g = &group{match: k.match, prec: k.prec, lastRoute: -1}
				buckets[k] = g
				all = append(all, g)
			}
			if g.lastRoute == ri {
				continue
			}
			g.lastRoute = ri
			g.entries = append(g.entries, entries...)
		}
	}
	for _, g := range all {
		slices.SortStableFunc(g.entries, cmpEntry)
		g.index = newPathIndex(g.entries)
	}
	return &vhost{routes: indexGroups(all)}, nil
}

// routeEntries compiles every match of every rule of route and builds the
// rules' handlers.
func routeEntries(vh *ir.VirtualHost, route *ir.HTTPRoute, ri int, build BuildFunc) ([]*entry, error) {
	var out []*entry
	for rli := range route.Rules {
		rule := &route.Rules[rli]
		h, err := build(vh, route, rule)
		if err != nil {
			return nil, fmt.Errorf("route %q rule %d: %w", route.Name, rule.Index, err)
		}
		if h == nil {
			return nil, fmt.Errorf("route %q rule %d: BuildFunc returned a nil handler", route.Name, rule.Index)
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []ir.HTTPMatch{{Path: ir.PathMatch{Type: ir.PathPrefix, Value: "/"}}}
		}
		for mi := range matches {
			m := &matches[mi]
			e, err := newEntry(route, rule, m, mi)
			if err != nil {
				return nil, err
			}
			e.routeIdx, e.ruleIdx, e.handler = ri, rli, h
			e.matched = &Matched{VirtualHost: vh, Route: route, Rule: rule, Match: m}
			if e.kind == pathPrefix {
				e.matched.PathPrefix = e.path
				if e.path == "" {
					e.matched.PathPrefix = "/"
				}
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// indexGroups precomputes, for every exact host and wildcard suffix named by
// a route, the merged list of groups that apply to it, and the list for hosts
// named by no route.
func indexGroups(all []*group) hostname.Index[candidates] {
	byExact := map[string][]*group{}
	byWild := map[string][]*group{}
	var anyHost []*group
	for _, g := range all {
		switch g.match.Kind {
		case hostname.Exact:
			byExact[g.match.Key] = append(byExact[g.match.Key], g)
		case hostname.Wildcard:
			byWild[g.match.Key] = append(byWild[g.match.Key], g)
		default:
			anyHost = append(anyHost, g)
		}
	}
	// A host keyed by key also matches every shorter wildcard suffix of it.
	collect := func(key string, own []*group) candidates {
		list := slices.Clone(own)
		for s := range hostname.WildcardKeys(key) {
			list = append(list, byWild[s]...)
		}
		return mergeGroups(append(list, anyHost...))
	}
	var ix hostname.Builder[candidates]
	for host, gs := range byExact {
		ix.AddName(hostname.Name{Kind: hostname.Exact, Key: host}, collect(host, gs))
	}
	for suffix, gs := range byWild {
		ix.AddName(hostname.Name{Kind: hostname.Wildcard, Key: suffix}, collect(suffix, gs))
	}
	if len(anyHost) > 0 {
		ix.AddName(hostname.Name{Kind: hostname.Any}, mergeGroups(slices.Clone(anyHost)))
	}
	return ix.Index()
}

// cmpGroup orders groups by route hostname precedence (ir.RouteHostname).
func cmpGroup(a, b *group) int { return hostname.ComparePrecedence(a.prec, b.prec) }

// mergeGroups sorts list by precedence and merges groups of equal precedence
// (same Precedence, different Match), which then compete by match precedence.
func mergeGroups(list []*group) candidates {
	slices.SortStableFunc(list, cmpGroup)
	out := list[:0]
	for _, g := range list {
		if n := len(out); n > 0 && cmpGroup(out[n-1], g) == 0 {
			prev := out[n-1]
			merged := &group{prec: prev.prec}
			merged.entries = append(slices.Clone(prev.entries), g.entries...)
			slices.SortStableFunc(merged.entries, cmpEntry)
			out[n-1] = merged
			continue
		}
		out = append(out, g)
	}
	return candidates(out)
}
