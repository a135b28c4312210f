package translate

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// httpRoute lowers the valid rules of a route as attached to one listener.
func httpRoute(r *graph.HTTPRoute, l *graph.Listener) (ir.HTTPRoute, bool) {
	out := ir.HTTPRoute{Name: r.Object.Namespace + "/" + r.Object.Name}
	if len(r.Object.Spec.Hostnames) > 0 {
		for _, h := range r.EffectiveHostnames(l) {
			out.Hostnames = append(out.Hostnames, ir.RouteHostname{Match: h.Match, Precedence: h.Precedence})
		}
	}
	for _, rule := range r.Rules {
		if rule.Valid() {
			out.Rules = append(out.Rules, httpRule(r, rule))
		}
	}
	return out, len(out.Rules) > 0
}

func httpRule(r *graph.HTTPRoute, rule *graph.Rule) ir.HTTPRule {
	spec := rule.Spec
	out := ir.HTTPRule{Index: rule.Index, Filters: filters(r, spec.Filters)}
	if spec.Name != nil {
		out.Name = string(*spec.Name)
	}
	for _, m := range spec.Matches {
		out.Matches = append(out.Matches, match(m))
	}
	for i := range spec.BackendRefs {
		ref := &spec.BackendRefs[i]
		b := backend(r.Backends[&ref.BackendObjectReference])
		b.Weight = 1
		if ref.Weight != nil {
			b.Weight = *ref.Weight
		}
		if len(ref.Filters) > 0 {
			f := filters(r, ref.Filters)
			b.Filters = &f
		}
		out.Backends = append(out.Backends, b)
	}
	if t := spec.Timeouts; t != nil {
		out.Timeouts.Request = ir.Duration(graph.ParseDuration(t.Request))
		out.Timeouts.BackendRequest = ir.Duration(graph.ParseDuration(t.BackendRequest))
	}
	if rt := spec.Retry; rt != nil {
		retry := &ir.Retry{Attempts: 1, Backoff: ir.Duration(graph.ParseDuration(rt.Backoff))}
		if rt.Attempts != nil {
			retry.Attempts = *rt.Attempts
		}
		for _, c := range rt.Codes {
			retry.Codes = append(retry.Codes, int(c))
		}
		if retry.Attempts > 0 {
			out.Retry = retry
		}
	}
	return out
}

func backend(b *graph.Backend) ir.Backend {
	out := ir.Backend{Name: b.Name, Protocol: b.Protocol, Endpoints: b.Endpoints, Invalid: b.Invalid}
	if t := b.TLS; t != nil && out.Invalid == "" {
		out.Invalid = t.Invalid
		out.TLS = backendTLS(t)
	}
	return out
}

func match(m gwv1.HTTPRouteMatch) ir.HTTPMatch {
	out := ir.HTTPMatch{Path: ir.PathMatch{Type: ir.PathPrefix, Value: "/"}}
	if m.Path != nil {
		if m.Path.Type != nil {
			out.Path.Type = ir.PathMatchType(*m.Path.Type)
		}
		if m.Path.Value != nil {
			out.Path.Value = *m.Path.Value
		}
	}
	for _, h := range m.Headers {
		t := ir.MatchExact
		if h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression {
			t = ir.MatchRegex
		}
		out.Headers = append(out.Headers, ir.HeaderMatch{Type: t, Name: string(h.Name), Value: h.Value})
	}
	for _, q := range m.QueryParams {
		t := ir.MatchExact
		if q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression {
			t = ir.MatchRegex
		}
		out.QueryParams = append(out.QueryParams, ir.QueryMatch{Type: t, Name: string(q.Name), Value: q.Value})
	}
	if m.Method != nil {
		out.Method = string(*m.Method)
	}
	return out
}
