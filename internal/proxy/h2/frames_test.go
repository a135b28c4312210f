package h2

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// frameServer answers every request with its path, reading the body.
func frameServer(t *testing.T) *testServer {
	return startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			select {
			case <-r.Context().Done():
			case <-time.After(ioTimeout):
			}
			return
		}
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, r.URL.Path)
	})})
}

// works checks the connection still serves a request on stream id.
func works(t *testing.T, rc *rawConn, id uint32) {
	t.Helper()
	rc.get(id, "/still-works")
	if s := rc.response(id); s.status != 200 || s.body.String() != "/still-works" {
		t.Fatalf("stream %d after the error: %d %q", id, s.status, s.body.String())
	}
}

func TestPrefaceAndSettings(t *testing.T) {
	t.Parallel()
	ts := frameServer(t)

	t.Run("server-settings", func(t *testing.T) {
		t.Parallel()
		rc := dialRaw(t, ts)
		// The server's first frame is SETTINGS.
		f, err := rc.next()
		if err != nil {
			t.Fatal(err)
		}
		if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
			t.Fatalf("first frame %s, want SETTINGS", frameSummary(f))
		}
		rc.handshake()
		if v := rc.serverSettings[http2.SettingMaxConcurrentStreams]; v != defaultMaxStreams {
			t.Errorf("MAX_CONCURRENT_STREAMS %d", v)
		}
		if v := rc.serverSettings[http2.SettingMaxHeaderListSize]; v != maxHeaderList {
			t.Errorf("MAX_HEADER_LIST_SIZE %d", v)
		}
		works(t, rc, 1)
	})
	t.Run("bad-preface", func(t *testing.T) {
		t.Parallel()
		nc := ts.dial(t)
		nc.SetDeadline(time.Now().Add(ioTimeout))
		io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		// The connection is closed (after a GOAWAY, perhaps).
		b, err := io.ReadAll(nc)
		if err != nil && !isClosedErr(err) {
			t.Fatalf("read: %v (after %q)", err, b)
		}
		if bytes.Contains(b, []byte("HTTP/1.1")) {
			t.Errorf("answered %q", b)
		}
	})
	t.Run("first-frame-not-settings", func(t *testing.T) {
		t.Parallel()
		rc := newRaw(t, ts.dial(t))
		rc.preface()
		rc.mustWrite(func() error { return rc.fr.WritePing(false, [8]byte{1}) })
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("first-frame-settings-ack", func(t *testing.T) {
		t.Parallel()
		rc := newRaw(t, ts.dial(t))
		rc.preface()
		rc.mustWrite(rc.fr.WriteSettingsAck)
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("settings-acked", func(t *testing.T) {
		t.Parallel()
		rc := dialRaw(t, ts, http2.Setting{ID: http2.SettingHeaderTableSize, Val: 0})
		rc.handshake() // waits for the ACK of ours
	})
	t.Run("initial-window-too-large", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error {
			return rc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 31})
		})
		rc.expectGoAway(http2.ErrCodeFlowControl)
	})
	t.Run("enable-push-invalid", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 2}) })
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("max-frame-size-invalid", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1000}) })
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("unknown-setting-ignored", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteSettings(http2.Setting{ID: 0x7f7f, Val: 12345}) })
		works(t, rc, 1)
	})
	t.Run("initial-window-overflows-open-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(1, "/block")
		rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(1, maxWindow-defaultWindow) })
		time.Sleep(20 * time.Millisecond)
		// The stream's window is now 2^31-1; any increase of the initial
		// window overflows it (RFC 9113 section 6.9.2).
		rc.mustWrite(func() error {
			return rc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: defaultWindow + 1})
		})
		rc.expectGoAway(http2.ErrCodeFlowControl)
	})
}

func TestPing(t *testing.T) {
	t.Parallel()
	ts := frameServer(t)
	rc := handshakeRaw(t, ts)
	data := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	rc.mustWrite(func() error { return rc.fr.WritePing(false, data) })
	f := rc.until("PING ack", func(f http2.Frame) bool { _, ok := f.(*http2.PingFrame); return ok }).(*http2.PingFrame)
	if !f.IsAck() || f.Data != data || f.StreamID != 0 {
		t.Fatalf("PING answer: ack %v data %v stream %d", f.IsAck(), f.Data, f.StreamID)
	}
	// An ACK is not answered.
	rc.mustWrite(func() error { return rc.fr.WritePing(true, [8]byte{9}) })
	for _, f := range rc.ping() {
		if p, ok := f.(*http2.PingFrame); ok {
			t.Errorf("PING ack answered with %v", p.Data)
		}
	}
	works(t, rc, 1)
}

func TestStreamProtocolErrors(t *testing.T) {
	t.Parallel()
	ts := frameServer(t)
	for _, tc := range []struct {
		name   string
		fields []hpack.HeaderField
		end    bool
	}{
		{"connection-field", reqFields("GET", "/", "connection", "keep-alive"), true},
		{"keep-alive-field", reqFields("GET", "/", "keep-alive", "timeout=5"), true},
		{"proxy-connection-field", reqFields("GET", "/", "proxy-connection", "keep-alive"), true},
		{"transfer-encoding-field", reqFields("POST", "/", "transfer-encoding", "chunked"), false},
		{"upgrade-field", reqFields("GET", "/", "upgrade", "websocket"), true},
		{"te-not-trailers", reqFields("GET", "/", "te", "gzip"), true},
		{"missing-path", hf(":method", "GET", ":scheme", "http", ":authority", "example.com"), true},
		{"empty-path", hf(":method", "GET", ":scheme", "http", ":authority", "example.com", ":path", ""), true},
		{"missing-method", hf(":scheme", "http", ":authority", "example.com", ":path", "/"), true},
		{"missing-scheme", hf(":method", "GET", ":authority", "example.com", ":path", "/"), true},
		{"uppercase-name", reqFields("GET", "/", "X-Upper", "v"), true},
		{"name-not-token", reqFields("GET", "/", "x a", "v"), true},
		{"value-with-nul", reqFields("GET", "/", "x-a", "1\x002"), true},
		{"value-with-newline", reqFields("GET", "/", "x-a", "1\r\nx-b: 2"), true},
		{"pseudo-value-with-newline", reqFields("GET", "/\n"), true},
		{"unknown-pseudo", append(reqFields("GET", "/"), hf(":protocol", "websocket")...), true},
		{"status-in-request", append(hf(":status", "200"), reqFields("GET", "/")...), true},
		{"pseudo-after-regular", append(hf(":method", "GET", ":scheme", "http", "x-a", "1"), hf(":path", "/")...), true},
		{"duplicate-pseudo", append(reqFields("GET", "/"), hf(":path", "/again")...), true},
		{"content-length-without-body", reqFields("POST", "/", "content-length", "5"), true},
		{"bad-content-length", reqFields("POST", "/", "content-length", "abc"), false},
		{"conflicting-content-length", reqFields("POST", "/", "content-length", "5", "content-length", "6"), false},
		{"connect-with-path", hf(":method", "CONNECT", ":authority", "example.com:443", ":path", "/"), true},
		{"invalid-path", reqFields("GET", "no-slash"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := handshakeRaw(t, ts)
			rc.headers(1, tc.end, tc.fields)
			rc.expectRST(1, http2.ErrCodeProtocol)
			works(t, rc, 3)
		})
	}
}

func TestDataProtocolErrors(t *testing.T) {
	t.Parallel()
	ts := frameServer(t)

	t.Run("data-beyond-content-length", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/", "content-length", "3"))
		rc.data(1, false, []byte("abcdef"))
		rc.expectRST(1, http2.ErrCodeProtocol)
		works(t, rc, 3)
	})
	t.Run("data-short-of-content-length", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/", "content-length", "10"))
		rc.data(1, true, []byte("abc"))
		rc.expectRST(1, http2.ErrCodeProtocol)
		works(t, rc, 3)
	})
	t.Run("trailers-short-of-content-length", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/", "content-length", "10"))
		rc.data(1, false, []byte("abc"))
		rc.headers(1, true, hf("x-t", "1"))
		rc.expectRST(1, http2.ErrCodeProtocol)
		works(t, rc, 3)
	})
	t.Run("trailers-without-end-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/block"))
		rc.data(1, false, []byte("abc"))
		rc.headers(1, false, hf("x-t", "1"))
		rc.expectRST(1, http2.ErrCodeProtocol)
		works(t, rc, 3)
	})
	t.Run("trailers-with-pseudo", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/block"))
		rc.headers(1, true, hf(":path", "/x", "x-t", "1"))
		rc.expectRST(1, http2.ErrCodeProtocol)
		works(t, rc, 3)
	})
	t.Run("data-on-half-closed-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(1, "/block") // END_STREAM: half-closed (remote), still open on the server
		time.Sleep(20 * time.Millisecond)
		rc.data(1, false, []byte("late"))
		rc.expectRST(1, http2.ErrCodeStreamClosed)
		works(t, rc, 3)
	})
	t.Run("data-on-closed-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		works(t, rc, 1) // stream 1 is closed now
		rc.data(1, false, []byte("late"))
		// A stream error STREAM_CLOSED or a connection error of that type.
		for {
			f, err := rc.next()
			if err != nil {
				t.Fatalf("waiting for STREAM_CLOSED: %v", err)
			}
			if rst, ok := f.(*http2.RSTStreamFrame); ok && rst.StreamID == 1 {
				if rst.ErrCode != http2.ErrCodeStreamClosed {
					t.Fatalf("RST_STREAM code %v, want STREAM_CLOSED", rst.ErrCode)
				}
				works(t, rc, 3)
				return
			}
			if g, ok := f.(*http2.GoAwayFrame); ok {
				if g.ErrCode != http2.ErrCodeStreamClosed {
					t.Fatalf("GOAWAY code %v, want STREAM_CLOSED", g.ErrCode)
				}
				return
			}
		}
	})
	t.Run("data-on-idle-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.data(5, false, []byte("idle"))
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("data-on-stream-0", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteRawFrame(http2.FrameData, 0, 0, []byte("zero")) })
		// RFC 9113 6.1: connection error PROTOCOL_ERROR. (The framer
		// reports it with its own error type.)
		rc.expectClosed()
		if rc.goAway != nil && rc.goAway.ErrCode != http2.ErrCodeProtocol {
			t.Errorf("GOAWAY %v, want PROTOCOL_ERROR", rc.goAway.ErrCode)
		}
		if rc.goAway == nil {
			t.Logf("connection closed without GOAWAY (PROTOCOL_ERROR SHOULD be sent)")
		}
	})
	t.Run("data-beyond-window", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/block"))
		// The windows are 1 MiB; the handler does not read.
		chunk := make([]byte, 16384)
		for i := 0; i < recvWindow/len(chunk)+1; i++ { // one frame beyond, nothing after
			rc.write(func() error { return rc.fr.WriteData(1, false, chunk) })
		}
		for {
			f, err := rc.next()
			if err != nil {
				t.Fatalf("waiting for FLOW_CONTROL_ERROR: %v", err)
			}
			if rst, ok := f.(*http2.RSTStreamFrame); ok && rst.StreamID == 1 {
				if rst.ErrCode != http2.ErrCodeFlowControl {
					t.Fatalf("RST_STREAM %v, want FLOW_CONTROL_ERROR", rst.ErrCode)
				}
				return
			}
			if g, ok := f.(*http2.GoAwayFrame); ok {
				if g.ErrCode != http2.ErrCodeFlowControl {
					t.Fatalf("GOAWAY %v, want FLOW_CONTROL_ERROR", g.ErrCode)
				}
				return
			}
		}
	})
	t.Run("padded-data-counts-against-window", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headers(1, false, reqFields("POST", "/echo", "content-length", "3"))
		rc.mustWrite(func() error { return rc.fr.WriteDataPadded(1, true, []byte("abc"), make([]byte, 200)) })
		if s := rc.response(1); s.status != 200 || s.body.String() != "/echo" {
			t.Fatalf("padded DATA: %d %q", s.status, s.body.String())
		}
	})
	t.Run("frame-larger-than-max-frame-size", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		if v, ok := rc.serverSettings[http2.SettingMaxFrameSize]; ok && v > 20000 {
			t.Skipf("server allows frames of %d bytes", v)
		}
		rc.headers(1, false, reqFields("POST", "/"))
		// RFC 9113 section 4.2: a frame above SETTINGS_MAX_FRAME_SIZE
		// (16384: the server announces none) is a FRAME_SIZE_ERROR.
		rc.mustWrite(func() error { return rc.fr.WriteData(1, true, make([]byte, 20000)) })
		for {
			f, err := rc.next()
			if err != nil {
				t.Fatalf("waiting for FRAME_SIZE_ERROR: %v", err)
			}
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				if f.ErrCode != http2.ErrCodeFrameSize {
					t.Fatalf("GOAWAY %v, want FRAME_SIZE_ERROR", f.ErrCode)
				}
				return
			case *http2.RSTStreamFrame:
				if f.ErrCode != http2.ErrCodeFrameSize {
					t.Fatalf("RST_STREAM %v, want FRAME_SIZE_ERROR", f.ErrCode)
				}
				return
			case *http2.MetaHeadersFrame:
				t.Fatalf("a %d-byte DATA frame was accepted (answered %v); the server announced no SETTINGS_MAX_FRAME_SIZE, so 16384 applies", 20000, f.Fields)
			}
		}
	})
}

func TestConnectionProtocolErrors(t *testing.T) {
	t.Parallel()
	ts := frameServer(t)
	t.Run("headers-even-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(2, "/")
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("stream-id-decreasing", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(5, "/")
		rc.response(5)
		rc.get(3, "/")
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("headers-on-closed-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		works(t, rc, 1)
		rc.get(1, "/")
		for rc.goAway == nil {
			f, err := rc.next()
			if err != nil {
				t.Fatalf("waiting for an error: %v", err)
			}
			if rst, ok := f.(*http2.RSTStreamFrame); ok && rst.StreamID == 1 && rst.ErrCode == http2.ErrCodeStreamClosed {
				return
			}
		}
		if c := rc.goAway.ErrCode; c != http2.ErrCodeStreamClosed && c != http2.ErrCodeProtocol {
			t.Errorf("GOAWAY %v, want STREAM_CLOSED or PROTOCOL_ERROR", c)
		}
	})
	t.Run("window-update-overflow-connection", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(0, maxWindow) })
		rc.expectGoAway(http2.ErrCodeFlowControl)
	})
	t.Run("window-update-overflow-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(1, "/block")
		rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(1, maxWindow) })
		rc.expectRST(1, http2.ErrCodeFlowControl)
		works(t, rc, 3)
	})
	t.Run("window-update-zero-connection", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteRawFrame(http2.FrameWindowUpdate, 0, 0, []byte{0, 0, 0, 0}) })
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("window-update-zero-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(1, "/block")
		rc.mustWrite(func() error { return rc.fr.WriteRawFrame(http2.FrameWindowUpdate, 0, 1, []byte{0, 0, 0, 0}) })
		rc.expectRST(1, http2.ErrCodeProtocol)
		works(t, rc, 3)
	})
	t.Run("window-update-idle-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteWindowUpdate(7, 100) })
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("rst-idle-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteRSTStream(9, http2.ErrCodeCancel) })
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("push-promise-from-client", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(1, "/block")
		block := rc.encode(reqFields("GET", "/pushed"))
		rc.mustWrite(func() error {
			return rc.fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: block, EndHeaders: true})
		})
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("ping-on-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WriteRawFrame(http2.FramePing, 0, 1, make([]byte, 8)) })
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("continuation-interleaved", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		block := rc.encode(reqFields("GET", "/"))
		rc.mustWrite(func() error {
			return rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:2], EndStream: true})
		})
		rc.mustWrite(func() error { return rc.fr.WritePing(false, [8]byte{}) })
		rc.expectGoAway(http2.ErrCodeProtocol)
	})
	t.Run("hpack-garbage", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error {
			return rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0xff, 0xff, 0xff, 0xff, 0xff}, EndStream: true, EndHeaders: true})
		})
		rc.expectGoAway(http2.ErrCodeCompression)
	})
}

func TestPriority(t *testing.T) {
	t.Parallel()
	ts := frameServer(t)
	t.Run("priority-frame-self-dependency", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error {
			return rc.fr.WritePriority(3, http2.PriorityParam{StreamDep: 3, Weight: 10})
		})
		rc.expectRST(3, http2.ErrCodeProtocol)
		works(t, rc, 5)
	})
	t.Run("priority-frame-self-dependency-open-stream", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.get(1, "/block")
		rc.mustWrite(func() error {
			return rc.fr.WritePriority(1, http2.PriorityParam{StreamDep: 1, Weight: 10})
		})
		rc.expectRST(1, http2.ErrCodeProtocol)
		works(t, rc, 3)
	})
	t.Run("headers-self-dependency", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.headersPrio(1, true, http2.PriorityParam{StreamDep: 1, Weight: 5}, reqFields("GET", "/"))
		rc.expectRST(1, http2.ErrCodeProtocol)
		works(t, rc, 3)
	})
	t.Run("priority-ignored", func(t *testing.T) {
		t.Parallel()
		rc := handshakeRaw(t, ts)
		rc.mustWrite(func() error { return rc.fr.WritePriority(11, http2.PriorityParam{StreamDep: 0, Weight: 200}) })
		rc.headersPrio(1, true, http2.PriorityParam{StreamDep: 0, Exclusive: true, Weight: 255}, reqFields("GET", "/prio"))
		if s := rc.response(1); s.status != 200 || s.body.String() != "/prio" {
			t.Fatalf("%d %q", s.status, s.body.String())
		}
	})
}

func TestUnknownFrameIgnored(t *testing.T) {
	t.Parallel()
	ts := frameServer(t)
	rc := handshakeRaw(t, ts)
	rc.mustWrite(func() error { return rc.fr.WriteRawFrame(0xfa, 0x3, 0, []byte("unknown on connection")) })
	rc.mustWrite(func() error { return rc.fr.WriteRawFrame(0xfb, 0xff, 1, []byte("unknown on idle stream")) })
	works(t, rc, 1)
	rc.get(3, "/block")
	rc.mustWrite(func() error { return rc.fr.WriteRawFrame(0xfc, 0, 3, []byte("unknown on open stream")) })
	rc.mustWrite(func() error { return rc.fr.WriteRSTStream(3, http2.ErrCodeCancel) })
	works(t, rc, 5)
}

func TestHeaderListTooLarge(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts ...serverOpt) {
		ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Header.Get("X-N"))
		})}, opts...)
		rc := handshakeRaw(t, ts)
		// 17 copies of a ~4 KiB field: a decoded list above the 64 KiB
		// limit in one small HEADERS frame (the copies are HPACK dynamic
		// table references), so the framer reads it whole.
		var extra []string
		for i := 0; i < 17; i++ {
			extra = append(extra, "x-big", strings.Repeat("v", 4000))
		}
		rc.headers(1, true, reqFields("GET", "/", extra...))
		s := rc.response(1)
		if s.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", s.status)
		}
		if !strings.Contains(s.body.String(), "Request Header Fields Too Large") {
			t.Errorf("body %q", s.body.String())
		}
		// The connection and its HPACK state survive.
		for i, id := range []uint32{3, 5} {
			n := string(rune('0' + i))
			rc.get(id, "/", "x-n", n, "x-big", strings.Repeat("v", 4000))
			if s := rc.response(id); s.status != 200 || s.body.String() != n {
				t.Fatalf("stream %d after 431: %d %q", id, s.status, s.body.String())
			}
		}
		// A 431 request with a body: the body is discarded, the connection
		// stays usable.
		rc.headers(7, false, reqFields("POST", "/", extra...))
		rc.data(7, true, make([]byte, 100000))
		if s := rc.response(7); s.status != 431 {
			t.Fatalf("POST: status %d", s.status)
		}
		rc.get(9, "/", "x-n", "9")
		if s := rc.response(9); s.status != 200 || s.body.String() != "9" {
			t.Fatalf("stream 9 after the 431 POST: %d %q", s.status, s.body.String())
		}
	})
	// A list far above the limit, over several CONTINUATION frames: the
	// x/net framer ends the connection (PROTOCOL_ERROR), as net/http's
	// HTTP/2 server does; a 431 is fine too.
	t.Run("continuations", func(t *testing.T) {
		t.Parallel()
		ts := frameServer(t)
		rc := handshakeRaw(t, ts)
		var extra []string
		for i := 0; i < 20; i++ {
			extra = append(extra, "x-big-"+string(rune('a'+i)), strings.Repeat("v", 4000))
		}
		rc.headers(1, true, reqFields("GET", "/", extra...))
		for {
			f, err := rc.next()
			if err != nil {
				t.Fatalf("waiting for 431 or GOAWAY: %v", err)
			}
			if h, ok := f.(*http2.MetaHeadersFrame); ok && h.StreamID == 1 {
				if st := h.PseudoValue("status"); st != "431" {
					t.Fatalf("status %s, want 431", st)
				}
				return
			}
			if g, ok := f.(*http2.GoAwayFrame); ok {
				if g.ErrCode != http2.ErrCodeProtocol {
					t.Fatalf("GOAWAY %v", g.ErrCode)
				}
				return
			}
		}
	})
}

// Streams whose header blocks arrive one after another while earlier
// streams still run keep their own fields, more than a stream's inline
// storage holds (see also TestBlockStorageReused).
func TestManyFieldsPerStream(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		var b strings.Builder
		for i := 0; i < 40; i++ {
			b.WriteString(r.Header.Get(fmt.Sprintf("X-F%d", i)))
		}
		io.WriteString(w, b.String())
	})})
	rc := handshakeRaw(t, ts)
	want := map[uint32]string{}
	for id := uint32(1); id <= 7; id += 2 {
		var extra []string
		var body strings.Builder
		for i := 0; i < 40; i++ {
			v := fmt.Sprintf("s%d-f%d;", id, i)
			extra = append(extra, fmt.Sprintf("x-f%d", i), v)
			body.WriteString(v)
		}
		want[id] = body.String()
		rc.headers(id, true, reqFields("GET", "/", extra...))
	}
	close(release)
	for id, body := range want {
		if s := rc.response(id); s.status != 200 || s.body.String() != body {
			t.Errorf("stream %d: %d %q, want %q", id, s.status, s.body.String(), body)
		}
	}
}

// A header block of many CONTINUATION frames below the limit is fine.
func TestContinuationFrames(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Long"))
	})})
	rc := handshakeRaw(t, ts)
	long := strings.Repeat("L", 40000)
	rc.get(1, "/", "x-long", long)
	if s := rc.response(1); s.status != 200 || s.body.String() != long {
		t.Fatalf("%d, %d bytes", s.status, s.body.Len())
	}
}

// A GOAWAY from the client: the streams in flight finish, then the server
// closes the connection.
func TestClientGoAway(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	ts := startServer(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(ioTimeout):
		}
		io.WriteString(w, "done")
	})})
	rc := handshakeRaw(t, ts)
	rc.get(1, "/")
	time.Sleep(20 * time.Millisecond)
	rc.mustWrite(func() error { return rc.fr.WriteGoAway(1, http2.ErrCodeNo, nil) })
	time.Sleep(20 * time.Millisecond)
	close(release)
	if s := rc.response(1); s.status != 200 || s.body.String() != "done" {
		t.Fatalf("%d %q", s.status, s.body.String())
	}
	rc.expectClosed()
}
