package standalone

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"time"

	"sigs.k8s.io/yaml"

	"portico.dev/portico/internal/controlplane"
	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
	"portico.dev/portico/internal/runloop"
	"portico.dev/portico/internal/status"
)

// DataPlane is what the runner needs of the proxy.
type DataPlane interface {
	Apply(cfg *ir.Config) ir.Ack
}

// Options configure a Runner.
type Options struct {
	ConfigDir   string
	BindAddress string
	// StatusFile, when set, receives the status YAML after every change.
	StatusFile string
	// Debounce is how long file events must settle before a reload
	// (DefaultDebounce when 0).
	Debounce time.Duration
	Logger   *slog.Logger
}

// DefaultDebounce is Options.Debounce's default: a burst of file writes
// (an editor's save, a copy of a tree) is read once, when it is over.
const DefaultDebounce = 150 * time.Millisecond

// Runner runs the standalone pipeline.
type Runner struct {
	opts    Options
	loader  *file.Loader
	watcher *file.Watcher
	proxy   DataPlane
	log     *slog.Logger
	box     *runloop.Mailbox[work] // the loop's mailbox

	mu      sync.RWMutex
	applied *ir.Config // last config the proxy accepted
	version uint64
	ack     *ir.Ack
	objects []status.Object
	diags   []file.Diagnostic
	// problems are the input problems last logged, each logged once.
	problems []string
	ready    bool
	last     *controlplane.Result // of the last Reconcile, for refresh

	certTimer *time.Timer // reconcile when a certificate expires
}

// work is what the loop does next; posts merge.
type work struct {
	reload  bool // load, compute, apply and project (Reconcile)
	refresh bool // project status again with the data plane's answer
}

func mergeWork(a, b work) work { return work{a.reload || b.reload, a.refresh || b.refresh} }

// New returns a Runner feeding proxy from opts.ConfigDir.
func New(opts Options, proxy DataPlane) *Runner {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce == 0 {
		opts.Debounce = DefaultDebounce
	}
	return &Runner{opts: opts, loader: file.NewLoader(opts.ConfigDir), watcher: file.NewWatcher(opts.ConfigDir),
		proxy: proxy, log: opts.Logger, box: runloop.NewMailbox(runloop.Settle(opts.Debounce), mergeWork)}
}

// Start begins watching the config directory, reconciles once, and then
// reconciles on every change until ctx ends; the returned channel gets the
// loop's end. Watching starts before the first load, so a change made while
// it runs is not missed. A first load that fails is returned at once.
func (r *Runner) Start(ctx context.Context) (<-chan error, error) {
	go func() {
		err := r.watcher.Run(ctx, func() { r.box.Post(work{reload: true}) })
		if err != nil {
			r.log.Error("watching the config directory failed; changes are no longer picked up", "dir", r.opts.ConfigDir, "err", err)
		}
	}()
	if err := r.Reconcile(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		runloop.Loop[work]{
			Mailbox: r.box,
			Do:      r.do,
			OnError: func(_ work, err error, _ time.Duration) {
				r.log.Error("reload failed; still serving the previous configuration", "err", err)
			},
		}.Run(ctx)
		r.mu.Lock()
		r.scheduleCertCheck(time.Time{})
		r.mu.Unlock()
		done <- nil
	}()
	return done, nil
}

// do is one turn of the loop. A reload projects status with the data
// plane's answer too; a reload that fails leaves a pending refresh to do.
func (r *Runner) do(_ context.Context, w work) error {
	if w.reload {
		err := r.Reconcile()
		if err == nil {
			return nil
		}
		if w.refresh {
			r.refresh()
		}
		return err
	}
	if w.refresh {
		r.refresh()
	}
	return nil
}

// Reconcile loads, computes, applies and projects status once.
func (r *Runner) Reconcile() error {
	start := time.Now()
	r.watcher.Loading()
	snap, diags, err := r.loader.Load()
	if err != nil {
		return err
	}
	res := controlplane.Compute(snap, graph.Options{BindAddress: r.opts.BindAddress, SharedSockets: true})

	r.mu.Lock()
	defer r.mu.Unlock()
	rep := reload{changes: r.loader.LastChanges(), problemsBefore: r.problems}
	ack := r.ack
	if r.applied == nil || !sameConfig(r.applied, &res.Config) || (ack != nil && len(ack.ListenerErrors) > 0) {
		r.version++
		cfg := res.Config
		cfg.Version = r.version
		a := r.proxy.Apply(&cfg)
		ack = &a
		if a.Error == "" {
			r.applied = &cfg
		}
		rep.applied, rep.version, rep.listeners, rep.ack = true, cfg.Version, len(cfg.Listeners), a
	}
	if r.applied != nil {
		rep.serving = r.applied.Version
	}
	r.ack = r.liveAck(ack)
	ack = r.ack
	r.last = &res
	before := conditionStates(r.objects)
	r.objects = res.Status(status.Standalone{Answer: ack}, r.objects, time.Now())
	r.diags = diags
	r.problems = ProblemLines(r.loader, diags, res.Graph.Warnings)
	rep.problems, rep.took = r.problems, time.Since(start)
	rep.transitions = transitions(before, conditionStates(r.objects))
	rep.log(r.log)
	r.scheduleCertCheck(res.Graph.NextCertificateCheck)
	r.ready = r.applied != nil
	if r.opts.StatusFile != "" {
		r.writeStatusFile()
	}
	return nil
}

// sameConfig compares configurations ignoring their versions.
func sameConfig(a, b *ir.Config) bool {
	x, y := *a, *b
	x.Version, y.Version = 0, 0
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(bx, by)
}

func (r *Runner) writeStatusFile() {
	b, err := yaml.Marshal(r.objects)
	if err == nil {
		tmp := r.opts.StatusFile + ".tmp"
		if err = os.WriteFile(tmp, b, 0o644); err == nil {
			err = os.Rename(tmp, r.opts.StatusFile)
		}
	}
	if err != nil {
		r.log.Error("writing the status file failed", "file", r.opts.StatusFile, "err", err)
	}
}

// Config returns the configuration being served (nil before the first apply).
func (r *Runner) Config() *ir.Config {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.applied
}

// Status returns the latest status projection.
func (r *Runner) Status() []status.Object {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.objects
}

// Diagnostics returns the input problems of the latest load.
func (r *Runner) Diagnostics() []file.Diagnostic {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.diags
}

// Ready reports whether a configuration has been applied.
func (r *Runner) Ready() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.ready
}
