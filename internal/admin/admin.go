package admin

import (
	"encoding/json"
	"net/http"
	"strings"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
	"portico.dev/portico/internal/status"
)

// Source is what the admin API shows.
type Source interface {
	Ready() bool
	Config() *ir.Config
	Status() []status.Object
	Diagnostics() []file.Diagnostic
}

// ReadinessReporter is implemented by a Source that can be unready after
// its first configuration: ReadinessProblems lists why (nil when ready).
type ReadinessReporter interface {
	ReadinessProblems() []string
}

// Handler returns the admin API for src.
func Handler(src Source) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !src.Ready() {
			http.Error(w, "no configuration applied yet", http.StatusServiceUnavailable)
			return
		}
		if rr, ok := src.(ReadinessReporter); ok {
			if probs := rr.ReadinessProblems(); len(probs) > 0 {
				http.Error(w, "not ready:\n"+strings.Join(probs, "\n"), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, _ *http.Request) {
		cfg := src.Config()
		if cfg == nil {
			writeJSON(w, ir.Config{})
			return
		}
		writeJSON(w, cfg.Redacted())
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		objs := src.Status()
		if objs == nil {
			objs = []status.Object{}
		}
		writeJSON(w, objs)
	})
	mux.HandleFunc("GET /diagnostics", func(w http.ResponseWriter, _ *http.Request) {
		d := src.Diagnostics()
		if d == nil {
			d = []file.Diagnostic{}
		}
		writeJSON(w, d)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
