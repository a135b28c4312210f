// Module h2spec pins and builds h2spec (github.com/summerwind/h2spec), the
// HTTP/2 conformance tester that test/e2e's TestH2Spec runs against the
// portico binary. It is a separate module so that h2spec's dependencies
// never enter the main go.mod. See README.md.
module portico.dev/portico/test/h2spec

go 1.27.0

toolchain go1.27.4

tool github.com/summerwind/h2spec/cmd/h2spec

require (
	github.com/fatih/color v1.19.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	github.com/summerwind/h2spec v2.2.1+incompatible // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)
