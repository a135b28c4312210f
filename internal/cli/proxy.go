package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"portico.dev/portico/internal/admin"
	"portico.dev/portico/internal/configsync"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
	"portico.dev/portico/internal/proxy"
	"portico.dev/portico/internal/status"
)

func proxyCmd(args []string, _, stderr io.Writer) int {
	podIP := os.Getenv("POD_IP")
	defBind, defAdmin := "0.0.0.0", "127.0.0.1:9901"
	if podIP != "" {
		defBind, defAdmin = podIP, net.JoinHostPort(podIP, "9901")
	}
	defID := os.Getenv("POD_NAME")
	if defID == "" {
		defID, _ = os.Hostname()
	}

	fs := newFlags("proxy --controller URL --gateway NAMESPACE/NAME [flags]",
		"Serve one Gateway with the configuration streamed by a Portico controller.", stderr)
	controller := fs.String("controller", "", "base URL of the controller's config stream, e.g. http://portico-controller.portico-system:8081 (required)")
	gateway := fs.String("gateway", "", "the Gateway served, as namespace/name (required)")
	bind := fs.String("bind-address", defBind, "IP that listeners without an address listen on; defaults to $POD_IP when set")
	adminAddr := fs.String("admin-address", defAdmin, "address of the admin API (/healthz, /readyz, /config), $POD_IP:9901 when POD_IP is set; empty to disable")
	proxyID := fs.String("proxy-id", defID, "this proxy's name in acks; defaults to $POD_NAME, else the hostname")
	tokenFile := fs.String("token-file", "", "file holding the bearer token the controller requires")
	drain := fs.Duration("drain-timeout", 10*time.Second, "how long in-flight requests may finish on shutdown")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	lim := listenerFlags(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portico proxy: "+format+"\n", a...)
		return 2
	}
	if u, err := url.Parse(*controller); *controller == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail("--controller %q: want the controller's URL, http://host:port", *controller)
	}
	if ns, name, ok := strings.Cut(*gateway, "/"); !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return fail("--gateway %q: want namespace/name", *gateway)
	}
	if net.ParseIP(*bind) == nil {
		return fail("--bind-address %q is not an IP address", *bind)
	}
	if *proxyID == "" {
		return fail("--proxy-id is empty and neither POD_NAME nor the hostname is known")
	}
	var token string
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fail("--token-file: %v", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return fail("--token-file %s is empty", *tokenFile)
		}
	}
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		return fail("%v", err)
	}
	log = log.With("proxy", *proxyID)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The stages, in order: the proxy (serves nothing until the first
	// config), the admin API, then the config stream that feeds the proxy.
	popts, err := lim.options(proxy.Options{Logger: log, DrainTimeout: *drain})
	if err != nil {
		return fail("%v", err)
	}
	// Socket health changes (a busy port opened by the background retry,
	// accepts failing or recovering) are sent to the controller as a new
	// answer to the version served, so the cluster's status follows.
	changed := make(chan struct{}, 1)
	popts.OnListenerChange = func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	px := proxy.New(popts)
	bp := &boundProxy{px: px, bind: *bind, log: log}
	client := &configsync.Client{URL: *controller, Gateway: *gateway, ProxyID: *proxyID, Token: token, Log: log,
		LiveAck: bp.liveAck, Changed: changed}
	src := &proxySource{px: px, client: client}
	var adminSrv *http.Server
	if *adminAddr != "" {
		ln, err := net.Listen("tcp", *adminAddr)
		if err != nil {
			fmt.Fprintf(stderr, "portico proxy: --admin-address %s: %v\n", *adminAddr, err)
			return 1
		}
		h := admin.WithHostCheck(admin.Handler(src), admin.NewHostPolicy(ln.Addr().String(), lim.adminHosts()))
		adminSrv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = adminSrv.Serve(ln) }()
		log.Info("admin API listening", "address", ln.Addr().String())
	}
	log.Info("following the controller", "controller", *controller, "gateway", *gateway, "bindAddress", *bind)
	errc := make(chan error, 1)
	go func() { errc <- client.Run(ctx, bp.apply) }()
	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}

	// Not ready any more, stop following, close the listening sockets and
	// let requests in flight finish within --drain-timeout.
	src.draining.Store(true)
	stop()
	if err == nil {
		err = <-errc // Run returns once ctx is done
	}
	log.Info("shutting down", "drainTimeout", *drain)
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if perr := px.Shutdown(sctx); perr != nil && !errors.Is(perr, context.DeadlineExceeded) {
		log.Warn("proxy shutdown", "err", perr)
	}
	if adminSrv != nil {
		_ = adminSrv.Shutdown(sctx)
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico proxy: %v\n", err)
		return 1
	}
	return 0
}

// applyBound applies cfg with every listener that has no address bound to
// bind, the way the controller leaves them in a cluster ("" means "this
// proxy's address"). The proxy keys sockets by ir.Listener.Name, so those
// listeners are renamed bind:port; the Ack's per-socket maps are mapped
// back to the names the controller sent. cfg is not modified.
func applyBound(px *proxy.Proxy, cfg *ir.Config, bind string) ir.Ack {
	return (&boundProxy{px: px, bind: bind}).apply(cfg)
}

// bindListeners is cfg with the listeners without address bound to bind,
// the bound names' original names, and the listeners left out because they
// bind the same socket as another (with the message for the Ack).
func bindListeners(cfg *ir.Config, bind string) (bound *ir.Config, original, clashes map[string]string) {
	b := *cfg
	b.Listeners = make([]ir.Listener, 0, len(cfg.Listeners))
	original = map[string]string{} // bound name -> name in cfg
	for _, l := range cfg.Listeners {
		name := l.Name
		if l.Address == "" {
			l.Address = bind
			l.Name = net.JoinHostPort(bind, strconv.Itoa(int(l.Port)))
		}
		if other, dup := original[l.Name]; dup && other != name {
			if clashes == nil {
				clashes = map[string]string{}
			}
			clashes[name] = fmt.Sprintf("listener %q binds %s, as listener %q does: not served", name, l.Name, other)
			continue
		}
		original[l.Name] = name
		b.Listeners = append(b.Listeners, l)
	}
	return &b, original, clashes
}

// renameAck maps the proxy's answer back to the controller's names and
// adds the clashes bindListeners found.
func renameAck(ack ir.Ack, original, clashes map[string]string) ir.Ack {
	ack.ListenerErrors = renameKeys(ack.ListenerErrors, original)
	ack.InvalidListeners = renameKeys(ack.InvalidListeners, original)
	ack.NotAccepting = renameKeys(ack.NotAccepting, original)
	if ack.Error == "" {
		for name, msg := range clashes {
			if ack.ListenerErrors == nil {
				ack.ListenerErrors = map[string]string{}
			}
			ack.ListenerErrors[name] = msg
		}
	}
	return ack
}

// boundProxy applies the controller's configs with applyBound and gives
// the proxy's later answers (configsync.Client.LiveAck) in the
// controller's names.
type boundProxy struct {
	px   *proxy.Proxy
	bind string
	log  *slog.Logger // nil: quiet

	mu                sync.Mutex
	original, clashes map[string]string // of the last config applied
}

func (b *boundProxy) apply(cfg *ir.Config) ir.Ack {
	bound, original, clashes := bindListeners(cfg, b.bind)
	b.mu.Lock()
	b.original, b.clashes = original, clashes
	b.mu.Unlock()
	ack := b.px.Apply(bound)
	if b.log != nil {
		b.log.Info("config applied", "version", ack.Version, "listeners", len(bound.Listeners),
			"invalidListeners", len(ack.InvalidListeners), "bindErrors", len(ack.ListenerErrors), "error", ack.Error)
	}
	return renameAck(ack, original, clashes)
}

func (b *boundProxy) liveAck(version uint64) (ir.Ack, bool) {
	a := b.px.Ack()
	if a.Version != version {
		return ir.Ack{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return renameAck(a, b.original, b.clashes), true
}

// renameKeys maps the socket names of m back to the names the controller
// sent (original: bound name -> sent name).
func renameKeys(m, original map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	for name, msg := range m {
		if orig, ok := original[name]; ok {
			name = orig
		}
		out[name] = msg
	}
	return out
}

// proxySource is what the admin API shows of a proxy: readiness, and the
// config served (with the addresses bound). A proxy has no status or input
// diagnostics of its own: the controller writes status.
type proxySource struct {
	px       *proxy.Proxy
	client   *configsync.Client
	draining atomic.Bool
}

func (s *proxySource) Ready() bool                    { return s.client.Ready() && !s.draining.Load() }
func (s *proxySource) Config() *ir.Config             { return s.px.Config() }
func (s *proxySource) Status() []status.Object        { return nil }
func (s *proxySource) Diagnostics() []file.Diagnostic { return nil }
func (s *proxySource) ReadinessProblems() []string    { return s.px.ReadinessProblems() }

var _ admin.Source = (*proxySource)(nil)
