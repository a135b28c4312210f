package filter

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"portico.dev/portico/internal/ir"
)

// CORS is the HTTPCORSFilter. A preflight (OPTIONS with Origin and
// Access-Control-Request-Method) is answered here with 204 and never reaches
// the backend; other requests from an allowed origin get the CORS headers on
// their response. A disallowed origin gets no CORS headers (the preflight is
// still answered 204, which the browser treats as a refusal).
//
// Access-Control-Allow-Origin always echoes the request's Origin, which is
// valid with and without credentials, so "*" is never sent; likewise a "*"
// in allowMethods or allowHeaders echoes what the preflight asked for.
// Vary: Origin is added to every response so caches keep origins apart.
func CORS(c *ir.CORS) func(http.Handler) http.Handler {
	p := newCORSPolicy(c)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			reqMethod := r.Header.Get("Access-Control-Request-Method")
			if r.Method == http.MethodOptions && origin != "" && reqMethod != "" {
				p.preflight(w.Header(), origin, reqMethod, r.Header.Get("Access-Control-Request-Headers"))
				w.WriteHeader(http.StatusNoContent)
				return
			}
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			allowed := p.allowOrigin(origin)
			next.ServeHTTP(newEditWriter(w, func(h http.Header, _ int) {
				h.Add("Vary", "Origin")
				if allowed {
					p.actual(h, origin)
				}
			}), r)
		})
	}
}

// corsPolicy is an ir.CORS prepared for per-request use.
type corsPolicy struct {
	anyOrigin         bool
	origins           []originPattern
	methods, headers  string // joined, or "" when wildcard or unset
	anyMethod, anyHdr bool
	expose            string // joined; "" when unset or "*" with credentials
	credentials       bool
	maxAge            string
}

func newCORSPolicy(c *ir.CORS) *corsPolicy {
	p := &corsPolicy{credentials: c.AllowCredentials}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			p.anyOrigin = true
			continue
		}
		if op, err := parseOriginPattern(o); err == nil {
			p.origins = append(p.origins, op)
		}
	}
	p.methods, p.anyMethod = joinOrWildcard(c.AllowMethods)
	p.headers, p.anyHdr = joinOrWildcard(c.AllowHeaders)
	expose, anyExpose := joinOrWildcard(c.ExposeHeaders)
	switch {
	case anyExpose && !c.AllowCredentials:
		p.expose = "*"
	case !anyExpose:
		p.expose = expose
	} // "*" with credentials cannot be expressed: expose only the safelisted.
	if c.MaxAge > 0 {
		p.maxAge = strconv.Itoa(int(c.MaxAge))
	}
	return p
}

func joinOrWildcard(vs []string) (string, bool) {
	for _, v := range vs {
		if v == "*" {
			return "", true
		}
	}
	return strings.Join(vs, ", "), false
}

func (p *corsPolicy) allowOrigin(origin string) bool {
	if p.anyOrigin {
		return true
	}
	o, err := parseOriginPattern(origin)
	if err != nil || strings.HasPrefix(o.host, "*") {
		return false
	}
	for _, pat := range p.origins {
		if pat.match(o) {
			return true
		}
	}
	return false
}

func (p *corsPolicy) preflight(h http.Header, origin, method, headers string) {
	h.Add("Vary", "Origin")
	if !p.allowOrigin(origin) {
		return
	}
	p.actual(h, origin)
	switch {
	case p.anyMethod:
		h.Set("Access-Control-Allow-Methods", method)
	case p.methods != "":
		h.Set("Access-Control-Allow-Methods", p.methods)
	}
	switch {
	case p.anyHdr && headers != "":
		h.Set("Access-Control-Allow-Headers", headers)
	case !p.anyHdr && p.headers != "":
		h.Set("Access-Control-Allow-Headers", p.headers)
	}
	if p.maxAge != "" {
		h.Set("Access-Control-Max-Age", p.maxAge)
	}
}

// actual sets the headers every response to an allowed origin carries. They
// replace any the backend sent: the route's policy is authoritative.
func (p *corsPolicy) actual(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if p.expose != "" {
		h.Set("Access-Control-Expose-Headers", p.expose)
	}
}

// originPattern is "scheme://host[:port]" with the default port filled in;
// host may start with "*" (any characters, including dots, to its left).
type originPattern struct {
	scheme, host, port string
}

func parseOriginPattern(s string) (originPattern, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || rest == "" || strings.ContainsAny(rest, "/?#") {
		return originPattern{}, fmt.Errorf("origin %q is not scheme://host[:port]", s)
	}
	o := originPattern{scheme: strings.ToLower(scheme), host: strings.ToLower(rest)}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		o.host, o.port = strings.ToLower(rest[:i]), rest[i+1:]
		if _, err := strconv.ParseUint(o.port, 10, 16); err != nil || o.host == "" {
			return originPattern{}, fmt.Errorf("origin %q has an invalid port", s)
		}
	}
	if o.port == "" {
		if d := defaultPort(o.scheme); d != 0 {
			o.port = strconv.Itoa(int(d))
		}
	}
	return o, nil
}

func (pat originPattern) match(o originPattern) bool {
	if pat.scheme != o.scheme || pat.port != o.port {
		return false
	}
	if suffix, ok := strings.CutPrefix(pat.host, "*"); ok {
		return len(o.host) > len(suffix) && strings.HasSuffix(o.host, suffix)
	}
	return pat.host == o.host
}
