package echo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// Command runs the echo backend as the "portico echo" subcommand. args are
// the arguments after "echo"; it returns the process exit code: 0 after
// SIGINT or SIGTERM, 1 when serving fails, 2 for bad flags.
//
// Defaults for the names come from the environment variables echo-basic
// reads (POD_NAME, NAMESPACE, SERVICE_NAME, INGRESS_NAME), so the same
// binary can stand in for it in a Pod.
func Command(args []string, stdout, stderr io.Writer) int {
	return command(context.Background(), args, stdout, stderr)
}

func command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("portico echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portico echo [flags]\n\n"+
			"Runs the sample/test backend: it answers every request with the request as JSON\n"+
			"(see /health, /status/NNN, /ws, /retry/, ?delay=, X-Echo-Set-Header).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var opts Options
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:3000", "`address` for HTTP/1.1 and h2c")
	fs.StringVar(&opts.Name, "name", os.Getenv("POD_NAME"), "pod `name` reported in answers")
	fs.StringVar(&opts.Namespace, "namespace", os.Getenv("NAMESPACE"), "`namespace` reported in answers")
	fs.StringVar(&opts.Service, "service", os.Getenv("SERVICE_NAME"), "service `name` reported in answers")
	fs.StringVar(&opts.Ingress, "ingress", os.Getenv("INGRESS_NAME"), "ingress `name` reported in answers")
	fs.StringVar(&opts.TLSListen, "tls-listen", "", "`address` for HTTPS (needs --tls-cert and --tls-key)")
	fs.StringVar(&opts.TLSCertFile, "tls-cert", "", "PEM certificate chain `file` for --tls-listen")
	fs.StringVar(&opts.TLSKeyFile, "tls-key", "", "PEM private key `file` for --tls-listen")
	fs.StringVar(&opts.TLSClientCAFile, "tls-client-ca", "", "PEM `file` of CAs that verify optional client certificates")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "portico echo: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}

	opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	opts.OnListening = func(plain, secure net.Addr) {
		fmt.Fprintf(stdout, "echo %q listening on http://%s\n", opts.Name, plain)
		if secure != nil {
			fmt.Fprintf(stdout, "echo %q listening on https://%s\n", opts.Name, secure)
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Serve(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "portico echo: %v\n", err)
		return 1
	}
	return 0
}
