package router

import (
	"cmp"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/urlpath"
)

// pathKind orders path matches by Gateway API precedence: Exact, then
// RegularExpression, then PathPrefix.
type pathKind uint8

const (
	pathExact pathKind = iota
	pathRegex
	pathPrefix
)

// entry is one compiled ir.HTTPMatch of one rule. Entries are immutable and
// shared by every candidate list that contains their route.
type entry struct {
	kind pathKind
	// path is the Exact value, or the PathPrefix without trailing "/"
	// ("" for "/").
	path string
	re   *regexp.Regexp
	// pathLen orders regexes (pattern length) and prefixes (characters).
	pathLen int
	method  string
	headers []headerMatcher
	queries []queryMatcher

	routeIdx, ruleIdx, matchIdx int

	handler http.Handler
	matched *Matched
}

type headerMatcher struct {
	name  string // canonical MIME key
	host  bool   // Go moves Host out of r.Header into r.Host
	value string
	re    *regexp.Regexp
}

type queryMatcher struct {
	name  string
	value string
	re    *regexp.Regexp
}

// compileRegex anchors pattern so it must match the whole value.
func compileRegex(pattern, route string, rule int, field string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("route %q rule %d %s: invalid RE2 regular expression %q: %w", route, rule, field, pattern, err)
	}
	return re, nil
}

// newEntry compiles m, which is matches[mi] of the rule.
func newEntry(route *ir.HTTPRoute, rule *ir.HTTPRule, m *ir.HTTPMatch, mi int) (*entry, error) {
	e := &entry{method: m.Method, matchIdx: mi}
	at := func(f string) string { return fmt.Sprintf("matches[%d].%s", mi, f) }
	switch m.Path.Type {
	case ir.PathExact:
		e.kind, e.path = pathExact, normalPath(m.Path.Value)
	case ir.PathPrefix, "":
		e.kind = pathPrefix
		e.path = strings.TrimRight(normalPath(m.Path.Value), "/")
		e.pathLen = len(e.path)
	case ir.PathRegex:
		re, err := compileRegex(m.Path.Value, route.Name, rule.Index, at("path.value"))
		if err != nil {
			return nil, err
		}
		e.kind, e.re, e.pathLen = pathRegex, re, len(m.Path.Value)
	default:
		return nil, fmt.Errorf("route %q rule %d %s: unknown path match type %q", route.Name, rule.Index, at("path.type"), m.Path.Type)
	}
	for i, h := range m.Headers {
		hm := headerMatcher{name: textproto.CanonicalMIMEHeaderKey(h.Name), value: h.Value}
		hm.host = hm.name == "Host"
		switch h.Type {
		case ir.MatchExact, "":
		case ir.MatchRegex:
			re, err := compileRegex(h.Value, route.Name, rule.Index, at(fmt.Sprintf("headers[%d].value", i)))
			if err != nil {
				return nil, err
			}
			hm.re = re
		default:
			return nil, fmt.Errorf("route %q rule %d %s: unknown match type %q", route.Name, rule.Index, at(fmt.Sprintf("headers[%d].type", i)), h.Type)
		}
		e.headers = append(e.headers, hm)
	}
	for i, q := range m.QueryParams {
		qm := queryMatcher{name: q.Name, value: q.Value}
		switch q.Type {
		case ir.MatchExact, "":
		case ir.MatchRegex:
			re, err := compileRegex(q.Value, route.Name, rule.Index, at(fmt.Sprintf("queryParams[%d].value", i)))
			if err != nil {
				return nil, err
			}
			qm.re = re
		default:
			return nil, fmt.Errorf("route %q rule %d %s: unknown match type %q", route.Name, rule.Index, at(fmt.Sprintf("queryParams[%d].type", i)), q.Type)
		}
		e.queries = append(e.queries, qm)
	}
	return e, nil
}

// normalPath is an Exact or PathPrefix value in the normal form request
// paths are given in (package urlpath), so that "/%7Euser" still matches
// once requests for it are normalised to "/~user". A value urlpath refuses
// is kept as written: no normalised request can match it.
func normalPath(v string) string {
	if n, err := urlpath.Normalize(v); err == nil {
		return n
	}
	return v
}

// cmpEntry is the Gateway API match precedence (see ir.HTTPRule).
func cmpEntry(a, b *entry) int {
	if c := cmp.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	if c := cmp.Compare(b.pathLen, a.pathLen); c != 0 {
		return c
	}
	if am, bm := a.method != "", b.method != ""; am != bm {
		if am {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(len(b.headers), len(a.headers)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.queries), len(a.queries)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.routeIdx, b.routeIdx); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ruleIdx, b.ruleIdx); c != 0 {
		return c
	}
	return cmp.Compare(a.matchIdx, b.matchIdx)
}

// match reports whether q satisfies every condition of e.
func (e *entry) match(q *query) bool {
	switch e.kind {
	case pathExact:
		if q.path != e.path {
			return false
		}
	case pathPrefix:
		if !hasPathPrefix(q.path, e.path) {
			return false
		}
	case pathRegex:
		if !e.re.MatchString(q.path) {
			return false
		}
	}
	if e.method != "" && q.method != e.method {
		return false
	}
	for i := range e.headers {
		if !e.headers[i].match(q) {
			return false
		}
	}
	for i := range e.queries {
		if !e.queries[i].match(q.rawQuery) {
			return false
		}
	}
	return true
}

// hasPathPrefix matches element-wise: prefix "/foo" (already without
// trailing "/") matches "/foo", "/foo/" and "/foo/bar", not "/foobar"; ""
// (from "/") matches everything.
func hasPathPrefix(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

func (h *headerMatcher) match(q *query) bool {
	if h.host {
		return h.matchValue(q.host)
	}
	vals := q.values(h.name)
	switch len(vals) {
	case 0:
		return false
	case 1:
		return h.matchValue(vals[0])
	}
	if h.re != nil {
		return h.re.MatchString(strings.Join(vals, ","))
	}
	return equalJoined(vals, h.value)
}

func (h *headerMatcher) matchValue(v string) bool {
	if h.re != nil {
		return h.re.MatchString(v)
	}
	return v == h.value
}

// equalJoined reports whether strings.Join(vals, ",") == want without
// building the joined string.
func equalJoined(vals []string, want string) bool {
	for i, v := range vals {
		if i > 0 {
			if want == "" || want[0] != ',' {
				return false
			}
			want = want[1:]
		}
		if !strings.HasPrefix(want, v) {
			return false
		}
		want = want[len(v):]
	}
	return want == ""
}

func (q *queryMatcher) match(rawQuery string) bool {
	v, ok := queryValue(rawQuery, q.name)
	if !ok {
		return false
	}
	if q.re != nil {
		return q.re.MatchString(v)
	}
	return v == q.value
}

// queryValue returns the first value of the query parameter name, as
// url.ParseQuery would, without building a map. It allocates only for
// escaped keys or values.
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" || strings.Contains(kv, ";") {
			continue // url.ParseQuery rejects ';' too
		}
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != name {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			var err error
			if v, err = url.QueryUnescape(v); err != nil {
				continue
			}
		}
		return v, true
	}
	return "", false
}
