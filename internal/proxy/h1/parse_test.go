package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

func parse(s string) (*Request, *reqError) {
	b := []byte(s)
	end, _ := headEnd(b, 0)
	if end == 0 {
		return nil, errBadRequest
	}
	r := &Request{}
	return r, parseRequest(b[:end], r)
}

func TestParseRequest(t *testing.T) {
	cases := []struct {
		in     string
		status int // 0: accepted
		check  func(*Request) bool
	}{
		{"GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n", 0, func(r *Request) bool {
			return r.method == "GET" && r.path == "/a" && r.query == "b=c" && r.host == "x" && !r.close && r.contentLength == -1
		}},
		{"GET / HTTP/1.0\r\n\r\n", 0, func(r *Request) bool { return r.close && r.minor == 0 }},
		{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, func(r *Request) bool { return !r.close }},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n", 0, func(r *Request) bool { return r.close }},
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", 0, func(r *Request) bool { return r.chunked }},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n", 0, func(r *Request) bool { return r.contentLength == 12 }},
		{"GET / HTTP/1.2\r\nHost: x\r\n\r\n", 0, func(r *Request) bool { return r.minor == 1 }},
		{"GET / HTTP/1.1\r\nHost: x\r\nTE: trailers, deflate\r\n\r\n", 0, func(r *Request) bool { return r.teTrailers }},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: \x80\xff\r\n\r\n", 0, nil}, // obs-text
		{"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, nil},
		{"PRI * HTTP/2.0\r\n\r\n", -1, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 01x\r\n\r\n", 400, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A:\x7f\r\n\r\n", 400, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n", 400, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n", 400, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\n\r\n", 400, nil},
		{"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, nil},
		{"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400, nil},
		{"GET / HTTP/1.1\r\nHost: x/y\r\n\r\n", 400, nil},
	}
	for _, c := range cases {
		r, err := parse(c.in)
		switch {
		case c.status == 0 && err != nil:
			t.Errorf("%q: refused (%v)", c.in, err)
		case c.status == -1 && err != errH2Preface:
			t.Errorf("%q: %v, want the HTTP/2 preface", c.in, err)
		case c.status > 0 && (err == nil || err.status != c.status):
			t.Errorf("%q: %v, want %d", c.in, err, c.status)
		case c.status == 0 && c.check != nil && !c.check(r):
			t.Errorf("%q: parsed as %+v", c.in, r)
		}
	}
}

func TestFastPathTargets(t *testing.T) {
	for target, fast := range map[string]bool{
		"/a/b?c=d":         true,
		"/a%2Fb":           true,
		"/a%2":             false,
		"/caf\xc3\xa9":     false, // net/url escapes it: fallback decides
		"/a?x=1;y=2":       false, // ReverseProxy re-encodes ';' queries
		"/a?x=%zz":         false,
		"/(x)!*'[y]":       true,
		"*":                false,
		"http://h/a":       false,
		"/a|b":             false,
		"/a?q=a|b&r=\"s\"": true,
	} {
		r, err := parse("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")
		if err != nil {
			t.Errorf("%q: %v", target, err)
			continue
		}
		if r.fast() != fast {
			t.Errorf("%q: fast %v, want %v", target, r.fast(), fast)
		}
	}
}

// FuzzParseRequest checks that the parser never accepts what net/http
// would read differently: whatever it accepts, http.ReadRequest reads
// with the same method, target, Host and body framing.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /p?q HTTP/1.1\r\nHost: a.example:8080\r\nContent-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\n\r\n",
		"GET http://x/ HTTP/1.1\r\nHost: y\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		end, _ := headEnd(data, 0)
		if end == 0 {
			return
		}
		var r Request
		if err := parseRequest(data[:end], &r); err != nil {
			return
		}
		if r.chunked && r.contentLength >= 0 {
			t.Fatalf("both chunked and Content-Length")
		}
		_ = r.fast()
		if _, err := url.ParseRequestURI(r.target); err != nil {
			return // the fallback path answers 400, as net/http does
		}
		gr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("accepted %q, net/http refuses it: %v", data[:end], err)
		}
		if gr.Method != r.method || gr.RequestURI != r.target {
			t.Fatalf("%q: method/target %q %q, net/http %q %q", data[:end], r.method, r.target, gr.Method, gr.RequestURI)
		}
		if r.originForm && gr.Host != r.host {
			t.Fatalf("%q: host %q, net/http %q", data[:end], r.host, gr.Host)
		}
		switch {
		case r.chunked:
			if len(gr.TransferEncoding) != 1 || gr.TransferEncoding[0] != "chunked" {
				t.Fatalf("%q: chunked, net/http %v", data[:end], gr.TransferEncoding)
			}
		case r.contentLength >= 0:
			if gr.ContentLength != r.contentLength {
				t.Fatalf("%q: length %d, net/http %d", data[:end], r.contentLength, gr.ContentLength)
			}
		default:
			if gr.ContentLength != 0 {
				t.Fatalf("%q: no body, net/http length %d", data[:end], gr.ContentLength)
			}
		}
		if gr.Close != r.close {
			t.Fatalf("%q: close %v, net/http %v", data[:end], r.close, gr.Close)
		}
	})
}

// decodeAll runs the chunked decoder over src given in pieces cut at the
// offsets in cuts, as a connection would deliver it.
func decodeAll(src []byte, cuts []int) (data, trailers string, consumed int, err error) {
	var d chunked
	var buf []byte
	var out, tr strings.Builder
	pos := 0
	for _, c := range append(cuts, len(src)) {
		if c < pos || c > len(src) {
			continue
		}
		buf = append(buf, src[pos:c]...)
		pos = c
		for {
			kind, piece, n, e := d.next(buf)
			consumed += n
			buf = buf[n:]
			if e != nil {
				return "", "", 0, e
			}
			switch kind {
			case pData:
				out.Write(piece)
				continue
			case pTrailer:
				tr.Write(piece)
				tr.WriteString("\n")
				continue
			case pDone:
				return out.String(), tr.String(), consumed, nil
			}
			break
		}
	}
	return out.String(), tr.String(), consumed, io.ErrUnexpectedEOF
}

// FuzzChunked checks the chunked decoder: the same result however the
// input is split, and never a body net/http's chunked reader would read
// differently.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint16(3))
	f.Add([]byte("3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET"), uint16(9))
	f.Add([]byte("ffffffffffffffff\r\n"), uint16(1))
	f.Add([]byte("1\r\nab\r\n0\r\n\r\n"), uint16(0))
	f.Fuzz(func(t *testing.T, src []byte, cut uint16) {
		d1, t1, n1, e1 := decodeAll(src, nil)
		d2, t2, n2, e2 := decodeAll(src, []int{int(cut) % (len(src) + 1)})
		if (e1 == nil) != (e2 == nil) || d1 != d2 || t1 != t2 || n1 != n2 {
			t.Fatalf("split at %d changed the result: %q/%v vs %q/%v", cut, d1, e1, d2, e2)
		}
		if e1 != nil {
			return
		}
		got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(src[:n1])))
		if err != nil || string(got) != d1 {
			t.Fatalf("%q: decoded %q, net/http %q (%v)", src[:n1], d1, got, err)
		}
	})
}
