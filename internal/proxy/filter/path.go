package filter

import (
	"net/http"
	"net/url"
	"strings"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/router"
)

// newPath returns the escaped path pm makes of r's, and false when pm does
// not apply (nil, or ReplacePrefixMatch without a matched PathPrefix that
// still prefixes the path, e.g. after an earlier rewrite).
func newPath(pm *ir.PathModifier, r *http.Request) (string, bool) {
	if pm == nil {
		return "", false
	}
	switch pm.Type {
	case ir.FullPath:
		return pm.Value, true
	case ir.PrefixMatch:
		m := router.FromContext(r.Context())
		if m == nil || m.PathPrefix == "" {
			return "", false
		}
		return replacePrefix(r.URL.EscapedPath(), m.PathPrefix, pm.Value)
	}
	return "", false
}

// replacePrefix replaces prefix in path element-wise: trailing slashes of
// prefix and replacement are ignored so the result never has "//" at the
// seam, and an empty result is "/".
//
//	/prefix/one/two, /prefix/one -> /one      = /one/two
//	/prefix/x,       /prefix     -> /         = /x
//	/prefix,         /prefix     -> /         = /
func replacePrefix(path, prefix, replacement string) (string, bool) {
	prefix = strings.TrimRight(prefix, "/")
	if !strings.HasPrefix(path, prefix) || (len(path) > len(prefix) && path[len(prefix)] != '/') {
		return "", false
	}
	rest := path[len(prefix):]
	if prefix == "" && rest == "/" {
		rest = "" // prefix "/" consumed the only slash
	}
	out := strings.TrimRight(replacement, "/") + rest
	if out == "" {
		out = "/"
	}
	return out, true
}

// setPath sets u's path from its escaped form.
func setPath(u *url.URL, escaped string) {
	p, err := url.PathUnescape(escaped)
	if err != nil {
		p = escaped
	}
	u.Path, u.RawPath = p, escaped
}
