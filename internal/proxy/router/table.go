package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"portico.dev/portico/internal/hostname"
	"portico.dev/portico/internal/ir"
)

// BuildFunc returns the handler that serves rule (its filters and backends).
// New calls it once per rule.
type BuildFunc func(vh *ir.VirtualHost, route *ir.HTTPRoute, rule *ir.HTTPRule) (http.Handler, error)

// Table is the immutable match table of one ir.Listener. It is safe for
// concurrent use; a new configuration builds a new Table.
type Table struct {
	hosts hostname.Index[*vhost]
}

// Result is the routing decision for one request.
type Result struct {
	// Handler serves the request; nil when Status is set.
	Handler http.Handler
	// Matched is the rule and match taken; nil when Status is set.
	Matched *Matched
	// Status is 0 when Handler is set, else http.StatusNotFound or
	// http.StatusMisdirectedRequest.
	Status int
}

// PreRoutingFunc returns the handler a virtual host runs before route
// matching (client certificate checks, listener filters), wrapping next,
// which matches the request and serves it; it returns next when vh has
// nothing to run. next reads the request as the pre-routing handler passes
// it on, except its Host, which keeps the value that selected the virtual
// host.
type PreRoutingFunc func(vh *ir.VirtualHost, next http.Handler) (http.Handler, error)

// Option configures New.
type Option func(*options)

type options struct{ pre PreRoutingFunc }

// WithPreRouting makes ServeHTTP run f's handler of the selected virtual host
// before route matching.
func WithPreRouting(f PreRoutingFunc) Option { return func(o *options) { o.pre = f } }

// New compiles the match table of l. It reads l (and keeps pointers into it
// for Matched) but never modifies it. An error names the virtual host, route,
// rule and field at fault.
func New(l *ir.Listener, build BuildFunc, opts ...Option) (*Table, error) {
	if build == nil {
		return nil, errors.New("router: nil BuildFunc")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var hosts hostname.Builder[*vhost]
	for i := range l.VirtualHosts {
		vh := &l.VirtualHosts[i]
		v, err := newVHost(vh, build)
		if err == nil && o.pre != nil {
			err = v.setPreRouting(vh, o.pre)
		}
		if err != nil {
			return nil, fmt.Errorf("listener %q virtual host %q: %w", l.Name, vh.Name, err)
		}
		if !hosts.Add(vh.Hostname, v) {
			return nil, fmt.Errorf("listener %q virtual host %q: hostname %q is already served by another virtual host on this socket", l.Name, vh.Name, vh.Hostname)
		}
	}
	t := &Table{hosts: hosts.Index()}
	return t, nil
}

// Route picks the handler for r. sni is the TLS ClientHello server name on
// HTTPS connections and "" on plain HTTP (or when the client sent none), in
// which case only the Host header decides.
//
// The Host header (port and trailing dot dropped, case-insensitive) selects
// the virtual host. With an SNI, a request whose Host selects another virtual
// host than the SNI did is misdirected (421): the connection's certificate and
// TLS settings belong to the SNI's listener. Route does not allocate unless
// the Host has upper-case letters or a matched value is percent-encoded.
func (t *Table) Route(r *http.Request, sni string) Result {
	v, host, status := t.virtualHost(requestHost(r), sni)
	if status != 0 {
		return Result{Status: status}
	}
	q := newQuery(r)
	return v.route(&q, host)
}

// RouteFields is Route for an engine that parsed the request itself and
// built no *http.Request. It does not allocate (unless the Host has
// upper-case letters or a matched value is percent-encoded) and keeps no
// reference to f. preRouting reports that the selected virtual host runs a
// pre-routing handler (client certificate check, listener filters): the
// result is then empty and the request must be served by ServeHTTP, which
// runs it.
func (t *Table) RouteFields(f *Fields, sni string) (res Result, preRouting bool) {
	v, host, status := t.virtualHost(f.Host, sni)
	if status != 0 {
		return Result{Status: status}, false
	}
	if v.pre != nil {
		return Result{}, true
	}
	q := query{method: f.Method, host: f.Host, path: f.Path, rawQuery: f.RawQuery, src: f.Header}
	return v.route(&q, host), false
}

// requestHost is the host r is for: its Host, else its URL's.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// virtualHost selects the virtual host of a request for host (see Route);
// status is set when there is none.
func (t *Table) virtualHost(host, sni string) (v *vhost, canon string, status int) {
	host = hostname.CanonicalHost(host)
	v, ok := t.hosts.Lookup(host)
	if sni != "" {
		sv, sok := t.hosts.Lookup(hostname.CanonicalHost(sni))
		if ok && (!sok || sv != v) {
			return nil, host, http.StatusMisdirectedRequest
		}
	}
	if !ok {
		return nil, host, http.StatusNotFound
	}
	return v, host, 0
}

// route matches q against the routes of v for host.
func (v *vhost) route(q *query, host string) Result {
	e := v.find(q, host)
	if e == nil {
		return Result{Status: http.StatusNotFound}
	}
	return Result{Handler: e.handler, Matched: e.matched}
}

// ServeHTTP routes r with the SNI of its TLS connection, answers 404 or 421
// itself, and otherwise runs the rule's handler with the Matched value in the
// request context (see FromContext).
func (t *Table) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var sni string
	if r.TLS != nil {
		sni = r.TLS.ServerName
	}
	v, host, status := t.virtualHost(requestHost(r), sni)
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if v.pre != nil {
		v.pre.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), selectedKey{}, selected{host: host, rawHost: r.Host})))
		return
	}
	v.serve(w, r, host)
}

// serve routes r on v and runs the rule's handler with the Matched value in
// the request context, or answers 404.
func (v *vhost) serve(w http.ResponseWriter, r *http.Request, host string) {
	q := newQuery(r)
	res := v.route(&q, host)
	if res.Handler == nil {
		http.Error(w, http.StatusText(res.Status), res.Status)
		return
	}
	res.Handler.ServeHTTP(w, r.WithContext(NewContext(r.Context(), res.Matched)))
}

// selectedKey carries the selected value from ServeHTTP through a
// pre-routing handler to route matching.
type selectedKey struct{}

// selected is what chose the virtual host: the canonical host and r.Host
// as the client sent it.
type selected struct{ host, rawHost string }

// setPreRouting builds v's pre-routing handler. Route matching after it uses
// the host that selected v, and r.Host is put back if the handler changed
// it: pre-routing must not change which host a request is for.
func (v *vhost) setPreRouting(vh *ir.VirtualHost, f PreRoutingFunc) error {
	next := &afterPreRouting{v}
	h, err := f(vh, next)
	if err != nil {
		return err
	}
	if h != http.Handler(next) {
		v.pre = h
	}
	return nil
}

// afterPreRouting is the end of a pre-routing handler: route matching.
type afterPreRouting struct{ v *vhost }

func (a *afterPreRouting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sel, _ := r.Context().Value(selectedKey{}).(selected)
	r.Host = sel.rawHost
	a.v.serve(w, r, sel.host)
}
