package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"portico.dev/portico/internal/ir"
)

// pathCase is one request target and what must come of it: refused with
// 400 (path ""), or seen by the backend as path, through the guarded
// /admin rule or not.
type pathCase struct {
	target  string
	path    string
	guarded bool
	h1Only  bool // not a valid HTTP/2 :path (absolute-form)
}

var pathTable = []pathCase{
	{target: "/admin/x", path: "/admin/x", guarded: true},
	{target: "/public/x", path: "/public/x"},
	{target: "/public/../admin/x", path: "/admin/x", guarded: true},
	{target: "/public/%2e%2e/admin", path: "/admin", guarded: true},
	{target: "/public/%2E%2e/admin", path: "/admin", guarded: true},
	{target: "//admin", path: "/admin", guarded: true},
	{target: "//admin//x", path: "/admin/x", guarded: true},
	{target: "/./admin", path: "/admin", guarded: true},
	{target: "/%61dmin", path: "/admin", guarded: true},
	{target: "/%61dmin/%7e", path: "/admin/~", guarded: true},
	{target: "/admin/./x/../y?q=%2e%2e/a//b", path: "/admin/y?q=%2e%2e/a//b", guarded: true},
	{target: "/admin/a\"b", path: "/admin/a%22b", guarded: true}, // the h1 engine's fallback path
	{target: "/admin%2fx", path: "/admin%2Fx"},                   // an encoded slash is data
	{target: "/public/..%2Fadmin", path: "/public/..%2Fadmin"},
	{target: "/public/%2e%2e%5cadmin", path: "/public/..%5Cadmin"},
	{target: "/admin;x=1", path: "/admin;x=1"},
	{target: "/rewrite/../rewrite/admin/x", path: "/private/x"},
	{target: "/%72ewrite/admin//y", path: "/private/y"},
	{target: "http://example.com/public/../admin", path: "/admin", guarded: true, h1Only: true},
	{target: "http://example.com/%61dmin?x=1", path: "/admin?x=1", guarded: true, h1Only: true},
	{target: "/../admin"},
	{target: "/public/../../admin"},
	{target: "/public/..;/admin"},
	{target: "/public/.;x/admin"},
	{target: "/public/%2e%2e;/admin"},
	{target: "/a%00b"},
	{target: "/a%zz"},
	{target: `/public\..\admin`},
	{target: `/admin\x`},
	{target: "*"},
	{target: "example.com:80"},
}

// pathProxy serves a listener whose /admin rule is guarded (it sets
// X-Guard), a rule that rewrites /rewrite/admin to /private, and a
// catch-all, all to one echo backend.
func pathProxy(t *testing.T) string {
	h := newHarness(t)
	e := to("echo", echoServer(t, "echo"))
	url := h.serve(vhost("", route("r",
		withFilters(prefixRule("/admin", e), ir.HTTPFilters{RequestHeaders: &ir.HeaderModifier{
			Set: []ir.Header{{Name: "X-Guard", Value: "admin"}},
		}}),
		withFilters(prefixRule("/rewrite/admin", e), ir.HTTPFilters{Rewrite: &ir.Rewrite{
			Path: &ir.PathModifier{Type: ir.PrefixMatch, Value: "/private"},
		}}),
		prefixRule("/", e),
	)))
	return strings.TrimPrefix(url, "http://")
}

func checkPathCase(t *testing.T, proto string, c pathCase, status int, body []byte) {
	t.Helper()
	if c.path == "" {
		if status != http.StatusBadRequest {
			t.Errorf("%s %q: got %d %s, want 400", proto, c.target, status, body)
		}
		return
	}
	var e echo
	if status != 200 || json.Unmarshal(body, &e) != nil {
		t.Errorf("%s %q: got %d %s, want 200 from the backend", proto, c.target, status, body)
		return
	}
	if e.Path != c.path || (e.Header.Get("X-Guard") == "admin") != c.guarded {
		t.Errorf("%s %q: backend saw %q (X-Guard %q), want %q guarded=%v", proto, c.target, e.Path, e.Header.Get("X-Guard"), c.path, c.guarded)
	}
}

func TestPathNormalisationHTTP1(t *testing.T) {
	addr := pathProxy(t)
	for _, c := range pathTable {
		status, body := rawHTTP1(t, addr, c.target)
		checkPathCase(t, "HTTP/1.1", c, status, body)
	}
}

func TestPathNormalisationHTTP2(t *testing.T) {
	addr := pathProxy(t)
	for _, c := range pathTable {
		if c.h1Only || !strings.HasPrefix(c.target, "/") {
			continue
		}
		status, body, reset := rawH2C(t, addr, c.target)
		if reset && c.path == "" {
			continue // a :path the HTTP/2 server refuses as malformed
		}
		checkPathCase(t, "HTTP/2", c, status, body)
	}
}

// rawHTTP1 sends GET target as written and returns the answer.
func rawHTTP1(t *testing.T, addr, target string) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// rawH2C sends GET with :path target over cleartext HTTP/2 (prior
// knowledge) and returns the answer, or reset when the stream was reset.
func rawH2C(t *testing.T, addr, target string) (status int, body []byte, reset bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, http2.ClientPreface)
	fr := http2.NewFramer(conn, conn)
	_ = fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "example.com"}, {":path", target}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	dec := hpack.NewDecoder(4096, nil)
	var out bytes.Buffer
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf(":path %q: reading frames: %v", target, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.RSTStreamFrame:
			return 0, nil, true
		case *http2.GoAwayFrame:
			t.Fatalf(":path %q: GOAWAY %v", target, f.ErrCode)
		case *http2.HeadersFrame:
			fields, _ := dec.DecodeFull(f.HeaderBlockFragment())
			for _, hf := range fields {
				if hf.Name == ":status" {
					fmt.Sscan(hf.Value, &status)
				}
			}
			if f.StreamEnded() {
				return status, out.Bytes(), false
			}
		case *http2.DataFrame:
			out.Write(f.Data())
			if f.StreamEnded() {
				return status, out.Bytes(), false
			}
		}
	}
}

// Route values are put in the normal form of request paths: a rule on
// "/%7Euser" still matches once "/%7Euser/x" is normalised to "/~user/x".
func TestPathNormalisationRouteValues(t *testing.T) {
	h := newHarness(t)
	e := to("echo", echoServer(t, "echo"))
	url := h.serve(vhost("", route("r",
		withFilters(prefixRule("/%7euser", e), ir.HTTPFilters{RequestHeaders: &ir.HeaderModifier{
			Set: []ir.Header{{Name: "X-Guard", Value: "admin"}},
		}}),
		prefixRule("/", e),
	)))
	for _, target := range []string{"/~user/x", "/%7Euser/x", "/%7euser/x"} {
		status, body := rawHTTP1(t, strings.TrimPrefix(url, "http://"), target)
		checkPathCase(t, "HTTP/1.1", pathCase{target: target, path: "/~user/x", guarded: true}, status, body)
	}
}
