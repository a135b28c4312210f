package proxy

import (
	"flag"
	"fmt"
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
			break // benchmarks: the default engine only (PORTICO_HTTP_ENGINE picks another)
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
