// Command portico is a Kubernetes Gateway API implementation: controller and
// data-plane proxy in one binary. See internal/cli for the commands.
package main

import (
	"os"

	"portico.dev/portico/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
