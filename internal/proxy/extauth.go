package proxy

import (
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/backend"
)

// authTimeout bounds each call to an authorization service; the client
// gets the proxy's 504 (a denial) when it expires.
const authTimeout = 10 * time.Second

// maxDenialBody is how much of a denying answer's body is passed on.
const maxDenialBody = 64 << 10

// externalAuth is the ExternalAuth listener filter (ir.ExternalAuth says
// what it sends and keeps). auth forwards to the authorization service.
type externalAuth struct {
	cfg        *ir.ExternalAuth
	auth       http.Handler
	next       http.Handler
	prefix     string          // PathPrefix without trailing "/"
	reqHeaders []string        // canonical names sent besides Authorization
	respAllow  map[string]bool // canonical names copied from an allowing answer; nil: all but never
	never      map[string]bool // never copied onto the request
}

func (b *builder) externalAuth(ea *ir.ExternalAuth, next http.Handler) http.Handler {
	f := &externalAuth{
		cfg:    ea,
		auth:   b.up.Backend(&ea.Backend, backend.Policy{Timeouts: ir.Timeouts{BackendRequest: ir.Duration(authTimeout)}}),
		next:   next,
		prefix: strings.TrimRight(ea.PathPrefix, "/"),
		never:  neverFromAuth,
	}
	for _, h := range ea.AllowedRequestHeaders {
		f.reqHeaders = append(f.reqHeaders, textproto.CanonicalMIMEHeaderKey(h))
	}
	if len(ea.AllowedResponseHeaders) > 0 {
		f.respAllow = map[string]bool{}
		for _, h := range ea.AllowedResponseHeaders {
			f.respAllow[textproto.CanonicalMIMEHeaderKey(h)] = true
		}
	}
	return f
}

// neverFromAuth are the answer headers an allowing answer never sets on the
// request: Host (pre-routing filters cannot change it), hop-by-hop headers,
// and those that describe the answer itself rather than the request.
var neverFromAuth = map[string]bool{
	"Host": true, "Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Proxy-Authenticate": true,
	"Content-Length": true, "Content-Type": true, "Content-Encoding": true, "Content-Range": true,
	"Date": true, "Server": true,
}

func (f *externalAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	areq, err := f.authRequest(r)
	if err != nil {
		http.Error(w, "Bad Request: reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	ans := &authAnswer{header: http.Header{}}
	f.auth.ServeHTTP(ans, areq)
	if ans.code == 0 {
		ans.code = http.StatusOK // the service wrote a body without a status
	}
	if ans.code != http.StatusOK {
		ans.deny(w)
		return
	}
	for name, vs := range ans.header {
		if f.never[name] || (f.respAllow != nil && !f.respAllow[name]) {
			continue
		}
		r.Header[name] = append([]string(nil), vs...)
	}
	f.next.ServeHTTP(w, r)
}

// authRequest is what the authorization service is asked: r's method,
// Host, path under the prefix and query, Authorization and the allowed
// headers, and the first MaxBodySize bytes of the body. r keeps its whole
// body for the backend.
func (f *externalAuth) authRequest(r *http.Request) (*http.Request, error) {
	var body []byte
	if n := f.cfg.MaxBodySize; n > 0 && r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, int64(n)))
		if err != nil {
			return nil, err
		}
		body = b
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	}
	u := &url.URL{RawQuery: r.URL.RawQuery}
	escaped := f.prefix + r.URL.EscapedPath()
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path, u.RawPath = p, escaped
	} else {
		u.Path = escaped
	}
	areq := (&http.Request{
		Method:     r.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		TLS:        r.TLS,
		Body:       http.NoBody,
	}).WithContext(r.Context())
	if len(body) > 0 {
		areq.Body = io.NopCloser(bytes.NewReader(body))
		areq.ContentLength = int64(len(body))
		areq.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	for _, name := range append([]string{"Authorization", "X-Forwarded-For"}, f.reqHeaders...) {
		if vs, ok := r.Header[name]; ok {
			areq.Header[name] = vs
		}
	}
	return areq, nil
}

// authAnswer records the authorization service's answer.
type authAnswer struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (a *authAnswer) Header() http.Header { return a.header }

func (a *authAnswer) WriteHeader(code int) {
	if code >= 200 && a.code == 0 {
		a.code = code
	}
}

func (a *authAnswer) Write(p []byte) (int, error) {
	if a.code == 0 {
		a.code = http.StatusOK
	}
	if room := maxDenialBody - a.body.Len(); room > 0 {
		a.body.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (a *authAnswer) Flush() {}

// deny sends the answer to the client as it came.
func (a *authAnswer) deny(w http.ResponseWriter) {
	for name, vs := range a.header {
		if name != "Content-Length" {
			w.Header()[name] = vs
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(a.body.Len()))
	w.WriteHeader(a.code)
	_, _ = w.Write(a.body.Bytes())
}
