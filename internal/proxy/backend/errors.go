package backend

import (
	"context"
	"errors"
	"net/http"
)

// Sentinel causes, so the error handler can tell a timeout it set from a
// client that went away.
var (
	errRequestTimeout = errors.New("request timeout")
	errAttemptTimeout = errors.New("backend request timeout")
)

// Status is a handler that always answers code with a one-line plain-text
// reason. The body is precomputed so answering allocates nothing.
type Status struct {
	Code   int
	body   []byte
	header []string
}

// NewStatus returns a handler answering code with reason.
func NewStatus(code int, reason string) *Status {
	return &Status{Code: code, body: []byte(reason + "\n"), header: []string{"text/plain; charset=utf-8"}}
}

func (s *Status) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = s.header
	h.Del("Content-Length")
	w.WriteHeader(s.Code)
	_, _ = w.Write(s.body)
}

// The answers the data plane generates itself.
var (
	statusInvalid     = NewStatus(http.StatusInternalServerError, "invalid backend")
	statusNoBackends  = NewStatus(http.StatusInternalServerError, "no backends")
	statusNoEndpoints = NewStatus(http.StatusServiceUnavailable, "no healthy upstream")
	statusConnect     = NewStatus(http.StatusBadGateway, "upstream connect error")
	statusUpstreamTO  = NewStatus(http.StatusGatewayTimeout, "upstream request timeout")
	statusRequestTO   = NewStatus(http.StatusGatewayTimeout, "request timeout")
	statusBadBody     = NewStatus(http.StatusBadRequest, "malformed request body")
)

// classify maps a failed exchange to the answer the client gets.
func classify(r *http.Request, err error) *Status {
	switch {
	case context.Cause(r.Context()) == errRequestTimeout:
		return statusRequestTO
	case errors.Is(err, errAttemptTimeout):
		return statusUpstreamTO
	default:
		return statusConnect
	}
}
