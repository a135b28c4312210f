package proxy

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"testing"
)

// testEngine is the engine every harness uses. TestMain runs the whole
// suite once per engine: the HTTP/1.1 engine (the default) and net/http,
// which serves whatever the fast path hands to the http.Handler, so both
// must pass every test.
var testEngine Engine

func TestMain(m *testing.M) {
	flag.Parse()
	code := 0
	for _, e := range []struct {
		name   string
		engine Engine
	}{{"h1", H1{}}, {"nethttp", NetHTTP{}}} {
		if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" && e.name != "h1" {
			break // benchmarks: one engine (benchEngine)
		}
		testEngine = e.engine
		if testing.Verbose() {
			fmt.Printf("=== engine %s\n", e.name)
		}
		if c := m.Run(); c != 0 {
			fmt.Printf("FAIL with engine %s\n", e.name)
			code = c
		}
	}
	os.Exit(code)
}

// engineName names the engine of the running pass, for test messages.
func engineName() string {
	if _, ok := testEngine.(NetHTTP); ok {
		return "nethttp"
	}
	return "h1"
}

// recordingEngine is testEngine, remembering the ServerConfig of the last
// socket.
type recordingEngine struct {
	Engine
	last chan ServerConfig
}

func (e recordingEngine) NewServer(h http.Handler, cfg ServerConfig) Server {
	e.last <- cfg
	return e.Engine.NewServer(h, cfg)
}

// The engine and the readiness switch come in through Options: the
// package reads no environment variable.
func TestEngineAndReadinessComeFromOptions(t *testing.T) {
	t.Setenv("PORTICO_HTTP_ENGINE", "nethttp")
	t.Setenv("PORTICO_READINESS", "off")
	p := New(Options{})
	if _, ok := p.engine.(H1); !ok {
		t.Errorf("Options.Engine nil with PORTICO_HTTP_ENGINE=nethttp: engine %T, want H1 (only the CLI reads the environment)", p.engine)
	}
	if p.noReadiness {
		t.Error("readiness is off without Options.DisableReadiness")
	}
	_ = p.Shutdown(context.Background())

	for _, disabled := range []bool{false, true} {
		rec := recordingEngine{Engine: testEngine, last: make(chan ServerConfig, 1)}
		h := newHarnessWith(t, func(o *Options) { o.Engine, o.DisableReadiness = rec, disabled })
		h.serve()
		if cfg := <-rec.last; cfg.DisableReadiness != disabled {
			t.Errorf("Options.DisableReadiness %v: the engine got %v", disabled, cfg.DisableReadiness)
		}
	}
}
