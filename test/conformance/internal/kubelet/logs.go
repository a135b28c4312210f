package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxLogLines bounds each container's in-memory log.
const maxLogLines = 20000

// logLine is one line of a container log with the time it was written.
type logLine struct {
	at   time.Time
	text string
}

// containerLog is one container's output: kept in memory (for
// /containerLogs) and appended to a file (for people, after the run).
type containerLog struct {
	mu    sync.Mutex
	lines []logLine
	file  *os.File
	part  []byte // an unfinished line
	seq   uint64 // lines ever written, for follow
}

func newContainerLog(path string) *containerLog {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		f = nil
	}
	return &containerLog{file: f}
}

// Write splits p into lines and records each with the current time.
func (l *containerLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	data := append(l.part, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		l.addLocked(now, string(data[:i]))
		data = data[i+1:]
	}
	l.part = append([]byte(nil), data...)
	return len(p), nil
}

// Printf records one line.
func (l *containerLog) Printf(format string, args ...any) {
	_, _ = fmt.Fprintf(l, format+"\n", args...)
}

func (l *containerLog) addLocked(at time.Time, text string) {
	l.lines = append(l.lines, logLine{at, text})
	if len(l.lines) > maxLogLines {
		l.lines = append([]logLine(nil), l.lines[len(l.lines)-maxLogLines/2:]...)
	}
	l.seq++
	if l.file != nil {
		_, _ = fmt.Fprintf(l.file, "%s %s\n", at.UTC().Format(time.RFC3339Nano), text)
	}
}

// close flushes an unfinished line and closes the file.
func (l *containerLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.part) > 0 {
		l.addLocked(time.Now(), string(l.part))
		l.part = nil
	}
	if l.file != nil {
		_ = l.file.Close()
		l.file = nil
	}
}

// snapshot returns the lines written at or after since (zero: all), and the
// sequence number of the last line.
func (l *containerLog) snapshot(since time.Time) ([]logLine, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	for _, ln := range l.lines {
		if since.IsZero() || !ln.at.Before(since) {
			out = append(out, ln)
		}
	}
	return out, l.seq
}

// after returns the lines written after sequence number seq.
func (l *containerLog) after(seq uint64) ([]logLine, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := int(l.seq - seq)
	if n > len(l.lines) {
		n = len(l.lines)
	}
	return append([]logLine(nil), l.lines[len(l.lines)-n:]...), l.seq
}

// slogger returns a logger whose records become plain lines ("msg k=v"),
// the way echo-basic prints them.
func (l *containerLog) slogger() *slog.Logger {
	return slog.New(lineHandler{w: l})
}

type lineHandler struct {
	w     io.Writer
	attrs []slog.Attr
}

func (h lineHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	_, err := io.WriteString(h.w, b.String())
	return err
}
func (h lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return lineHandler{w: h.w, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}
func (h lineHandler) WithGroup(string) slog.Handler { return h }

// serveContainerLogs answers GET /containerLogs/{ns}/{pod}/{container} the
// way the kubelet does for kube-apiserver's pods/log: sinceTime,
// sinceSeconds, timestamps, tailLines, limitBytes and follow.
func (k *Kubelet) serveContainerLogs(w http.ResponseWriter, r *http.Request) {
	ns, pod, container := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	lg := k.findLog(ns, pod, container)
	if lg == nil {
		http.Error(w, fmt.Sprintf("container %q in pod %s/%s is not known to this node", container, ns, pod), http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	var since time.Time
	if s := q.Get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			http.Error(w, "bad sinceTime: "+err.Error(), http.StatusBadRequest)
			return
		}
		since = t
	}
	if s := q.Get("sinceSeconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			http.Error(w, "bad sinceSeconds", http.StatusBadRequest)
			return
		}
		since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	timestamps := q.Get("timestamps") == "true" || q.Get("timestamps") == "1"
	lines, seq := lg.snapshot(since)
	if s := q.Get("tailLines"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(lines) {
			lines = lines[len(lines)-n:]
		}
	}
	limit := -1
	if s := q.Get("limitBytes"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			limit = n
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	bw := bufio.NewWriter(w)
	written := 0
	write := func(ls []logLine) bool {
		for _, ln := range ls {
			var s string
			if timestamps {
				s = ln.at.UTC().Format(time.RFC3339Nano) + " " + ln.text + "\n"
			} else {
				s = ln.text + "\n"
			}
			if limit >= 0 && written+len(s) > limit {
				_, _ = bw.WriteString(s[:limit-written])
				return false
			}
			written += len(s)
			_, _ = bw.WriteString(s)
		}
		return true
	}
	if !write(lines) || (q.Get("follow") != "true" && q.Get("follow") != "1") {
		_ = bw.Flush()
		return
	}
	_ = bw.Flush()
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
		if k.findLog(ns, pod, container) != lg {
			return // the pod is gone
		}
		var more []logLine
		more, seq = lg.after(seq)
		if !write(more) {
			_ = bw.Flush()
			return
		}
		_ = bw.Flush()
		if flusher != nil {
			flusher.Flush()
		}
	}
}
