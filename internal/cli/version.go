package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X portico.dev/portico/internal/cli.Version=...".
var Version = "dev"

func versionString() string {
	gwapi := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "sigs.k8s.io/gateway-api" {
				gwapi = d.Version
			}
		}
	}
	return fmt.Sprintf("portico %s (Gateway API %s, %s %s/%s)", Version, gwapi, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
