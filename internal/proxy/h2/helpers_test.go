package h2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"portico.dev/portico/internal/proxy/h1"
	"portico.dev/portico/internal/testcert"
)

// ioTimeout bounds every single network wait of a test.
const ioTimeout = 5 * time.Second

// testServer is an h2.Server fed by a real listener on 127.0.0.1.
type testServer struct {
	*Server
	t         testing.TB
	ln        net.Listener
	addr      string
	tls       bool
	clientTLS *tls.Config // for TLS clients
	serving   sync.WaitGroup
	active    atomic.Int32 // ServeConn calls in progress
	accepts   atomic.Int32
}

type serverOpt func(*testServer)

func withTLS() serverOpt { return func(ts *testServer) { ts.tls = true } }

// startServer listens on 127.0.0.1:0 and serves every accepted connection
// with srv.ServeConn: cleartext with prior knowledge, or TLS with ALPN h2.
func startServer(t testing.TB, cfg Config, opts ...serverOpt) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: NewServer(cfg), t: t, ln: ln, addr: ln.Addr().String()}
	for _, o := range opts {
		o(ts)
	}
	var serverTLS *tls.Config
	if ts.tls {
		ca := testcert.NewCA(t, "h2 test CA")
		kp := ca.Server(t, "example.com", "localhost")
		serverTLS = &tls.Config{Certificates: []tls.Certificate{kp.TLS()}, NextProtos: []string{"h2", "http/1.1"}}
		ts.clientTLS = &tls.Config{RootCAs: ca.Pool(), ServerName: "example.com", NextProtos: []string{"h2"}}
	}
	ts.serving.Add(1)
	go func() {
		defer ts.serving.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			ts.accepts.Add(1)
			ts.serving.Add(1)
			ts.active.Add(1)
			go func() {
				defer ts.serving.Done()
				defer ts.active.Add(-1)
				if serverTLS == nil {
					ts.ServeConn(nc, nil)
					return
				}
				tc := tls.Server(nc, serverTLS)
				_ = tc.SetDeadline(time.Now().Add(ioTimeout))
				if err := tc.Handshake(); err != nil {
					tc.Close()
					return
				}
				_ = tc.SetDeadline(time.Time{})
				st := tc.ConnectionState()
				if st.NegotiatedProtocol != "h2" {
					tc.Close()
					return
				}
				ts.ServeConn(tc, &st)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		ts.Close()
		done := make(chan struct{})
		go func() { ts.serving.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(ioTimeout):
			t.Errorf("ServeConn did not return %v after Server.Close", ioTimeout)
		}
	})
	return ts
}

func (ts *testServer) url(path string) string {
	if ts.tls {
		return "https://" + ts.addr + path
	}
	return "http://" + ts.addr + path
}

// client returns an HTTP/2-only client of golang.org/x/net/http2 for ts:
// prior knowledge in cleartext, ALPN h2 over TLS.
func (ts *testServer) client(t testing.TB) (*http.Client, *http2.Transport) {
	tr := &http2.Transport{}
	if ts.tls {
		tr.TLSClientConfig = ts.clientTLS.Clone()
	} else {
		tr.AllowHTTP = true
		tr.DialTLSContext = func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 2 * ioTimeout}, tr
}

// dial opens a transport connection to ts (TLS with ALPN h2 when ts uses
// TLS), with no HTTP/2 bytes sent yet.
func (ts *testServer) dial(t testing.TB) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", ts.addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if ts.tls {
		tc := tls.Client(nc, ts.clientTLS.Clone())
		_ = tc.SetDeadline(time.Now().Add(ioTimeout))
		if err := tc.Handshake(); err != nil {
			nc.Close()
			t.Fatal(err)
		}
		_ = tc.SetDeadline(time.Time{})
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			t.Fatalf("ALPN negotiated %q, want h2", p)
		}
		nc = tc
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// --- raw HTTP/2 client ---

// rawConn is a hand-driven HTTP/2 client connection.
type rawConn struct {
	t    testing.TB
	nc   net.Conn
	fr   *http2.Framer
	enc  *hpack.Encoder
	ebuf bytes.Buffer

	// autoWindow: answer every DATA frame with WINDOW_UPDATEs for the
	// stream and the connection.
	autoWindow bool
	// noPingAck: leave the server's PINGs unanswered (a real client
	// answers them; next does unless this is set).
	noPingAck      bool
	serverSettings map[http2.SettingID]uint32
	settingsAcked  bool
	gotSettings    bool
	streams        map[uint32]*rawStream
	goAway         *http2.GoAwayFrame
	goAwayData     []byte
	// Send windows the server granted: the connection's and each
	// stream's (beyond SETTINGS_INITIAL_WINDOW_SIZE).
	sendConn   int64
	sendStream map[uint32]int64
}

// rawStream is what a rawConn received on one stream.
type rawStream struct {
	id      uint32
	blocks  [][]hpack.HeaderField // every header block, in order
	infos   []int                 // 1xx statuses
	status  int                   // final status
	header  []hpack.HeaderField   // final header block
	trailer []hpack.HeaderField
	body    bytes.Buffer
	ended   bool // END_STREAM received
	rst     bool
	rstCode http2.ErrCode
	// frames counts DATA frames; maxData is the largest payload.
	frames, maxData int
}

func (s *rawStream) get(name string) string {
	for _, f := range s.header {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func (s *rawStream) values(name string) []string {
	var vs []string
	for _, f := range s.header {
		if f.Name == name {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

func (s *rawStream) done() bool { return s.ended || s.rst }

// newRaw wraps nc (nothing sent yet) as a raw client.
func newRaw(t testing.TB, nc net.Conn) *rawConn {
	c := &rawConn{t: t, nc: nc, streams: map[uint32]*rawStream{}, serverSettings: map[http2.SettingID]uint32{}, autoWindow: true,
		sendConn: 65535, sendStream: map[uint32]int64{}}
	c.fr = http2.NewFramer(nc, nc)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(65536, nil)
	c.fr.MaxHeaderListSize = 1 << 20
	c.enc = hpack.NewEncoder(&c.ebuf)
	return c
}

// dialRaw connects to ts and sends the client preface and SETTINGS (the
// handshake is completed by handshake or by the first reads).
func dialRaw(t testing.TB, ts *testServer, settings ...http2.Setting) *rawConn {
	t.Helper()
	c := newRaw(t, ts.dial(t))
	c.preface()
	if err := c.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	return c
}

// handshakeRaw is dialRaw followed by the exchange of SETTINGS (the
// server's received and acknowledged, ours acknowledged).
func handshakeRaw(t testing.TB, ts *testServer, settings ...http2.Setting) *rawConn {
	t.Helper()
	c := dialRaw(t, ts, settings...)
	c.handshake()
	return c
}

func (c *rawConn) preface() {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.nc, http2.ClientPreface); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawConn) handshake() {
	c.t.Helper()
	for !c.gotSettings || !c.settingsAcked {
		if _, err := c.next(); err != nil {
			c.t.Fatalf("handshake: %v", err)
		}
	}
}

// next reads one frame (waiting at most ioTimeout) and records it:
// SETTINGS are acknowledged, DATA is credited back when autoWindow is on.
func (c *rawConn) next() (http2.Frame, error) {
	return c.nextWithin(ioTimeout)
}

func (c *rawConn) nextWithin(d time.Duration) (http2.Frame, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	f, err := c.fr.ReadFrame()
	if err != nil {
		return nil, err
	}
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			c.settingsAcked = true
		} else {
			c.gotSettings = true
			_ = f.ForeachSetting(func(s http2.Setting) error { c.serverSettings[s.ID] = s.Val; return nil })
			c.write(func() error { return c.fr.WriteSettingsAck() })
		}
	case *http2.MetaHeadersFrame:
		s := c.stream(f.StreamID)
		fields := append([]hpack.HeaderField(nil), f.Fields...)
		s.blocks = append(s.blocks, fields)
		if st := f.PseudoValue("status"); st != "" {
			code, _ := strconv.Atoi(st)
			if code < 200 {
				s.infos = append(s.infos, code)
			} else {
				s.status, s.header = code, fields
			}
		} else {
			s.trailer = fields
		}
		if f.StreamEnded() {
			s.ended = true
		}
	case *http2.DataFrame:
		s := c.stream(f.StreamID)
		s.body.Write(f.Data())
		s.frames++
		s.maxData = max(s.maxData, len(f.Data()))
		if f.StreamEnded() {
			s.ended = true
		}
		if n := f.Length; c.autoWindow && n > 0 {
			c.write(func() error { return c.fr.WriteWindowUpdate(0, n) })
			if !f.StreamEnded() {
				c.write(func() error { return c.fr.WriteWindowUpdate(f.StreamID, n) })
			}
		}
	case *http2.RSTStreamFrame:
		s := c.stream(f.StreamID)
		s.rst, s.rstCode = true, f.ErrCode
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.sendConn += int64(f.Increment)
		} else {
			c.sendStream[f.StreamID] += int64(f.Increment)
		}
	case *http2.GoAwayFrame:
		c.goAway = f
		c.goAwayData = append([]byte(nil), f.DebugData()...)
	case *http2.PingFrame:
		if !f.IsAck() && !c.noPingAck {
			c.write(func() error { return c.fr.WritePing(true, f.Data) })
		}
	}
	return f, nil
}

func (c *rawConn) stream(id uint32) *rawStream {
	s := c.streams[id]
	if s == nil {
		s = &rawStream{id: id}
		c.streams[id] = s
	}
	return s
}

// write runs a framer write with a deadline; errors fail the test only if
// they are not caused by the server closing the connection.
func (c *rawConn) write(f func() error) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := f(); err != nil && !isClosedErr(err) {
		c.t.Errorf("raw write: %v", err)
	}
}

// mustWrite is write for frames the test needs to arrive.
func (c *rawConn) mustWrite(f func() error) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := f(); err != nil {
		c.t.Fatalf("raw write: %v", err)
	}
}

func isClosedErr(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset by peer") ||
		strings.Contains(err.Error(), "broken pipe")
}

// hf builds header fields from name, value pairs.
func hf(kv ...string) []hpack.HeaderField {
	var fs []hpack.HeaderField
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return fs
}

// reqFields is a request's pseudo-header fields followed by extra.
func reqFields(method, path string, extra ...string) []hpack.HeaderField {
	fs := hf(":method", method, ":scheme", "http", ":authority", "example.com", ":path", path)
	return append(fs, hf(extra...)...)
}

// encode returns the HPACK block of fields.
func (c *rawConn) encode(fields []hpack.HeaderField) []byte {
	c.ebuf.Reset()
	for _, f := range fields {
		if err := c.enc.WriteField(f); err != nil {
			c.t.Fatal(err)
		}
	}
	return append([]byte(nil), c.ebuf.Bytes()...)
}

// headers sends fields on stream id (HEADERS and CONTINUATION frames of at
// most 16 KiB).
func (c *rawConn) headers(id uint32, end bool, fields []hpack.HeaderField) {
	c.t.Helper()
	c.headersPrio(id, end, http2.PriorityParam{}, fields)
}

func (c *rawConn) headersPrio(id uint32, end bool, prio http2.PriorityParam, fields []hpack.HeaderField) {
	c.t.Helper()
	block := c.encode(fields)
	const max = 16384
	first := true
	for first || len(block) > 0 {
		n := min(len(block), max)
		frag := block[:n]
		block = block[n:]
		if first {
			c.mustWrite(func() error {
				return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: frag, EndStream: end, EndHeaders: len(block) == 0, Priority: prio})
			})
			first = false
		} else {
			c.mustWrite(func() error { return c.fr.WriteContinuation(id, len(block) == 0, frag) })
		}
	}
}

// get sends a bodyless GET for path on stream id.
func (c *rawConn) get(id uint32, path string, extra ...string) {
	c.t.Helper()
	c.headers(id, true, reqFields("GET", path, extra...))
}

func (c *rawConn) data(id uint32, end bool, p []byte) {
	c.t.Helper()
	for first := true; first || len(p) > 0; first = false {
		n := min(len(p), 16384)
		chunk := p[:n]
		p = p[n:]
		c.mustWrite(func() error { return c.fr.WriteData(id, end && len(p) == 0, chunk) })
	}
}

// streamWindow is what the client may send on stream id: the server's
// initial window (ignoring SETTINGS changes after the first), the updates,
// less what was sent (recorded in sendStream as negative amounts).
func (c *rawConn) streamWindow(id uint32) int64 {
	init := int64(65535)
	if v, ok := c.serverSettings[http2.SettingInitialWindowSize]; ok {
		init = int64(v)
	}
	return init + c.sendStream[id]
}

// sendBody sends p on stream id within the flow-control windows the
// server grants, reading frames (for WINDOW_UPDATE) when they are
// exhausted; it fails the test when the server grants nothing for
// ioTimeout.
func (c *rawConn) sendBody(id uint32, p []byte, end bool) {
	c.t.Helper()
	for first := true; first || len(p) > 0; first = false {
		n := min(int64(len(p)), 16384, c.sendConn, c.streamWindow(id))
		if n <= 0 && len(p) > 0 {
			if _, err := c.next(); err != nil {
				c.t.Fatalf("stream %d: %d bytes left to send, windows: connection %d, stream %d: %v (goaway %v)",
					id, len(p), c.sendConn, c.streamWindow(id), err, c.goAway)
			}
			first = true
			continue
		}
		chunk := p[:n]
		p = p[n:]
		c.sendConn -= n
		c.sendStream[id] -= n
		c.mustWrite(func() error { return c.fr.WriteData(id, end && len(p) == 0, chunk) })
	}
}

// response reads frames until stream id is done (END_STREAM or RST).
func (c *rawConn) response(id uint32) *rawStream {
	c.t.Helper()
	s := c.stream(id)
	for !s.done() {
		if _, err := c.next(); err != nil {
			c.t.Fatalf("reading stream %d: %v (goaway %v)", id, err, c.goAway)
		}
	}
	return s
}

// until reads frames until pred accepts one, which it returns.
func (c *rawConn) until(what string, pred func(http2.Frame) bool) http2.Frame {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v (goaway %v)", what, err, c.goAway)
		}
		if pred(f) {
			return f
		}
	}
}

// expectRST waits for RST_STREAM on id and checks its code; a GOAWAY before
// it fails the test.
func (c *rawConn) expectRST(id uint32, code http2.ErrCode) {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for RST_STREAM(%d, %v): %v (goaway %v)", id, code, err, c.goAway)
		}
		switch f := f.(type) {
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				if f.ErrCode != code {
					c.t.Fatalf("RST_STREAM(%d) code %v, want %v", id, f.ErrCode, code)
				}
				return
			}
		case *http2.GoAwayFrame:
			c.t.Fatalf("got GOAWAY(%v, last %d, %q) waiting for RST_STREAM(%d, %v)", f.ErrCode, f.LastStreamID, f.DebugData(), id, code)
		case *http2.MetaHeadersFrame:
			if f.StreamID == id {
				c.t.Fatalf("got HEADERS %v on stream %d, want RST_STREAM(%v)", f.Fields, id, code)
			}
		}
	}
}

// expectGoAway waits for GOAWAY and checks its code, then for the server
// to close the connection.
func (c *rawConn) expectGoAway(code http2.ErrCode) *http2.GoAwayFrame {
	c.t.Helper()
	for c.goAway == nil {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for GOAWAY(%v): %v", code, err)
		}
		if rst, ok := f.(*http2.RSTStreamFrame); ok {
			c.t.Logf("RST_STREAM(%d, %v) before GOAWAY", rst.StreamID, rst.ErrCode)
		}
	}
	if c.goAway.ErrCode != code {
		c.t.Fatalf("GOAWAY code %v, want %v (debug %q)", c.goAway.ErrCode, code, c.goAwayData)
	}
	g := c.goAway
	if code != http2.ErrCodeNo {
		c.expectClosed()
	}
	return g
}

// expectClosed reads until the server closes the connection.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	for {
		_, err := c.next()
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection still open after %v", ioTimeout)
		}
		return
	}
}

// ping sends a PING and reads frames until its ack; it returns the frames
// read before the ack.
func (c *rawConn) ping() []http2.Frame {
	c.t.Helper()
	data := [8]byte{'p', 'i', 'n', 'g', byte(time.Now().UnixNano()), 1, 2, 3}
	c.mustWrite(func() error { return c.fr.WritePing(false, data) })
	var seen []http2.Frame
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for PING ack: %v (goaway %v)", err, c.goAway)
		}
		if p, ok := f.(*http2.PingFrame); ok && p.IsAck() && p.Data == data {
			return seen
		}
		seen = append(seen, f)
	}
}

func frameSummary(f http2.Frame) string {
	switch f := f.(type) {
	case *http2.RSTStreamFrame:
		return fmt.Sprintf("RST_STREAM(%d, %v)", f.StreamID, f.ErrCode)
	case *http2.GoAwayFrame:
		return fmt.Sprintf("GOAWAY(%v, last %d)", f.ErrCode, f.LastStreamID)
	case *http2.DataFrame:
		return fmt.Sprintf("DATA(%d, %d bytes, end %v)", f.StreamID, len(f.Data()), f.StreamEnded())
	case *http2.MetaHeadersFrame:
		return fmt.Sprintf("HEADERS(%d, %v, end %v)", f.StreamID, f.Fields, f.StreamEnded())
	}
	return f.Header().String()
}

// --- handlers ---

// waitCh waits for ch at most ioTimeout.
func waitCh(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(ioTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// recv receives from ch, waiting at most ioTimeout.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(ioTimeout):
		t.Fatalf("timed out after %v waiting on a channel", ioTimeout)
		panic("unreachable")
	}
}

// --- fast path ---

// routed is a Config.Handler that routes with route on the fast path and
// serves the rest with its http.Handler.
type routed struct {
	http.Handler
	route func(*Request) *h1.Route
}

func (r routed) RouteH2(req *Request) *h1.Route { return r.route(req) }

// upstream is a raw HTTP/1.1 server whose answers a test writes byte for
// byte.
type upstream struct {
	t     testing.TB
	ln    net.Listener
	addr  string
	conns atomic.Int32
	mu    sync.Mutex
	reqs  []*upRequest
	// respond returns the raw answer to req and whether to close the
	// connection after it.
	respond func(req *upRequest) (answer string, close bool)
}

// upRequest is a request the upstream received: its head as sent and
// parsed.
type upRequest struct {
	head string
	*http.Request
}

func startUpstream(t testing.TB, respond func(req *upRequest) (string, bool)) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{t: t, ln: ln, addr: ln.Addr().String(), respond: respond}
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			u.conns.Add(1)
			mu.Lock()
			open[nc] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					nc.Close()
					mu.Lock()
					delete(open, nc)
					mu.Unlock()
				}()
				u.serve(nc)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for nc := range open {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return u
}

func (u *upstream) serve(nc net.Conn) {
	br := bufio.NewReader(nc)
	for {
		_ = nc.SetReadDeadline(time.Now().Add(3 * ioTimeout))
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head.String())))
		if err != nil {
			u.t.Errorf("upstream: bad request head %q: %v", head.String(), err)
			return
		}
		if req.ContentLength > 0 {
			if _, err := io.CopyN(io.Discard, br, req.ContentLength); err != nil {
				return
			}
		}
		r := &upRequest{head: head.String(), Request: req}
		u.mu.Lock()
		u.reqs = append(u.reqs, r)
		u.mu.Unlock()
		answer, closeAfter := u.respond(r)
		_ = nc.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := io.WriteString(nc, answer); err != nil || closeAfter {
			return
		}
	}
}

func (u *upstream) requests() []*upRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*upRequest(nil), u.reqs...)
}

func (u *upstream) last(t testing.TB) *upRequest {
	t.Helper()
	rs := u.requests()
	if len(rs) == 0 {
		t.Fatal("upstream received no request")
	}
	return rs[len(rs)-1]
}

// fixedRoute returns a router to addr for every request, with the
// given edits and timeouts.
func fixedRoute(t testing.TB, addr string, reqEdits, respEdits *h1.Edits, requestTimeout, backendTimeout time.Duration) *h1.Route {
	pool := h1.NewPool(h1.PoolOptions{})
	t.Cleanup(pool.Close)
	rt := h1.NewRoute([]h1.BackendConfig{{Weight: 1, Endpoints: []*h1.Endpoint{pool.Endpoint(addr)}, Request: reqEdits, Response: respEdits}},
		requestTimeout, backendTimeout)
	if rt == nil {
		t.Fatal("NewRoute returned nil")
	}
	return rt
}

// noHandler fails the test when a request reaches the handler.
func noHandler(t testing.TB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request %s %s reached the handler, want the fast path", r.Method, r.URL)
		http.Error(w, "handler", http.StatusTeapot)
	})
}

// readAll reads resp's body with the client's timeout.
func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return b
}
