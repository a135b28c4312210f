package filter

import (
	"bufio"
	"net"
	"net/http"
)

// editWriter calls edit on the response headers once, just before they are
// sent: at the first WriteHeader (except 1xx informational), Write, Flush or
// Hijack (a 101 upgrade response is written by the hijacker from Header()).
type editWriter struct {
	http.ResponseWriter
	edit func(h http.Header, status int)
	done bool
}

func newEditWriter(w http.ResponseWriter, edit func(http.Header, int)) *editWriter {
	return &editWriter{ResponseWriter: w, edit: edit}
}

func (w *editWriter) apply(status int) {
	if !w.done {
		w.done = true
		w.edit(w.ResponseWriter.Header(), status)
	}
}

func (w *editWriter) WriteHeader(status int) {
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.apply(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *editWriter) Write(b []byte) (int, error) {
	w.apply(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming responses (SSE, gRPC) working.
func (w *editWriter) Flush() {
	w.apply(http.StatusOK)
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack lets WebSocket upgrades through; httputil.ReverseProxy writes the
// 101 response from Header() after hijacking.
func (w *editWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.apply(http.StatusSwitchingProtocols)
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap serves http.ResponseController (deadlines, full duplex).
func (w *editWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
