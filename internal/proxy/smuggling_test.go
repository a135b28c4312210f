package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// upstreamLog is a backend that records every request it receives
// (method, path, body) and answers by path: "/s/<code>" with that status,
// "/early" with 103 Early Hints first, "/headlen" a HEAD-style length.
type upstreamLog struct {
	mu   sync.Mutex
	seen []string
}

func (u *upstreamLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return // an incomplete request is not a request
	}
	u.mu.Lock()
	entry := r.Method + " " + r.URL.RequestURI()
	if len(b) > 0 {
		entry += " body=" + string(b)
	}
	for _, k := range []string{"Connection", "Upgrade", "Http2-Settings", "Keep-Alive", "Proxy-Connection"} {
		if _, ok := r.Header[k]; ok {
			entry += " hop=" + k // hop-by-hop fields must not reach a backend
		}
	}
	u.seen = append(u.seen, entry)
	u.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/s/"):
		var code int
		fmt.Sscan(r.URL.Path[3:], &code)
		w.WriteHeader(code)
	case r.URL.Path == "/early":
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		_, _ = io.WriteString(w, "after hints")
	case r.URL.Path == "/slow": // answers after the next request arrived
		time.Sleep(200 * time.Millisecond)
		_, _ = io.WriteString(w, strings.Repeat("slow ", 2000))
	case r.URL.Path == "/headlen":
		w.Header().Set("Content-Length", "100")
		if r.Method != "HEAD" {
			_, _ = w.Write(bytes.Repeat([]byte("x"), 100))
		}
	default:
		_, _ = io.WriteString(w, "ok "+r.URL.Path)
	}
}

func (u *upstreamLog) take() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.seen
	u.seen = nil
	return s
}

// exchange writes raw to addr and reads responses (one per method in
// methods, fewer if the connection closes) until the connection closes or
// the deadline passes. It returns the status codes and whether the
// connection was closed by the proxy.
func exchange(t *testing.T, addr, raw string, methods []string, wait time.Duration) (codes []int, closed bool, resps []*http.Response) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		// A server may answer and close before it has read all of a large
		// request (a head over the limit): its answer is still there to
		// read, and the assertions on it decide.
		t.Logf("write: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	br := bufio.NewReader(c)
	for i := 0; ; i++ {
		m := "GET"
		if i < len(methods) {
			m = methods[i]
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			var ne net.Error
			if ok := asNetErr(err, &ne); ok && ne.Timeout() {
				return codes, false, resps
			}
			return codes, true, resps
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		codes = append(codes, resp.StatusCode)
		resps = append(resps, resp)
		if err != nil {
			return codes, true, resps
		}
		if i+1 >= len(methods) && resp.StatusCode >= 200 {
			// Everything expected arrived: see if the proxy closes (net/http
			// waits half a second before a close it announced).
			d := 100 * time.Millisecond
			if resp.Close {
				d = 2 * time.Second
			}
			_ = c.SetReadDeadline(time.Now().Add(d))
		}
	}
}

func asNetErr(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok
}

const smuggled = "GET /smuggled HTTP/1.1\r\nHost: a.example\r\n\r\n"

// TestSmugglingAndMalformed sends request-smuggling attempts and malformed
// requests over raw TCP and checks the exact answers, whether the
// connection is closed, and what the upstream received: never a request
// the client did not send as one.
func TestSmugglingAndMalformed(t *testing.T) {
	up := &upstreamLog{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	h := newHarness(t)
	base := h.serve(vhost("", route("all", prefixRule("/", to("up", srv)))))
	addr := strings.TrimPrefix(base, "http://")

	type tc struct {
		name string
		raw  string
		// codes are the statuses the client gets (h1 engine); netCodes
		// those of net/http where they differ (nil: same).
		codes, netCodes []int
		closed          bool     // the proxy closes the connection
		netClosed       *bool    // net/http differs
		upstream        []string // what the upstream sees (h1)
		netUpstream     []string // net/http, where it differs
		methods         []string
	}
	yes := true
	host := "Host: a.example\r\n"
	cases := []tc{
		{name: "plain", raw: "GET /a HTTP/1.1\r\n" + host + "\r\n", codes: []int{200}, upstream: []string{"GET /a"}},
		{name: "leading CRLF", raw: "\r\nGET /a HTTP/1.1\r\n" + host + "\r\n", codes: []int{200}, upstream: []string{"GET /a"}},
		{name: "pipelined in order", raw: "GET /1 HTTP/1.1\r\n" + host + "\r\nGET /2 HTTP/1.1\r\n" + host + "\r\n", codes: []int{200, 200}, upstream: []string{"GET /1", "GET /2"}, methods: []string{"GET", "GET"}},
		{name: "CL.TE", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG" + smuggled,
			codes: []int{400}, closed: true, methods: []string{"POST", "GET"}},
		{name: "TE.CL", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST /smuggled HTTP/1.1\r\n\r\n0\r\n\r\n",
			codes: []int{400}, closed: true},
		{name: "TE chunked, identity", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled, codes: []int{501}, closed: true},
		{name: "TE xchunked", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\nabc", codes: []int{400}, closed: true},
		{name: "TE space before colon", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc", codes: []int{400}, closed: true},
		{name: "TE obs-fold", raw: "POST /a HTTP/1.1\r\n" + host + "X-Pad: 1\r\n Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", codes: []int{400}, closed: true},
		{name: "TE twice", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", codes: []int{501}, closed: true},
		{name: "TE upper case", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n", codes: []int{200}, upstream: []string{"POST /a body=abc"}},
		{name: "TE tab", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding:\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", codes: []int{200}, upstream: []string{"POST /a body=abc"}},
		{name: "TE in HTTP/1.0", raw: "POST /a HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", codes: []int{400}, closed: true},
		{name: "duplicate CL", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", codes: []int{400}, closed: true},
		{name: "CL list", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length: 3, 3\r\n\r\nabc", codes: []int{400}, closed: true},
		{name: "different CLs", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc" + smuggled, codes: []int{400}, closed: true},
		{name: "negative CL", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", codes: []int{400}, closed: true},
		{name: "plus CL", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\nabc", codes: []int{400}, closed: true},
		{name: "huge CL", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n", codes: []int{400}, closed: true},
		{name: "CL with OWS", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length:  3 \r\n\r\nabc", codes: []int{200}, upstream: []string{"POST /a body=abc"}},
		{name: "GET with body", raw: "GET /a HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabc", codes: []int{200}, upstream: []string{"GET /a body=abc"}},
		{name: "body then pipelined", raw: "POST /a HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n" + host + "\r\n", codes: []int{200, 200}, upstream: []string{"POST /a body=abc", "GET /b"}, methods: []string{"POST", "GET"}},
		{name: "chunked extensions", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n2 ; x\r\nde\r\n0\r\n\r\n", codes: []int{200}, upstream: []string{"POST /a body=abcde"},
			netCodes: []int{400}, netClosed: &yes, netUpstream: []string{}}, // Go refuses BWS before ';'
		{name: "chunked trailers", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", codes: []int{200}, upstream: []string{"POST /a body=abc"}},
		{name: "chunked then pipelined", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /b HTTP/1.1\r\n" + host + "\r\n", codes: []int{200, 200}, upstream: []string{"POST /a body=abc", "GET /b"}, methods: []string{"POST", "GET"}},
		{name: "chunk size not hex", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" + smuggled, codes: []int{400}, closed: true},
		{name: "chunk size 0x", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n" + smuggled, codes: []int{400}, closed: true},
		{name: "chunk size overflow", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n" + smuggled, codes: []int{400}, closed: true},
		{name: "chunk size bare LF", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n" + smuggled, codes: []int{400}, closed: true},
		{name: "chunk data too long", raw: "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n" + smuggled, codes: []int{400}, closed: true},
		{name: "header CR injection", raw: "GET /a HTTP/1.1\r\n" + host + "X-A: 1\rX-B: 2\r\n\r\n", codes: []int{400}, closed: true},
		{name: "header NUL", raw: "GET /a HTTP/1.1\r\n" + host + "X-A: 1\x002\r\n\r\n", codes: []int{400}, closed: true},
		{name: "header bare LF", raw: "GET /a HTTP/1.1\r\n" + host + "X-A: 1\nX-B: 2\r\n\r\n", codes: []int{400}, closed: true},
		{name: "header name space", raw: "GET /a HTTP/1.1\r\n" + host + "X A: 1\r\n\r\n", codes: []int{400}, closed: true},
		{name: "header no colon", raw: "GET /a HTTP/1.1\r\n" + host + "XA\r\n\r\n", codes: []int{400}, closed: true},
		{name: "missing Host", raw: "GET /a HTTP/1.1\r\n\r\n", codes: []int{400}, closed: true},
		{name: "two Hosts", raw: "GET /a HTTP/1.1\r\n" + host + "Host: b.example\r\n\r\n", codes: []int{400}, closed: true},
		{name: "bad Host", raw: "GET /a HTTP/1.1\r\nHost: a b\r\n\r\n", codes: []int{400}, closed: true},
		{name: "HTTP/1.0 without Host", raw: "GET /a HTTP/1.0\r\n\r\n", codes: []int{200}, closed: true, upstream: []string{"GET /a"}},
		{name: "HTTP/1.0 keep-alive", raw: "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n", codes: []int{200, 200}, closed: true, upstream: []string{"GET /a", "GET /b"}, methods: []string{"GET", "GET"}},
		{name: "Connection close", raw: "GET /a HTTP/1.1\r\n" + host + "Connection: close\r\n\r\nGET /b HTTP/1.1\r\n" + host + "\r\n", codes: []int{200}, closed: true, upstream: []string{"GET /a"}},
		{name: "absolute-form", raw: "GET http://a.example/abs?q=1 HTTP/1.1\r\nHost: other\r\n\r\n", codes: []int{200}, upstream: []string{"GET /abs?q=1"}},
		{name: "bad method", raw: "G@T /a HTTP/1.1\r\n" + host + "\r\n", codes: []int{400}, closed: true},
		{name: "double space", raw: "GET  /a HTTP/1.1\r\n" + host + "\r\n", codes: []int{400}, closed: true},
		{name: "bad version", raw: "GET /a HTTP/1.1x\r\n" + host + "\r\n", codes: []int{400}, closed: true},
		{name: "HTTP/2.0 head", raw: "GET /a HTTP/2.0\r\n" + host + "\r\n", codes: []int{505}, closed: true},
		{name: "request line bare LF", raw: "GET /a HTTP/1.1\n" + host + "\r\n", codes: []int{400}, closed: true},
		{name: "control char in target", raw: "GET /a\x01b HTTP/1.1\r\n" + host + "\r\n", codes: []int{400}, closed: true},
		{name: "unknown Expect", raw: "GET /a HTTP/1.1\r\n" + host + "Expect: magic\r\n\r\n", codes: []int{417}, closed: true},
		{name: "Expect 100-continue", raw: "POST /a HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", codes: []int{200}, upstream: []string{"POST /a body=abc"},
			netCodes: []int{100, 200}}, // h1 had the body already: no 100 needed
		{name: "HEAD with length", raw: "HEAD /headlen HTTP/1.1\r\n" + host + "\r\nGET /b HTTP/1.1\r\n" + host + "\r\n", codes: []int{200, 200}, upstream: []string{"HEAD /headlen", "GET /b"}, methods: []string{"HEAD", "GET"}},
		{name: "204 then next", raw: "GET /s/204 HTTP/1.1\r\n" + host + "\r\nGET /b HTTP/1.1\r\n" + host + "\r\n", codes: []int{204, 200}, upstream: []string{"GET /s/204", "GET /b"}, methods: []string{"GET", "GET"}},
		{name: "304 then next", raw: "GET /s/304 HTTP/1.1\r\n" + host + "\r\nGET /b HTTP/1.1\r\n" + host + "\r\n", codes: []int{304, 200}, upstream: []string{"GET /s/304", "GET /b"}, methods: []string{"GET", "GET"}},
		{name: "103 early hints", raw: "GET /early HTTP/1.1\r\n" + host + "\r\n", codes: []int{103, 200}, upstream: []string{"GET /early"}, methods: []string{"GET", "GET"}},
		{name: "head over 64 KiB in one read", raw: "GET /a HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", codes: []int{431}, closed: true},
		{name: "head just under 64 KiB", raw: "GET /a HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("a", 60<<10) + "\r\n\r\n", codes: []int{200}, upstream: []string{"GET /a"}},
		{name: "h2c upgrade fields", raw: "GET /a HTTP/1.1\r\n" + host + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n" + http2.ClientPreface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00",
			codes: []int{101}, closed: true, upstream: []string{"GET /a"}},
		{name: "after a refused upgrade", raw: "GET /a HTTP/1.1\r\n" + host + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n" +
			"POST /b HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			// The upgrade is passed on (its fields too), refused by the
			// backend (200): the next request is checked as any other.
			codes: []int{200, 400}, closed: true, upstream: []string{"GET /a hop=Connection hop=Upgrade"}, methods: []string{"GET", "POST"}},
		{name: "valid then refused", raw: "GET /s/200 HTTP/1.1\r\n" + host + "\r\nGET /b HTTP/1.1\n" + host + "\r\n",
			codes: []int{200, 400}, closed: true, upstream: []string{"GET /s/200"}, methods: []string{"GET", "GET"}},
		{name: "slow valid then refused", raw: "GET /slow HTTP/1.1\r\n" + host + "\r\nPOST /b HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx",
			codes: []int{200, 400}, closed: true, upstream: []string{"GET /slow"}, methods: []string{"GET", "POST"}},
		{name: "hop-by-hop fields", raw: "GET /a HTTP/1.1\r\n" + host + "Connection: X-Hop, keep-alive\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nProxy-Connection: x\r\n\r\n", codes: []int{200}, upstream: []string{"GET /a"}},
		{name: "head too large", raw: "GET /a HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", codes: []int{431}, closed: true},
	}
	net := engineName() == "nethttp"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up.take()
			wantCodes, wantClosed, wantUp := c.codes, c.closed, c.upstream
			if net {
				if c.netCodes != nil {
					wantCodes = c.netCodes
				}
				if c.netClosed != nil {
					wantClosed = *c.netClosed
				}
				if c.netUpstream != nil {
					wantUp = c.netUpstream
				}
			}
			methods := c.methods
			if methods == nil {
				methods = []string{strings.Fields(c.raw)[0]}
			}
			codes, closed, _ := exchange(t, addr, c.raw, methods, 2*time.Second)
			if !slices.Equal(codes, wantCodes) {
				t.Errorf("statuses %v, want %v", codes, wantCodes)
			}
			if closed != wantClosed {
				t.Errorf("connection closed: %v, want %v", closed, wantClosed)
			}
			time.Sleep(20 * time.Millisecond) // let the upstream record
			got := up.take()
			for _, g := range got {
				if strings.Contains(g, "smuggled") && !slices.Contains(wantUp, g) {
					t.Errorf("the upstream received a smuggled request: %q", g)
				}
			}
			if !slices.Equal(got, wantUp) {
				t.Errorf("upstream saw %q, want %q", got, wantUp)
			}
		})
	}
}
