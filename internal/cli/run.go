package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"portico.dev/portico/internal/admin"
	"portico.dev/portico/internal/proxy"
	"portico.dev/portico/internal/standalone"
)

func runCmd(args []string, _, stderr io.Writer) int {
	fs := newFlags("run --config DIR|FILE [flags]",
		"Serve the Gateway API YAML under DIR with no cluster, reloading on every change.", stderr)
	dir := fs.String("config", "", "directory of Gateway API YAML (searched recursively), or one YAML file")
	adminAddr := fs.String("admin-address", "127.0.0.1:9901", "address of the admin API (/healthz, /readyz, /config, /status); empty to disable")
	bind := fs.String("bind-address", "0.0.0.0", "IP that Gateways without spec.addresses listen on")
	statusFile := fs.String("status-file", "", "also write the status YAML to this file after every change")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	drain := fs.Duration("drain-timeout", 10*time.Second, "how long in-flight requests may finish on shutdown")
	pprofOn := fs.Bool("pprof", false, "also serve Go profiles under /debug/pprof/ on the admin address")
	lim := listenerFlags(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	popts, err := lim.options(proxy.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "portico run: %v\n", err)
		return 2
	}
	if !checkConfigDir(*dir, stderr, "run") {
		return 2
	}
	if net.ParseIP(*bind) == nil {
		fmt.Fprintf(stderr, "portico run: --bind-address %q is not an IP address\n", *bind)
		return 2
	}
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "portico run: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The stages, in order: the proxy (data plane) first so the first
	// reconcile has somewhere to apply; then the runner (file provider ->
	// compute -> apply -> status); then the admin API that shows them.
	// The proxy tells the runner when a listener's health changes (accepts
	// failing or recovering, a busy port bound by the background retry),
	// so status follows without a file change.
	var runnerRef atomic.Pointer[standalone.Runner]
	popts.Logger = log
	popts.OnListenerChange = func() {
		if r := runnerRef.Load(); r != nil {
			r.ListenerChanged()
		}
	}
	px := proxy.New(popts)
	runner := standalone.New(standalone.Options{ConfigDir: *dir, BindAddress: *bind, StatusFile: *statusFile, Logger: log}, px)
	runnerRef.Store(runner)
	errc, err := runner.Start(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "portico run: %v\n", err)
		return 1
	}
	var adminSrv *http.Server
	if *adminAddr != "" {
		ln, err := net.Listen("tcp", *adminAddr)
		if err != nil {
			fmt.Fprintf(stderr, "portico run: --admin-address %s: %v\n", *adminAddr, err)
			return 1
		}
		h := admin.Handler(runner)
		if *pprofOn {
			h = admin.WithPprof(h)
		}
		h = admin.WithHostCheck(h, admin.NewHostPolicy(ln.Addr().String(), lim.adminHosts()))
		adminSrv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = adminSrv.Serve(ln) }()
		log.Info("admin API listening", "address", ln.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down", "drainTimeout", *drain)
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if adminSrv != nil {
		_ = adminSrv.Shutdown(sctx)
	}
	if perr := px.Shutdown(sctx); perr != nil && !errors.Is(perr, context.DeadlineExceeded) {
		log.Warn("proxy shutdown", "err", perr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico run: %v\n", err)
		return 1
	}
	return 0
}
