package translate

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// filters lowers the filters of a rule or backendRef; the graph validated
// them (one of each type but mirrors, no unsupported types).
func filters(r *graph.HTTPRoute, fs []gwv1.HTTPRouteFilter) ir.HTTPFilters {
	var out ir.HTTPFilters
	for i := range fs {
		f := &fs[i]
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			out.RequestHeaders = headerModifier(f.RequestHeaderModifier)
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			out.ResponseHeaders = headerModifier(f.ResponseHeaderModifier)
		case gwv1.HTTPRouteFilterRequestRedirect:
			out.Redirect = redirect(f.RequestRedirect)
		case gwv1.HTTPRouteFilterURLRewrite:
			out.Rewrite = rewrite(f.URLRewrite)
		case gwv1.HTTPRouteFilterRequestMirror:
			if m, ok := mirror(r, f.RequestMirror); ok {
				out.Mirrors = append(out.Mirrors, m)
			}
		case gwv1.HTTPRouteFilterCORS:
			out.CORS = cors(f.CORS)
		}
	}
	return out
}

func headerModifier(h *gwv1.HTTPHeaderFilter) *ir.HeaderModifier {
	if h == nil {
		return nil
	}
	out := &ir.HeaderModifier{Remove: h.Remove}
	for _, s := range h.Set {
		out.Set = append(out.Set, ir.Header{Name: string(s.Name), Value: s.Value})
	}
	for _, a := range h.Add {
		out.Add = append(out.Add, ir.Header{Name: string(a.Name), Value: a.Value})
	}
	return out
}

func pathModifier(p *gwv1.HTTPPathModifier) *ir.PathModifier {
	if p == nil {
		return nil
	}
	switch p.Type {
	case gwv1.FullPathHTTPPathModifier:
		if p.ReplaceFullPath != nil {
			return &ir.PathModifier{Type: ir.FullPath, Value: *p.ReplaceFullPath}
		}
	case gwv1.PrefixMatchHTTPPathModifier:
		if p.ReplacePrefixMatch != nil {
			return &ir.PathModifier{Type: ir.PrefixMatch, Value: *p.ReplacePrefixMatch}
		}
	}
	return nil
}

func redirect(r *gwv1.HTTPRequestRedirectFilter) *ir.Redirect {
	if r == nil {
		return nil
	}
	out := &ir.Redirect{StatusCode: 302, Path: pathModifier(r.Path)}
	if r.Scheme != nil {
		out.Scheme = *r.Scheme
	}
	if r.Hostname != nil {
		out.Hostname = string(*r.Hostname)
	}
	if r.Port != nil {
		p := int32(*r.Port)
		out.Port = &p
	}
	if r.StatusCode != nil {
		out.StatusCode = *r.StatusCode
	}
	return out
}

func rewrite(r *gwv1.HTTPURLRewriteFilter) *ir.Rewrite {
	if r == nil {
		return nil
	}
	out := &ir.Rewrite{Path: pathModifier(r.Path)}
	if r.Hostname != nil {
		out.Hostname = string(*r.Hostname)
	}
	return out
}

// mirror lowers a mirror filter; a mirror whose backend does not resolve is
// left out (the route's ResolvedRefs says why) rather than failing requests.
func mirror(r *graph.HTTPRoute, m *gwv1.HTTPRequestMirrorFilter) (ir.Mirror, bool) {
	if m == nil {
		return ir.Mirror{}, false
	}
	b := r.Backends[&m.BackendRef]
	if b == nil || b.Invalid != "" {
		return ir.Mirror{}, false
	}
	out := ir.Mirror{Backend: backend(b)}
	switch {
	case m.Percent != nil:
		out.Numerator, out.Denominator = *m.Percent, 100
	case m.Fraction != nil:
		out.Numerator, out.Denominator = m.Fraction.Numerator, 100
		if m.Fraction.Denominator != nil {
			out.Denominator = *m.Fraction.Denominator
		}
	}
	return out, true
}

func cors(c *gwv1.HTTPCORSFilter) *ir.CORS {
	if c == nil {
		return nil
	}
	out := &ir.CORS{MaxAge: c.MaxAge}
	for _, o := range c.AllowOrigins {
		out.AllowOrigins = append(out.AllowOrigins, string(o))
	}
	for _, m := range c.AllowMethods {
		out.AllowMethods = append(out.AllowMethods, string(m))
	}
	for _, h := range c.AllowHeaders {
		out.AllowHeaders = append(out.AllowHeaders, string(h))
	}
	for _, h := range c.ExposeHeaders {
		out.ExposeHeaders = append(out.ExposeHeaders, string(h))
	}
	if c.AllowCredentials != nil {
		out.AllowCredentials = *c.AllowCredentials
	}
	return out
}
