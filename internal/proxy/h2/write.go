package h2

import (
	"bufio"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// writer owns the sending side of a connection: the frame encoder, the
// HPACK encoder, the peer's settings and the send windows, all under mu.
//
// Writes are batched without a writer goroutine: a stream counts itself in
// pending before taking mu, and whoever leaves with pending at zero
// flushes, so frames of streams finishing together go out in one write.
// Before that flush it yields once (runtime.Gosched): the goroutines the
// network poller woke in the same round (other streams' upstream answers)
// run first and add their frames, and the last of them to leave does not
// flush again. One TLS record and one write then carry several answers,
// which is most of what HTTP/2 saves over HTTP/1.1 for a proxy.
type writer struct {
	c        *conn
	mu       sync.Mutex
	cond     sync.Cond // window grew, or the connection failed
	pending  atomic.Int32
	yielding bool // a flush is due after a yield (see unlock)
	bw       *bufio.Writer
	err      error // sticky: the connection can no longer be written
	dlSet    time.Time

	henc    *hpack.Encoder
	hbuf    headerBuf
	lower   []byte // scratch for lower-casing field names
	fields  *fieldCache
	encoded bool // henc has encoded a field (and so its table size update)

	connWindow int64 // what the client lets us send on the connection
	initWindow int64 // its SETTINGS_INITIAL_WINDOW_SIZE
	maxFrame   int   // its SETTINGS_MAX_FRAME_SIZE
}

// headerBuf is the io.Writer the HPACK encoder appends to.
type headerBuf struct{ b []byte }

func (h *headerBuf) Write(p []byte) (int, error) {
	h.b = append(h.b, p...)
	return len(p), nil
}

func (w *writer) init(c *conn) {
	w.c = c
	w.cond.L = &w.mu
	w.bw = bufio.NewWriterSize(c.nc, writeBufSize)
	w.initEncoder()
	w.connWindow, w.initWindow, w.maxFrame = defaultWindow, defaultWindow, defaultMaxFrame
}

func (w *writer) initEncoder() {
	w.henc = hpack.NewEncoder(&w.hbuf)
	// No dynamic table: nothing of a response is kept between responses
	// (the encoder would otherwise retain the field strings, which point
	// into reused buffers), the client needs no table state for us, and
	// a block built for a stream reset meanwhile can go unsent.
	w.henc.SetMaxDynamicTableSizeLimit(0)
	w.fields = newFieldCache()
}

// lock starts a write section; unlock ends it, flushing when no other
// write section is waiting.
func (w *writer) lock() {
	w.pending.Add(1)
	w.mu.Lock()
}

func (w *writer) unlock() {
	if w.pending.Add(-1) != 0 || w.bw.Buffered() == 0 || w.err != nil {
		w.mu.Unlock()
		return
	}
	if w.yielding {
		w.mu.Unlock() // the goroutine that yielded flushes
		return
	}
	w.yielding = true
	w.mu.Unlock()
	runtime.Gosched()
	w.mu.Lock()
	w.yielding = false
	if w.pending.Load() == 0 {
		w.flushLocked()
	}
	w.mu.Unlock()
}

// flushLocked writes the buffered frames. A client that stops reading
// fails the connection after IdleTimeout rather than holding it forever.
func (w *writer) flushLocked() {
	if w.err != nil || w.bw.Buffered() == 0 {
		return
	}
	// Refreshed when a quarter of it has passed, not on every flush.
	now, d := time.Now(), w.c.srv.cfg.IdleTimeout
	if now.Sub(w.dlSet) > d/4 {
		w.dlSet = now
		_ = w.c.nc.SetWriteDeadline(now.Add(d))
	}
	if err := w.bw.Flush(); err != nil {
		w.failLocked(err)
	}
}

// closeFlushed writes out what is buffered (a stream that yielded before
// its flush may have left frames) and closes the connection.
func (w *writer) closeFlushed() {
	w.mu.Lock()
	w.flushLocked()
	w.failLocked(errConnClosed)
	w.mu.Unlock()
}

// fail marks the connection unwritable and wakes every waiting stream.
func (w *writer) fail(err error) {
	w.mu.Lock()
	w.failLocked(err)
	w.mu.Unlock()
}

func (w *writer) failLocked(err error) {
	if w.err == nil {
		w.err = err
		w.c.nc.Close()
	}
	w.cond.Broadcast()
}

// check records a frame write error.
func (w *writer) check(err error) {
	if err != nil && w.err == nil {
		w.failLocked(err)
	}
}

// preface sends the server's SETTINGS and opens the connection window.
func (w *writer) preface(maxStreams uint32) {
	w.lock()
	defer w.unlock()
	w.check(w.c.fr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: maxStreams},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: recvWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: maxHeaderList},
	))
	w.check(w.c.fr.WriteWindowUpdate(0, recvWindow-defaultWindow))
}

func (w *writer) settingsAck() {
	w.lock()
	defer w.unlock()
	if w.err == nil {
		w.check(w.c.fr.WriteSettingsAck())
	}
}

func (w *writer) ping(data [8]byte) {
	w.lock()
	defer w.unlock()
	if w.err == nil {
		w.check(w.c.fr.WritePing(true, data))
	}
}

func (w *writer) rst(id uint32, code http2.ErrCode) {
	w.lock()
	defer w.unlock()
	if w.err == nil {
		w.check(w.c.fr.WriteRSTStream(id, code))
	}
}

// goAway sends GOAWAY with an error code and ends the connection once it
// is out (the graceful one is conn.goAwayGraceful).
func (w *writer) goAway(last uint32, code http2.ErrCode) {
	w.lock()
	if w.err == nil {
		w.check(w.c.fr.WriteGoAway(last, code, nil))
	}
	w.pending.Add(-1)
	w.flushLocked()
	w.failLocked(errConnClosed)
	w.mu.Unlock()
}

func (w *writer) windowUpdates(s *stream, connInc, streamInc int64) {
	w.lock()
	defer w.unlock()
	if w.err != nil {
		return
	}
	if connInc > 0 {
		w.check(w.c.fr.WriteWindowUpdate(0, uint32(connInc)))
	}
	if streamInc > 0 && !s.localDone {
		w.check(w.c.fr.WriteWindowUpdate(s.id, uint32(streamInc)))
	}
}

// applySettings takes the client's SETTINGS into account.
func (w *writer) applySettings(f *http2.SettingsFrame) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return f.ForeachSetting(func(st http2.Setting) error {
		switch st.ID {
		case http2.SettingInitialWindowSize:
			delta := int64(st.Val) - w.initWindow
			w.initWindow = int64(st.Val)
			w.c.mu.Lock()
			defer w.c.mu.Unlock()
			for _, s := range w.c.streams {
				s.sendWindow += delta
				if s.sendWindow > maxWindow {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
			w.cond.Broadcast()
		case http2.SettingMaxFrameSize:
			w.maxFrame = int(st.Val)
		case http2.SettingHeaderTableSize:
			// Our encoder uses no dynamic table, whatever its size.
		}
		return nil
	})
}

func (w *writer) addConnWindow(n int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.connWindow+n > maxWindow {
		return false
	}
	w.connWindow += n
	w.cond.Broadcast()
	return true
}

func (w *writer) addStreamWindow(s *stream, n int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.sendWindow+n > maxWindow {
		return false
	}
	s.sendWindow += n
	w.cond.Broadcast()
	return true
}

// Header block building, under mu: beginHeaders, field..., then
// headersLocked sends the block.

func (w *writer) beginHeaders(status int) {
	w.hbuf.b = w.hbuf.b[:0]
	if status != 0 {
		w.field(":status", statusString(status))
	}
}

// field adds one field, lower-casing its name as HTTP/2 requires.
func (w *writer) field(name, value string) {
	lowerName := name
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			w.lower = append(w.lower[:0], name...)
			for j := i; j < len(w.lower); j++ {
				if c := w.lower[j]; 'A' <= c && c <= 'Z' {
					w.lower[j] = c + 'a' - 'A'
				}
			}
			lowerName = b2s(w.lower)
			break
		}
	}
	// The first encoding opens with the table size update, which belongs
	// at the start of one block only: it is not cached.
	if !w.encoded || len(lowerName)+len(value) > maxCachedField {
		w.encoded = true
		_ = w.henc.WriteField(hpack.HeaderField{Name: lowerName, Value: value})
		return
	}
	e, hit := w.fields.slot(lowerName, value)
	if hit {
		w.hbuf.b = append(w.hbuf.b, e.encoding()...)
		return
	}
	start := len(w.hbuf.b)
	_ = w.henc.WriteField(hpack.HeaderField{Name: lowerName, Value: value})
	e.set(lowerName, value, w.hbuf.b[start:])
}

// headersLocked sends the built block on s as HEADERS (and CONTINUATION
// frames when it exceeds the client's frame size).
func (w *writer) headersLocked(s *stream, end bool) error {
	if err := w.streamWritable(s); err != nil {
		return err
	}
	block := w.hbuf.b
	first := true
	for len(block) > 0 || first {
		n := min(len(block), w.maxFrame)
		frag := block[:n]
		block = block[n:]
		var err error
		if first {
			err = w.c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: s.id, BlockFragment: frag, EndStream: end, EndHeaders: len(block) == 0})
			first = false
		} else {
			err = w.c.fr.WriteContinuation(s.id, len(block) == 0, frag)
		}
		if err != nil {
			w.check(err)
			return err
		}
	}
	if end {
		s.localDone = true
	}
	return nil
}

// streamWritable reports why frames can no longer be sent on s.
func (w *writer) streamWritable(s *stream) error {
	if w.err != nil {
		return w.err
	}
	if s.reset.Load() {
		return errStreamReset
	}
	return nil
}

// dataLocked sends p on s in DATA frames as the windows allow, waiting for
// WINDOW_UPDATE when they are exhausted; end marks the last frame
// END_STREAM.
func (w *writer) dataLocked(s *stream, p []byte, end bool) error {
	for {
		if err := w.streamWritable(s); err != nil {
			return err
		}
		if len(p) == 0 && !end {
			return nil
		}
		n := min(int64(len(p)), int64(w.maxFrame), w.connWindow, s.sendWindow)
		if n <= 0 && len(p) > 0 {
			// Let the frames already written out, then wait for the client
			// to open its window.
			if w.pending.Add(-1) == 0 {
				w.flushLocked()
			}
			w.cond.Wait()
			w.pending.Add(1)
			continue
		}
		last := end && int(n) == len(p)
		if err := w.c.fr.WriteData(s.id, last, p[:n]); err != nil {
			w.check(err)
			return err
		}
		w.connWindow -= n
		s.sendWindow -= n
		p = p[n:]
		if last {
			s.localDone = true
			return nil
		}
	}
}

// rstLocked resets s from the server side (the answer was cut short).
func (w *writer) rstLocked(s *stream, code http2.ErrCode) {
	if w.err == nil && !s.localDone {
		w.check(w.c.fr.WriteRSTStream(s.id, code))
	}
	s.localDone = true
}
