package filter

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"portico.dev/portico/internal/ir"
)

// Chain wraps next in the filters of f (a rule's, or a backend's: backend
// filters are a second Chain around the transport, inside the rule's). A nil
// f returns next.
//
// Requests pass CORS, Redirect (which answers instead of next),
// RequestHeaders, Rewrite, then the mirrors, as ir.HTTPFilters orders them.
// ResponseHeaders wraps the ResponseWriter outermost, so it edits every
// response of the rule, redirects and preflight answers included, and has the
// last word over CORS headers. Chain does not fail: invalid values degrade
// (an unknown redirect code becomes 302, an unparsable origin never matches);
// call Validate at build time to refuse them instead.
func Chain(f *ir.HTTPFilters, listenerPort int32, next http.Handler, mirror MirrorSender) http.Handler {
	if f == nil {
		return next
	}
	h := next
	for i := len(f.Mirrors) - 1; i >= 0; i-- {
		h = Mirror(&f.Mirrors[i], mirror)(h)
	}
	if f.Rewrite != nil {
		h = Rewrite(f.Rewrite)(h)
	}
	if f.RequestHeaders != nil {
		h = RequestHeaders(f.RequestHeaders)(h)
	}
	if f.Redirect != nil {
		h = Redirect(f.Redirect, listenerPort)
	}
	if f.CORS != nil {
		h = CORS(f.CORS)(h)
	}
	if f.ResponseHeaders != nil {
		h = ResponseHeaders(f.ResponseHeaders)(h)
	}
	return h
}

var headerName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`)

// Validate reports what Chain would have to degrade, naming the field.
func Validate(f *ir.HTTPFilters) error {
	if f == nil {
		return nil
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	checkPath := func(field string, p *ir.PathModifier) {
		if p != nil && p.Type != ir.FullPath && p.Type != ir.PrefixMatch {
			bad(field+".type", "unknown path modifier %q", p.Type)
		}
	}
	checkHeaders := func(field string, m *ir.HeaderModifier) {
		if m == nil {
			return
		}
		for _, h := range append(append([]ir.Header(nil), m.Set...), m.Add...) {
			if !headerName.MatchString(h.Name) {
				bad(field, "invalid header name %q", h.Name)
			}
		}
	}
	if c := f.CORS; c != nil {
		for i, o := range c.AllowOrigins {
			if _, err := parseOriginPattern(o); o != "*" && err != nil {
				bad(fmt.Sprintf("cors.allowOrigins[%d]", i), "%v", err)
			}
		}
	}
	if r := f.Redirect; r != nil {
		if r.StatusCode != 0 && !validRedirectCode(r.StatusCode) {
			bad("redirect.statusCode", "%d is not one of 301, 302, 303, 307, 308", r.StatusCode)
		}
		if r.Scheme != "" && defaultPort(r.Scheme) == 0 {
			bad("redirect.scheme", "%q is not http or https", r.Scheme)
		}
		checkPath("redirect.path", r.Path)
	}
	if f.Rewrite != nil {
		checkPath("rewrite.path", f.Rewrite.Path)
	}
	checkHeaders("requestHeaders", f.RequestHeaders)
	checkHeaders("responseHeaders", f.ResponseHeaders)
	return errors.Join(errs...)
}
