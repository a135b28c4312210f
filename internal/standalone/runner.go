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
	// Debounce is how long file events must settle before a reload.
	Debounce time.Duration
	Logger   *slog.Logger
}

// Runner runs the standalone pipeline.
type Runner struct {
	opts   Options
	loader *file.Loader
	proxy  DataPlane
	log    *slog.Logger

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
	changed  chan struct{}        // see ListenerChanged

	dirty     chan struct{} // the loop's mailbox: reconcile once
	certTimer *time.Timer   // reconcile when a certificate expires
}

// New returns a Runner feeding proxy from opts.ConfigDir.
func New(opts Options, proxy DataPlane) *Runner {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce == 0 {
		opts.Debounce = 150 * time.Millisecond
	}
	return &Runner{opts: opts, loader: file.NewLoader(opts.ConfigDir), proxy: proxy, log: opts.Logger,
		changed: make(chan struct{}, 1), dirty: make(chan struct{}, 1)}
}

// Start begins watching the config directory, reconciles once, and then
// reconciles on every change until ctx ends; the returned channel gets the
// loop's end. Watching starts before the first load, so a change made while
// it runs is not missed. A first load that fails is returned at once.
func (r *Runner) Start(ctx context.Context) (<-chan error, error) {
	go func() {
		err := file.Watch(ctx, r.opts.ConfigDir, r.opts.Debounce, r.markDirty)
		if err != nil {
			r.log.Error("watching the config directory failed; changes are no longer picked up", "dir", r.opts.ConfigDir, "err", err)
		}
	}()
	if err := r.Reconcile(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				r.mu.Lock()
				r.scheduleCertCheck(time.Time{})
				r.mu.Unlock()
				done <- nil
				return
			case <-r.dirty:
				if err := r.Reconcile(); err != nil {
					r.log.Error("reload failed; still serving the previous configuration", "err", err)
				}
			case <-r.changed:
				r.refresh()
			}
		}
	}()
	return done, nil
}

// Reconcile loads, computes, applies and projects status once.
func (r *Runner) Reconcile() error {
	start := time.Now()
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
