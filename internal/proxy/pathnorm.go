package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"portico.dev/portico/internal/proxy/urlpath"
)

// normalizeRequest puts r's path in normal form before routing (package
// urlpath), keeping r.URL.Path, r.URL.RawPath and r.RequestURI in
// agreement, or answers 400 and reports false. It starts from the target
// as sent (RequestURI), not from r.URL, so that what net/url would have
// escaped silently (a backslash) is refused as on the fast paths. A path
// already normal changes nothing and costs no allocation.
func normalizeRequest(w http.ResponseWriter, r *http.Request) bool {
	uri := r.RequestURI
	if uri == "" { // a request made in-process (tests): no target as sent
		uri = r.URL.RequestURI()
	}
	start, end, ok := targetPath(r.Method, uri)
	if !ok {
		http.Error(w, "invalid request target: only origin-form and absolute-form are served", http.StatusBadRequest)
		return false
	}
	raw := uri[start:end]
	if raw == "" { // absolute-form without a path: "http://host?q"
		raw = "/"
	}
	n, err := urlpath.Normalize(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	if n == raw && start < end {
		return true
	}
	p, err := url.PathUnescape(n)
	if err != nil { // cannot happen: n's escapes are valid
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	r.URL.Path, r.URL.RawPath = p, n
	r.RequestURI = uri[:start] + n + uri[end:]
	return true
}

// targetPath locates the path of a request target: all of it up to "?" in
// origin-form ("/p?q"), what follows the authority in absolute-form
// ("http://h/p?q"). Authority-form (CONNECT) and asterisk-form ("*") have
// no path: ok is false.
func targetPath(method, uri string) (start, end int, ok bool) {
	if method == http.MethodConnect || uri == "" {
		return 0, 0, false
	}
	if uri[0] != '/' {
		i := strings.Index(uri, "://")
		if i <= 0 {
			return 0, 0, false
		}
		start = i + 3
		for start < len(uri) && uri[start] != '/' && uri[start] != '?' {
			start++
		}
	}
	end = start + strings.IndexByte(uri[start:], '?')
	if end < start {
		end = len(uri)
	}
	return start, end, true
}
