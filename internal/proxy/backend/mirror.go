package backend

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"portico.dev/portico/internal/ir"
)

// Mirroring limits. Mirrors are best effort: when a limit is hit the copy
// is dropped, never the main request delayed.
const (
	DefaultMirrorTimeout     = 5 * time.Second
	DefaultMirrorConcurrency = 256
)

// MirrorLimiter bounds the mirror copies in flight across all generations.
type MirrorLimiter struct {
	slots   chan struct{}
	timeout time.Duration
	wg      sync.WaitGroup
}

// NewMirrorLimiter allows concurrency copies at once, each bounded by
// timeout (zero values take the defaults).
func NewMirrorLimiter(concurrency int, timeout time.Duration) *MirrorLimiter {
	if concurrency <= 0 {
		concurrency = DefaultMirrorConcurrency
	}
	if timeout <= 0 {
		timeout = DefaultMirrorTimeout
	}
	return &MirrorLimiter{slots: make(chan struct{}, concurrency), timeout: timeout}
}

// Wait blocks until the copies in flight are done (each is bounded by the
// mirror timeout).
func (l *MirrorLimiter) Wait() { l.wg.Wait() }

// Mirrors sends copies of requests to mirror backends for one generation.
// It implements the filter package's MirrorSender.
type Mirrors struct {
	lim     *MirrorLimiter
	log     *slog.Logger
	targets map[string]*mirrorTarget // by ir.Backend.Name
}

type mirrorTarget struct {
	targets []target
	next    atomic.Uint32
}

// NewMirrors returns the (empty) mirror sender of the generation being
// built; AddMirror registers each mirror backend the filters name.
func (b *Builder) NewMirrors(lim *MirrorLimiter) *Mirrors {
	return &Mirrors{lim: lim, log: b.log, targets: map[string]*mirrorTarget{}}
}

// AddMirror registers be as a mirror target, keeping its pools alive.
// Invalid backends and backends without endpoints are skipped: a copy to
// them would fail anyway.
func (b *Builder) AddMirror(m *Mirrors, be *ir.Backend) {
	if be.Invalid != "" || len(be.Endpoints) == 0 {
		return
	}
	if _, ok := m.targets[be.Name]; ok {
		return
	}
	if ts := b.targets(be); len(ts) > 0 {
		m.targets[be.Name] = &mirrorTarget{targets: ts}
	}
}

// Mirror sends r, a private copy made by the RequestMirror filter (body
// complete, context detached), to be and discards the answer. It returns at
// once when the concurrency limit is reached: the copy is dropped.
func (m *Mirrors) Mirror(be *ir.Backend, r *http.Request) {
	t := m.targets[be.Name]
	if t == nil {
		return
	}
	if r.Header.Get("Upgrade") != "" {
		m.log.Debug("mirror skipped", "backend", be.Name, "reason", "upgrade")
		return
	}
	select {
	case m.lim.slots <- struct{}{}:
	default:
		m.log.Debug("mirror dropped", "backend", be.Name, "reason", "too many in flight")
		return
	}
	m.lim.wg.Add(1)
	defer func() { <-m.lim.slots; m.lim.wg.Done() }()

	tg := &t.targets[(t.next.Add(1)-1)%uint32(len(t.targets))]
	ctx, cancel := context.WithTimeout(context.Background(), m.lim.timeout)
	defer cancel()
	out := r.WithContext(ctx)
	u := *r.URL
	u.Scheme, u.Host = tg.scheme, tg.addr
	out.URL = &u
	out.RequestURI = ""
	removeHopHeaders(out.Header)
	resp, err := tg.rt.RoundTrip(out)
	if err != nil {
		m.log.Debug("mirror failed", "backend", be.Name, "err", err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// hopHeaders are the hop-by-hop headers of RFC 9110 section 7.6.1.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); f != "" {
				h.Del(f)
			}
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}
