package admin

import (
	"net/http"
	"net/http/pprof"
)

// WithPprof serves the Go runtime profiles (net/http/pprof) under
// /debug/pprof/ next to h. `portico run --pprof` turns it on; it is off by
// default since a profile costs CPU and shows internals.
func WithPprof(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.Handle("/", h)
	return mux
}
