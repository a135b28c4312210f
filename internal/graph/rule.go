package graph

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

// Rule is one rule of an HTTPRoute.
type Rule struct {
	Index int
	Spec  *gwv1.HTTPRouteRule
	// Problem, when set, is why the rule is not served: an Accepted=False
	// condition naming the field.
	Problem *metav1.Condition
}

// Valid reports whether the rule is served.
func (r *Rule) Valid() bool { return r.Problem == nil }

// resolveRules validates every rule and resolves every backend reference of
// the route, and sets the route-wide ResolvedRefs condition.
func (r *HTTPRoute) resolveRules(ix *resource.Index, standalone bool) {
	r.Backends = map[*gwv1.BackendObjectReference]*Backend{}
	var refProblems []metav1.Condition
	resolve := func(field string, ref *gwv1.BackendObjectReference) {
		b, c := resolveBackend(r.referrer(), field, ref, ix, standalone)
		r.Backends[ref] = b
		if c != nil {
			refProblems = append(refProblems, *c)
		}
	}
	for i := range r.Object.Spec.Rules {
		spec := &r.Object.Spec.Rules[i]
		field := fmt.Sprintf("spec.rules[%d]", i)
		rule := &Rule{Index: i, Spec: spec, Problem: validateRule(field, spec)}
		r.Rules = append(r.Rules, rule)
		if !rule.Valid() {
			continue // dropped: its references are not used, so they are not reported
		}
		eachRef(field, spec, resolve)
	}
	r.ResolvedRefs = conditions.RouteResolvedRefs()
	if len(refProblems) > 0 {
		r.ResolvedRefs = refProblems[0]
		if len(refProblems) > 1 {
			var msgs []string
			for _, c := range refProblems {
				msgs = append(msgs, c.Message)
			}
			r.ResolvedRefs.Message = strings.Join(msgs, "; ")
		}
	}
}

// eachRef calls visit with every backend reference of the rule at field,
// in spec order (the rule's mirrors, then each backendRef and its
// mirrors), and the reference's field path.
func eachRef(field string, spec *gwv1.HTTPRouteRule, visit func(field string, ref *gwv1.BackendObjectReference)) {
	mirrors := func(field string, fs []gwv1.HTTPRouteFilter) {
		for k := range fs {
			if m := fs[k].RequestMirror; m != nil {
				visit(fmt.Sprintf("%s[%d].requestMirror.backendRef", field, k), &m.BackendRef)
			}
		}
	}
	mirrors(field+".filters", spec.Filters)
	for j := range spec.BackendRefs {
		bf := fmt.Sprintf("%s.backendRefs[%d]", field, j)
		visit(bf, &spec.BackendRefs[j].BackendObjectReference)
		mirrors(bf+".filters", spec.BackendRefs[j].Filters)
	}
}

// eachBackend calls f with every resolved backend of the route's valid
// rules, in spec order, and the field path of its reference.
func (r *HTTPRoute) eachBackend(f func(field string, b *Backend)) {
	for _, rule := range r.Rules {
		if !rule.Valid() {
			continue
		}
		eachRef(fmt.Sprintf("spec.rules[%d]", rule.Index), rule.Spec, func(field string, ref *gwv1.BackendObjectReference) {
			if b := r.Backends[ref]; b != nil {
				f(field, b)
			}
		})
	}
}

// rulesAccepted is false, with the condition to report, when no rule of
// the route can be served.
func (r *HTTPRoute) rulesAccepted() (metav1.Condition, bool) {
	for _, rule := range r.Rules {
		if rule.Valid() {
			return metav1.Condition{}, true
		}
	}
	if len(r.Rules) == 0 {
		return conditions.RouteUnsupportedValue("spec.rules is empty"), false
	}
	return *r.Rules[0].Problem, false
}

// PartiallyInvalid returns the PartiallyInvalid condition when some, not all,
// rules are dropped.
func (r *HTTPRoute) PartiallyInvalid() *metav1.Condition {
	var dropped []string
	for _, rule := range r.Rules {
		if !rule.Valid() {
			dropped = append(dropped, rule.Problem.Message)
		}
	}
	if len(dropped) == 0 || len(dropped) == len(r.Rules) {
		return nil
	}
	c := conditions.RoutePartiallyInvalid("rules dropped, the others are served: " + strings.Join(dropped, "; "))
	return &c
}

// validateRule checks what the CRD schema cannot, and what Portico does not
// support yet. It returns nil for a rule that can be served.
func validateRule(field string, rule *gwv1.HTTPRouteRule) *metav1.Condition {
	bad := func(format string, a ...any) *metav1.Condition {
		c := conditions.RouteUnsupportedValue(fmt.Sprintf(format, a...))
		return &c
	}
	for i, m := range rule.Matches {
		mf := fmt.Sprintf("%s.matches[%d]", field, i)
		if m.Path != nil && m.Path.Type != nil && *m.Path.Type == gwv1.PathMatchRegularExpression && m.Path.Value != nil {
			if _, err := regexp.Compile(*m.Path.Value); err != nil {
				return bad("%s.path.value: %q is not a valid RE2 regular expression: %v", mf, *m.Path.Value, err)
			}
		}
		for j, h := range m.Headers {
			if h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression {
				if _, err := regexp.Compile(h.Value); err != nil {
					return bad("%s.headers[%d].value: %q is not a valid RE2 regular expression: %v", mf, j, h.Value, err)
				}
			}
		}
		for j, q := range m.QueryParams {
			if q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression {
				if _, err := regexp.Compile(q.Value); err != nil {
					return bad("%s.queryParams[%d].value: %q is not a valid RE2 regular expression: %v", mf, j, q.Value, err)
				}
			}
		}
	}
	if c := validateFilters(field+".filters", rule.Filters, rule.Matches); c != nil {
		return c
	}
	for j, b := range rule.BackendRefs {
		if c := validateFilters(fmt.Sprintf("%s.backendRefs[%d].filters", field, j), b.Filters, rule.Matches); c != nil {
			return c
		}
	}
	if t := rule.Timeouts; t != nil {
		req, err := parseDuration(t.Request)
		if err != nil {
			return bad("%s.timeouts.request: %v", field, err)
		}
		be, err := parseDuration(t.BackendRequest)
		if err != nil {
			return bad("%s.timeouts.backendRequest: %v", field, err)
		}
		if req > 0 && be > req {
			return bad("%s.timeouts.backendRequest (%s) must not exceed timeouts.request (%s)", field, be, req)
		}
	}
	if rule.Retry != nil {
		if _, err := parseDuration(rule.Retry.Backoff); err != nil {
			return bad("%s.retry.backoff: %v", field, err)
		}
	}
	if rule.SessionPersistence != nil {
		return bad("%s.sessionPersistence: session persistence is not supported yet; remove it", field)
	}
	return nil
}

func validateFilters(field string, fs []gwv1.HTTPRouteFilter, matches []gwv1.HTTPRouteMatch) *metav1.Condition {
	seen := map[gwv1.HTTPRouteFilterType]bool{}
	for i, f := range fs {
		ff := fmt.Sprintf("%s[%d]", field, i)
		if seen[f.Type] && f.Type != gwv1.HTTPRouteFilterRequestMirror {
			c := conditions.RouteUnsupportedValue(fmt.Sprintf("%s: a second %s filter; merge them into one", ff, f.Type))
			return &c
		}
		seen[f.Type] = true
		var path *gwv1.HTTPPathModifier
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestRedirect:
			if f.RequestRedirect != nil {
				path = f.RequestRedirect.Path
			}
		case gwv1.HTTPRouteFilterURLRewrite:
			if f.URLRewrite != nil {
				path = f.URLRewrite.Path
			}
		case gwv1.HTTPRouteFilterRequestHeaderModifier, gwv1.HTTPRouteFilterResponseHeaderModifier,
			gwv1.HTTPRouteFilterRequestMirror, gwv1.HTTPRouteFilterCORS:
		default:
			c := conditions.RouteUnsupportedValue(fmt.Sprintf("%s: filter type %s is not supported yet; remove it", ff, f.Type))
			return &c
		}
		if path != nil && path.Type == gwv1.PrefixMatchHTTPPathModifier {
			for _, m := range matches {
				if m.Path == nil || m.Path.Type == nil || *m.Path.Type != gwv1.PathMatchPathPrefix {
					c := conditions.RouteUnsupportedValue(fmt.Sprintf(
						"%s: ReplacePrefixMatch needs every match of the rule to be a PathPrefix match", ff))
					return &c
				}
			}
		}
	}
	if seen[gwv1.HTTPRouteFilterRequestRedirect] && seen[gwv1.HTTPRouteFilterURLRewrite] {
		c := conditions.RouteIncompatibleFilters(fmt.Sprintf(
			"%s: RequestRedirect and URLRewrite cannot be used together; split them into two rules", field))
		return &c
	}
	return nil
}

// parseDuration parses a Gateway API Duration (GEP-2257), "" meaning zero.
func parseDuration(d *gwv1.Duration) (time.Duration, error) {
	if d == nil || *d == "" {
		return 0, nil
	}
	v, err := time.ParseDuration(string(*d))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 10s or 1m30s", string(*d))
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", string(*d))
	}
	return v, nil
}

// ParseDuration is parseDuration for translate; the graph has validated it.
func ParseDuration(d *gwv1.Duration) time.Duration {
	v, _ := parseDuration(d)
	return v
}
