package echo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Echo is the JSON body of an echoed request. Its field names are the ones
// the conformance suite parses (conformance/utils/roundtripper
// CapturedRequest).
type Echo struct {
	// Path is the RequestURI: path and query exactly as the client sent them.
	Path     string              `json:"path"`
	Host     string              `json:"host"`
	Method   string              `json:"method"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	HTTPPort string              `json:"httpPort"`

	Namespace string `json:"namespace"`
	Ingress   string `json:"ingress"`
	Service   string `json:"service"`
	Pod       string `json:"pod"`

	// TLS is set when the request came over TLS.
	TLS *TLSInfo `json:"tls,omitempty"`
}

// handler serves every path the echo backend knows.
type handler struct {
	opts    Options
	log     *slog.Logger
	retries *retries
	ws      *webSockets
}

// NewHandler returns the echo backend's handler; see the package
// documentation for what it answers.
func NewHandler(opts Options) http.Handler {
	return newHandler(opts)
}

func newHandler(opts Options) *handler {
	return &handler{
		opts:    opts,
		log:     opts.logger(),
		retries: newRetries(),
		ws:      newWebSockets(),
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Collapse "//" for routing only; the echoed path stays the RequestURI.
	path := r.URL.Path
	for strings.Contains(path, "//") {
		path = strings.ReplaceAll(path, "//", "/")
	}
	switch {
	case path == "/health":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("OK"))
	case strings.HasPrefix(path, "/status/"):
		serveStatus(w, strings.TrimPrefix(path, "/status/"))
	case strings.HasPrefix(path, "/retry/"):
		h.serveRetry(w, r)
	case path == "/ws" && isWebSocketUpgrade(r):
		h.serveWebSocket(w, r)
	default:
		h.serveEcho(w, r)
	}
}

// serveStatus answers with the three-digit status code in the path, or 400
// when the path holds something else.
func serveStatus(w http.ResponseWriter, code string) {
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 {
		http.Error(w, fmt.Sprintf("want /status/NNN with a three-digit status code, got /status/%s", code), http.StatusBadRequest)
		return
	}
	w.WriteHeader(n)
}

// serveEcho answers 200 with the request as JSON, after ?delay when given.
func (h *handler) serveEcho(w http.ResponseWriter, r *http.Request) {
	h.log.Info(fmt.Sprintf("Echoing back request made to %s to client (%s)", r.RequestURI, r.RemoteAddr))
	if err := sleepFor(r, "delay"); err != nil {
		writeError(w, err, http.StatusBadRequest)
		return
	}
	body, err := json.MarshalIndent(h.echo(r), "", " ")
	if err != nil {
		writeError(w, err, http.StatusInternalServerError)
		return
	}
	setEchoHeaders(w.Header(), r.Header.Values("X-Echo-Set-Header"))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}

func (h *handler) echo(r *http.Request) Echo {
	return Echo{
		Path:      r.RequestURI,
		Host:      r.Host,
		Method:    r.Method,
		Proto:     r.Proto,
		Headers:   r.Header,
		HTTPPort:  h.opts.HTTPPort,
		Namespace: h.opts.Namespace,
		Ingress:   h.opts.Ingress,
		Service:   h.opts.Service,
		Pod:       h.opts.Name,
		TLS:       NewTLSInfo(r.TLS),
	}
}

// setEchoHeaders applies X-Echo-Set-Header values ("Name:Value,Name:Value")
// to the response. A name given twice gets its values joined with ",". The
// names keep the case the client wrote.
func setEchoHeaders(dst http.Header, values []string) {
	for _, list := range values {
		for pair := range strings.SplitSeq(list, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(pair), ":")
			name, value = strings.TrimSpace(name), strings.TrimSpace(value)
			if name == "" {
				continue
			}
			if old := dst[name]; len(old) > 0 {
				old[0] += "," + value
				continue
			}
			dst[name] = []string{value}
		}
	}
}

// sleepFor sleeps for the duration in query parameter key, if any, or until
// the request is cancelled.
func sleepFor(r *http.Request, key string) error {
	s := r.URL.Query().Get(key)
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("query parameter %s=%q: want a Go duration such as 500ms or 2s: %w", key, s, err)
	}
	return sleepCtx(r.Context(), d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeError answers code with {"message": err} as echo-basic does.
func writeError(w http.ResponseWriter, err error, code int) {
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{err.Error()})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
