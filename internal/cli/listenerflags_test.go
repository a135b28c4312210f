package cli

import (
	"flag"
	"io"
	"testing"

	"portico.dev/portico/internal/proxy"
)

// The CLI is where PORTICO_HTTP_ENGINE and PORTICO_READINESS are read: as
// the defaults of --http-engine and --readiness, which override them.
func TestProxyFlagsTakeTheirDefaultsFromTheEnvironment(t *testing.T) {
	cases := []struct {
		name, engine, readiness string
		args                    []string
		wantNetHTTP, wantOff    bool
	}{
		{name: "unset"},
		{name: "environment", engine: "nethttp", readiness: "off", wantNetHTTP: true, wantOff: true},
		{name: "flags override", engine: "nethttp", readiness: "off", args: []string{"--http-engine", "h1", "--readiness=true"}},
		{name: "flags alone", args: []string{"--http-engine", "nethttp", "--readiness=false"}, wantNetHTTP: true, wantOff: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envHTTPEngine, tc.engine)
			t.Setenv(envReadiness, tc.readiness)
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			lim := listenerFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			o, err := lim.options(proxy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := o.Engine.(proxy.NetHTTP); ok != tc.wantNetHTTP {
				t.Errorf("engine %T, want nethttp %v", o.Engine, tc.wantNetHTTP)
			}
			if o.DisableReadiness != tc.wantOff {
				t.Errorf("DisableReadiness %v, want %v", o.DisableReadiness, tc.wantOff)
			}
		})
	}
	t.Setenv(envHTTPEngine, "quic")
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	lim := listenerFlags(fs)
	if _, err := lim.options(proxy.Options{}); err == nil {
		t.Error("PORTICO_HTTP_ENGINE=quic: no error")
	}
}
