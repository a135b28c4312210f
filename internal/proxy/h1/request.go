package h1

import (
	"bytes"
	"net/http"

	"portico.dev/portico/internal/proxy/urlpath"
)

// Request is one request head as the server parsed it, for a Router. Its
// strings point into the connection's buffer: they are valid during the
// RouteH1 call only.
type Request struct {
	method, target string
	path, query    string // origin-form only
	originForm     bool
	minor          int // HTTP/1.minor: 0 or 1
	host           string
	fields         []field

	contentLength int64 // -1: none
	chunked       bool
	close         bool // the client asked for (or its version implies) close
	expect100     bool
	expectOther   bool
	upgrade       bool
	teTrailers    bool
	connection    []string // values of Connection fields
	xffCount      int
	trailerDecl   bool
	headLen       int

	sni     string
	scratch []string // HeaderValues results
}

// Method, Host (the Host header), Path (escaped, in normal form: see
// fast), RawQuery and SNI (the TLS server name, "" in cleartext) are what
// routing reads.
func (r *Request) Method() string   { return r.method }
func (r *Request) Host() string     { return r.host }
func (r *Request) Path() string     { return r.path }
func (r *Request) RawQuery() string { return r.query }
func (r *Request) SNI() string      { return r.sni }

// HeaderValues returns the values of the fields named name (any case), in
// order; the slice is reused by the next call.
func (r *Request) HeaderValues(name string) []string {
	r.scratch = r.scratch[:0]
	for i := range r.fields {
		if len(r.fields[i].name) == len(name) && asciiEqualFold(r.fields[i].name, name) {
			r.scratch = append(r.scratch, r.fields[i].value)
		}
	}
	return r.scratch
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// reqError is a request the server refuses: the status to answer, after
// which the connection is closed.
type reqError struct {
	status int
	msg    string
}

func (e *reqError) Error() string { return e.msg }

var (
	errBadRequest  = &reqError{http.StatusBadRequest, "malformed request"}
	errBadLine     = &reqError{http.StatusBadRequest, "malformed request line"}
	errBadField    = &reqError{http.StatusBadRequest, "malformed header field"}
	errObsFold     = &reqError{http.StatusBadRequest, "obsolete line folding"}
	errBareLF      = &reqError{http.StatusBadRequest, "line not ended by CRLF"}
	errHost        = &reqError{http.StatusBadRequest, "missing or invalid Host"}
	errManyHosts   = &reqError{http.StatusBadRequest, "too many Host headers"}
	errBadLength   = &reqError{http.StatusBadRequest, "invalid Content-Length"}
	errCLAndTE     = &reqError{http.StatusBadRequest, "both Transfer-Encoding and Content-Length"}
	errTE10        = &reqError{http.StatusBadRequest, "Transfer-Encoding in an HTTP/1.0 request"}
	errUnknownTE   = &reqError{http.StatusNotImplemented, "unsupported transfer encoding"}
	errVersion     = &reqError{http.StatusHTTPVersionNotSupported, "unsupported HTTP version"}
	errTooLarge    = &reqError{http.StatusRequestHeaderFieldsTooLarge, "request head too large"}
	errBadChunk    = &reqError{http.StatusBadRequest, "malformed chunked body"}
	errH2Preface   = &reqError{0, "HTTP/2 connection preface"}
	errClientGone  = &reqError{0, "client closed the connection"}
	errHeadTimeout = &reqError{http.StatusRequestTimeout, "request head not received in time"}
)

// parseRequest parses the complete request head b (request line, fields,
// empty line) into r, strictly (RFC 9112): see the package documentation
// for what is refused. r's strings point into b.
func parseRequest(b []byte, r *Request) *reqError {
	*r = Request{fields: r.fields[:0], scratch: r.scratch[:0], connection: r.connection[:0], contentLength: -1, headLen: len(b)}
	line, rest, ok := cutLine(b)
	if !ok {
		return errBareLF
	}
	// method SP request-target SP HTTP-version
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errBadLine
	}
	for _, c := range line[:sp1] {
		if !tchar[c] {
			return errBadLine
		}
	}
	r.method = b2s(line[:sp1])
	t := line[sp1+1:]
	sp2 := bytes.IndexByte(t, ' ')
	if sp2 <= 0 {
		return errBadLine
	}
	for _, c := range t[:sp2] {
		if c <= ' ' || c == 0x7f {
			return errBadLine
		}
	}
	r.target = b2s(t[:sp2])
	switch v := t[sp2+1:]; {
	case string(v) == "HTTP/1.1":
		r.minor = 1
	case string(v) == "HTTP/1.0":
		r.minor = 0
	case len(v) == 8 && string(v[:5]) == "HTTP/" && v[6] == '.' && '0' <= v[5] && v[5] <= '9' && '0' <= v[7] && v[7] <= '9':
		if v[5] == '2' && r.method == "PRI" && r.target == "*" {
			return errH2Preface
		}
		if v[5] != '1' {
			return errVersion
		}
		r.minor = 1 // a later HTTP/1.x is served as HTTP/1.1
	default:
		return errBadLine
	}
	if r.target[0] == '/' {
		r.originForm = true
		r.path = r.target
		if i := indexByteString(r.target, '?'); i >= 0 {
			r.path, r.query = r.target[:i], r.target[i+1:]
		}
	}

	var hosts, lengths, tes int
	var te string
	for {
		line, rest, ok = cutLine(rest)
		if !ok {
			return errBareLF
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errObsFold
		}
		if len(r.fields) == maxFields {
			return errTooLarge
		}
		f, ok := parseField(line)
		if !ok {
			return errBadField
		}
		r.fields = append(r.fields, f)
		switch len(f.name) {
		case 2:
			if equalFold(f.name, "te") && hasToken(f.value, "trailers") {
				r.teTrailers = true
			}
		case 4:
			if equalFold(f.name, "host") {
				hosts++
				r.host = f.value
			}
		case 6:
			if equalFold(f.name, "expect") {
				if equalFold(f.value, "100-continue") {
					r.expect100 = true
				} else {
					r.expectOther = true
				}
			}
		case 7:
			if equalFold(f.name, "upgrade") {
				r.upgrade = true
			} else if equalFold(f.name, "trailer") {
				r.trailerDecl = true
			}
		case 10:
			if equalFold(f.name, "connection") {
				r.connection = append(r.connection, f.value)
			}
		case 14:
			if equalFold(f.name, "content-length") {
				lengths++
				n, ok := parseLength(f.value)
				if !ok {
					return errBadLength
				}
				r.contentLength = n
			}
		case 15:
			if equalFold(f.name, "x-forwarded-for") {
				r.xffCount++
			}
		case 17:
			if equalFold(f.name, "transfer-encoding") {
				tes++
				te = f.value
			}
		}
	}
	if lengths > 1 {
		return errBadLength
	}
	if tes > 0 {
		if r.minor == 0 {
			return errTE10
		}
		if lengths > 0 {
			return errCLAndTE
		}
		if tes > 1 || !equalFold(te, "chunked") {
			return errUnknownTE
		}
		r.chunked = true
	}
	if hosts > 1 {
		return errManyHosts
	}
	if hosts == 0 && r.minor == 1 {
		return errHost
	}
	if hosts == 1 && !validHost(r.host) {
		return errHost
	}
	r.close = wantsClose(r.minor, r.connection)
	return nil
}

// validHost is httpguts.ValidHostHeader: the bytes a Host value may hold.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if !hostByte[h[i]] {
			return false
		}
	}
	return true
}

var hostByte = alnumAnd("!$%&'()*+,-.:;=[]_~")

// fast reports whether r can be forwarded by the fast path as far as its
// head is concerned: origin-form with a path and query that net/url and
// httputil.ReverseProxy would pass on unchanged, no Upgrade, no Expect
// other than 100-continue, no CONNECT. It normalises r's path first (see
// NormalizeTarget): a path it refuses is left to the fallback path,
// which answers 400.
func (r *Request) fast() bool {
	if !r.originForm || r.upgrade || r.expectOther || r.method == "CONNECT" || r.trailerDecl {
		return false
	}
	for i := 0; i < len(r.path); i++ {
		if !fastPath[r.path[i]] {
			return false
		}
	}
	for i := 0; i < len(r.query); i++ {
		if !fastQuery[r.query[i]] {
			return false
		}
	}
	if !validEscapes(r.path) || !validEscapes(r.query) {
		return false
	}
	var ok bool
	r.path, r.target, ok = NormalizeTarget(r.path, r.target)
	return ok
}

// NormalizeTarget normalises the path of an origin-form target (package
// urlpath) before routing: it returns the normal path and the target to
// forward (the normal path, then the query as sent), unchanged and
// without allocating when the path is already normal. ok is false when
// the path is refused.
func NormalizeTarget(path, target string) (p, t string, ok bool) {
	n, err := urlpath.Normalize(path)
	if err != nil {
		return path, target, false
	}
	if len(n) == len(path) && n == path {
		return path, target, true
	}
	return n, n + target[len(path):], true
}

// connectionListed reports whether the Connection fields name the field
// name (hop-by-hop by RFC 9110 section 7.6.1).
func connectionListed(conn []string, name string) bool {
	for _, v := range conn {
		for v != "" {
			var t string
			if i := indexByteString(v, ','); i >= 0 {
				t, v = v[:i], v[i+1:]
			} else {
				t, v = v, ""
			}
			if t = trimOWS(t); t != "" && asciiEqualFold(t, name) {
				return true
			}
		}
	}
	return false
}
