package echo

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// retries counts attempts per uuid for /retry/.
type retries struct {
	mu       sync.Mutex
	attempts map[string]int
}

func newRetries() *retries {
	return &retries{attempts: make(map[string]int)}
}

// attempt records one attempt for uuid and reports whether it must fail:
// the first succeedAfter attempts fail.
func (rs *retries) attempt(uuid string, succeedAfter int) (fail bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.attempts[uuid] >= succeedAfter {
		return false
	}
	rs.attempts[uuid]++
	return true
}

// serveRetry simulates a flaky backend for the Gateway retry tests:
// /retry/?uuid=<id>&succeedAfter=<n>[&responseCode=<code>][&delayRetry=<d>].
// The first n attempts for a uuid fail, after delayRetry: with responseCode
// when given, otherwise by resetting the connection. Later attempts echo.
func (h *handler) serveRetry(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	uuid := q.Get("uuid")
	if uuid == "" {
		http.Error(w, "/retry/ needs the query parameter uuid", http.StatusBadRequest)
		return
	}
	succeedAfter, err := strconv.Atoi(q.Get("succeedAfter"))
	if err != nil || succeedAfter < 0 {
		http.Error(w, fmt.Sprintf("/retry/ needs the query parameter succeedAfter as a non-negative integer, got %q", q.Get("succeedAfter")), http.StatusBadRequest)
		return
	}
	if !h.retries.attempt(uuid, succeedAfter) {
		h.serveEcho(w, r)
		return
	}
	if err := sleepFor(r, "delayRetry"); err != nil {
		writeError(w, err, http.StatusBadRequest)
		return
	}
	if s := q.Get("responseCode"); s != "" {
		code, err := strconv.Atoi(s)
		if err != nil || code < 100 || code > 999 {
			http.Error(w, fmt.Sprintf("query parameter responseCode=%q: want an HTTP status code", s), http.StatusBadRequest)
			return
		}
		w.WriteHeader(code)
		return
	}
	resetConnection(w)
}

// resetConnection aborts the request's connection with a TCP RST (SO_LINGER
// 0 then close). Over HTTP/2, where the connection cannot be taken over, it
// resets the stream instead.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if errors.Is(err, http.ErrNotSupported) {
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		writeError(w, fmt.Errorf("reset the connection: %w", err), http.StatusInternalServerError)
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
