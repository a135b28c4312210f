package filter

import (
	"net/http"
	"strconv"
	"strings"

	"portico.dev/portico/internal/hostname"
	"portico.dev/portico/internal/ir"
)

// Redirect is the RequestRedirect filter: it answers, and never calls a
// backend. listenerPort is the port the request arrived on; it is used when
// the redirect sets neither scheme nor port. Location keeps the query and
// omits :80 for http and :443 for https.
func Redirect(rd *ir.Redirect, listenerPort int32) http.Handler {
	code := rd.StatusCode
	if !validRedirectCode(code) {
		code = http.StatusFound
	}
	var port int32
	switch {
	case rd.Port != nil:
		port = *rd.Port
	case rd.Scheme != "":
		port = defaultPort(rd.Scheme)
	default:
		port = listenerPort
	}
	scheme := strings.ToLower(rd.Scheme)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := scheme
		if s == "" {
			s = "http"
			if r.TLS != nil {
				s = "https"
			}
		}
		host := rd.Hostname
		if host == "" {
			host = requestHost(r)
		}
		path, ok := newPath(rd.Path, r)
		if !ok {
			path = r.URL.EscapedPath()
		}
		var b strings.Builder
		b.WriteString(s)
		b.WriteString("://")
		b.WriteString(host)
		if port != 0 && port != defaultPort(s) {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(int(port)))
		}
		b.WriteString(path)
		if r.URL.RawQuery != "" {
			b.WriteByte('?')
			b.WriteString(r.URL.RawQuery)
		}
		w.Header().Set("Location", b.String())
		w.WriteHeader(code)
	})
}

func validRedirectCode(c int) bool {
	switch c {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

func defaultPort(scheme string) int32 {
	switch strings.ToLower(scheme) {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}

// requestHost is the request's host without port; IPv6 literals keep their
// brackets so a port can follow.
func requestHost(r *http.Request) string {
	h := r.Host
	if h == "" {
		h = r.URL.Host
	}
	return hostname.StripPort(h)
}
