// Package cli is the `portico` command line: run, status, translate, echo
// and version. Each subcommand parses its own flags and returns an exit code;
// main only dispatches.
package cli
