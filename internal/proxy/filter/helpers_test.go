package filter

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"

	"portico.dev/portico/internal/proxy/router"
)

// matched returns r as the router hands it over after a PathPrefix match
// ("" for Exact or RegularExpression matches).
func matched(r *http.Request, pathPrefix string) *http.Request {
	return r.WithContext(router.NewContext(r.Context(), &router.Matched{PathPrefix: pathPrefix}))
}

func newReq(method, host, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	return r
}

func withTLS(r *http.Request) *http.Request {
	r.TLS = &tls.ConnectionState{ServerName: r.Host}
	return r
}

// seen records the request that reached the backend.
type seen struct{ r *http.Request }

func (s *seen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.r = r
	w.WriteHeader(http.StatusOK)
}
