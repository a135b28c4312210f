package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"portico.dev/portico/internal/echo"
)

const usage = `portico: a Kubernetes Gateway API gateway, controller and proxy in one binary.

Usage:
  portico run --config DIR|FILE [--admin-address ADDR] [--bind-address IP]
        Serve the Gateway API YAML under DIR (standalone, no cluster) and
        reload on every change.
  portico status --config DIR|FILE [-o table|yaml|json]
        Compute and print the status of every object, offline.
  portico translate --config DIR|FILE
        Print the data-plane configuration (IR) and status as YAML.
  portico proxy --controller URL --gateway NAMESPACE/NAME [--bind-address IP]
        Serve one Gateway with the configuration a controller streams
        (the data plane of Kubernetes mode; acks go back to the controller).
  portico controller [--kubeconfig FILE] [--proxy-image IMAGE] [flags]
        Run the Kubernetes controller: provision a proxy Deployment and
        Service per Gateway, stream their configuration and write status.
  portico echo [--listen ADDR] [--name NAME]
        Run a sample HTTP backend that echoes requests as JSON.
  portico version
        Print the version.

Run 'portico COMMAND --help' for a command's flags.
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runCmd(rest, stdout, stderr)
	case "status":
		return statusCmd(rest, stdout, stderr)
	case "translate":
		return translateCmd(rest, stdout, stderr)
	case "proxy":
		return proxyCmd(rest, stdout, stderr)
	case "controller":
		return controllerCmd(rest, stdout, stderr)
	case "echo":
		return echo.Command(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "portico: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// newFlags returns a FlagSet whose --help prints a summary and the flags.
func newFlags(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("portico "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: portico %s\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and rejects stray arguments; ok is false with the exit
// code to return when parsing ended the command.
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	return 0, true
}

// checkConfigDir gives a newcomer a clear error for a missing --config,
// which may be a directory or a single YAML file.
func checkConfigDir(dir string, stderr io.Writer, cmd string) bool {
	if dir == "" {
		fmt.Fprintf(stderr, "portico %s: --config is required (a directory of Gateway API YAML such as examples/quickstart, or one YAML file)\n", cmd)
		return false
	}
	st, err := os.Stat(dir)
	if err != nil || !(st.IsDir() || st.Mode().IsRegular()) {
		fmt.Fprintf(stderr, "portico %s: --config %s: not a readable directory or regular file\n", cmd, dir)
		return false
	}
	return true
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
