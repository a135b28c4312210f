// Package cli is the `portico` command line: run, controller, proxy,
// status, translate, echo and version. Each subcommand parses its own flags
// and returns an exit code; main only dispatches.
//
// This is the only package that reads the environment (besides the echo
// command's flags, internal/echo/command.go), always as the default of a
// flag or a setting it passes down as an option: the libraries take
// options. run and proxy read PORTICO_HTTP_ENGINE
// (--http-engine) and PORTICO_READINESS (off: --readiness=false, i.e.
// proxy.Options.DisableReadiness); proxy reads POD_IP, POD_NAME;
// controller reads POD_NAMESPACE and, through client-go, KUBECONFIG.
package cli
