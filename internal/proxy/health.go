package proxy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"portico.dev/portico/internal/ir"
)

// Bind retry backoff: a socket that could not be opened (port busy,
// address not yet local) is tried again after bindRetryMin, then twice as
// long each time, up to bindRetryMax, until it opens or its listener goes.
const (
	bindRetryMin = time.Second
	bindRetryMax = 30 * time.Second
)

// bindRetry is the background retry of one socket that could not be opened.
type bindRetry struct {
	l    *ir.Listener
	g    *generation
	stop chan struct{}
}

// startRetry reports err and retries opening l's socket in the background.
// p.mu is held.
func (p *Proxy) startRetry(l *ir.Listener, g *generation, err error) {
	r := &bindRetry{l: l, g: g, stop: make(chan struct{})}
	p.retries[l.Name] = r
	p.log.Warn("listener not served: its socket cannot be opened; retrying in the background (free the port or fix the address)",
		"listener", l.Name, "gateways", describeListener(l), "err", err, "retryIn", bindRetryMin)
	go p.retryLoop(r)
}

// stopRetry ends the retry of the socket name, if any. p.mu is held.
func (p *Proxy) stopRetry(name string) {
	if r, ok := p.retries[name]; ok {
		close(r.stop)
		delete(p.retries, name)
	}
}

func (p *Proxy) retryLoop(r *bindRetry) {
	delay := bindRetryMin
	for {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.stop:
			t.Stop()
			return
		}
		delay = min(2*delay, bindRetryMax)
		p.mu.Lock()
		if p.retries[r.l.Name] != r { // replaced or stopped meanwhile
			p.mu.Unlock()
			return
		}
		s, err := p.open(r.l, r.g)
		if err != nil {
			p.ack.ListenerErrors[r.l.Name] = err.Error()
			p.mu.Unlock()
			p.log.Debug("listener still cannot be opened", "listener", r.l.Name, "gateways", describeListener(r.l), "err", err, "retryIn", delay)
			continue
		}
		delete(p.retries, r.l.Name)
		p.sockets[r.l.Name] = s
		delete(p.ack.ListenerErrors, r.l.Name)
		p.mu.Unlock()
		p.log.Info("listener served after retrying", "listener", r.l.Name, "gateways", describeListener(r.l))
		p.onChange()
		return
	}
}

// Ack is the answer to the last Apply as it stands now: sockets opened by
// the background retry are no longer in ListenerErrors, and NotAccepting
// lists the sockets whose accepts are failing at the moment.
func (p *Proxy) Ack() ir.Ack {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.liveAck()
}

// liveAck is Ack with p.mu held. Its maps are copies.
func (p *Proxy) liveAck() ir.Ack {
	a := p.ack
	a.ListenerErrors = cloneNonEmpty(a.ListenerErrors)
	a.InvalidListeners = cloneNonEmpty(a.InvalidListeners)
	for name, s := range p.sockets {
		if f := s.gl.failure(); f != "" {
			if a.NotAccepting == nil {
				a.NotAccepting = map[string]string{}
			}
			a.NotAccepting[name] = f
		}
	}
	return a
}

func cloneNonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// ReadinessProblems says, one line per socket, which sockets are not
// accepting connections now (nil when all are): a proxy in that state
// should not be sent traffic.
func (p *Proxy) ReadinessProblems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for name, s := range p.sockets {
		if f := s.gl.failure(); f != "" {
			out = append(out, fmt.Sprintf("listener %s (%s) is not accepting connections: %s; retrying with backoff",
				name, s.describe, f))
		}
	}
	slices.Sort(out)
	return out
}

// describeListener names the Gateway (or ListenerSet) listeners served on
// l's socket, for logs and messages: "Gateway ns/gw listener http, ...".
func describeListener(l *ir.Listener) string {
	names := make([]string, 0, len(l.VirtualHosts))
	for _, vh := range l.VirtualHosts {
		names = append(names, describeVirtualHost(vh.Name))
	}
	if len(names) == 0 {
		return "no Gateway listener"
	}
	return strings.Join(names, ", ")
}

// describeVirtualHost turns an ir.VirtualHost name
// ("namespace/gateway/listener" or "ListenerSet/namespace/set/listener")
// into "Gateway namespace/gateway listener listener".
func describeVirtualHost(name string) string {
	kind := "Gateway"
	if rest, ok := strings.CutPrefix(name, "ListenerSet/"); ok {
		kind, name = "ListenerSet", rest
	}
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		return kind + " " + name[:i] + " listener " + name[i+1:]
	}
	return kind + " " + name
}

// gatewayListeners describes the listener called name in cfg.
func gatewayListeners(cfg *ir.Config, name string) string {
	for i := range cfg.Listeners {
		if cfg.Listeners[i].Name == name {
			return describeListener(&cfg.Listeners[i])
		}
	}
	return ""
}
