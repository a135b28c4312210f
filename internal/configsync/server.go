package configsync

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"portico.dev/portico/internal/ir"
)

// Defaults of the Server's tunables.
const (
	DefaultPollTimeout = 30 * time.Second
	DefaultProxyExpiry = 90 * time.Second
)

// InstanceHeader names the response header that identifies a Server value.
const InstanceHeader = "Portico-Instance"

// maxAckBytes bounds an ack request body.
const maxAckBytes = 1 << 20

// Server is the controller side: it holds the latest configuration of every
// Gateway, serves it to polling proxies and aggregates their acks.
//
// Set the exported fields before serving Handler; they are not guarded.
type Server struct {
	// Token, when not empty, is the bearer token every request must carry.
	Token string
	// PollTimeout is how long a poll waits for a new version before 304
	// (DefaultPollTimeout when zero).
	PollTimeout time.Duration
	// ProxyExpiry is how long a proxy counts as connected after its last
	// request ended (DefaultProxyExpiry when zero). It must exceed the
	// proxies' longest backoff between polls.
	ProxyExpiry time.Duration

	log      *slog.Logger
	instance string
	changes  chan struct{}

	mu       sync.Mutex
	gateways map[string]*gatewayState // by "namespace/name"
	sweeping bool                     // a sweep timer is armed
}

// gatewayState is one Gateway's latest configuration and its proxies.
type gatewayState struct {
	version uint64
	content []byte        // the config as JSON with Version 0, to detect changes; nil when removed
	body    []byte        // the 200 response body for version
	notify  chan struct{} // closed and replaced when version or body changes
	proxies map[string]*proxyState
	ack     *ir.Ack // what Ack last returned, to detect changes
}

type proxyState struct {
	ack      *ir.Ack // last ack received, of any version
	lastSeen time.Time
	polling  int // polls in flight
}

// ProxyInfo describes one connected proxy, for debugging.
type ProxyInfo struct {
	ID string `json:"id"`
	// Version is the version of the last ack received (0 when none), and
	// Error its error: set when the proxy refused that version.
	Version        uint64            `json:"version"`
	Error          string            `json:"error,omitempty"`
	ListenerErrors map[string]string `json:"listenerErrors,omitempty"`
	// Polling is true while a poll of this proxy is waiting.
	Polling  bool      `json:"polling"`
	LastSeen time.Time `json:"lastSeen"`
}

// NewServer returns a Server with no configurations. log may be nil.
func NewServer(log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &Server{
		log:      log,
		instance: hex.EncodeToString(id[:]),
		changes:  make(chan struct{}, 1),
		gateways: map[string]*gatewayState{},
	}
}

// Changes fires (coalescing, buffer 1) when what Ack returns for some
// Gateway may have changed: a new ack, a proxy gone, a new version or a
// removal. Read Ack for the Gateways of interest when it fires.
func (s *Server) Changes() <-chan struct{} { return s.changes }

// Publish makes cfg the configuration of gateway ("namespace/name"). It
// assigns a new version (see the package documentation) and wakes the
// polling proxies, unless cfg equals the last configuration published,
// ignoring cfg.Version. Publish keeps no reference to cfg.
func (s *Server) Publish(gateway string, cfg ir.Config) {
	cfg.Version = 0
	content, err := json.Marshal(cfg)
	if err != nil { // ir.Config is plain data; this cannot happen
		s.log.Error("config not published: cannot encode it", "gateway", gateway, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gatewayLocked(gateway)
	if g.content != nil && bytes.Equal(g.content, content) {
		return
	}
	g.version = nextVersion(g.version, time.Now())
	cfg.Version = g.version
	// Marshalled again with its version: proxies echo it in their acks.
	body, _ := json.Marshal(configResponse{Version: g.version, Config: &cfg})
	g.content, g.body = content, body
	close(g.notify)
	g.notify = make(chan struct{})
	s.log.Debug("config published", "gateway", gateway, "version", g.version)
	s.updateAckLocked(g, time.Now())
}

// nextVersion is the version after prev: now in Unix microseconds, or
// prev+1 when the clock is not past prev.
func nextVersion(prev uint64, now time.Time) uint64 {
	v := uint64(now.UnixMicro())
	if v <= prev {
		v = prev + 1
	}
	return v
}

// Latest returns the version last published for gateway; ok is false when
// there is none (never published, or removed).
func (s *Server) Latest(gateway string) (version uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gateways[gateway]
	if g == nil || g.content == nil {
		return 0, false
	}
	return g.version, true
}

// Remove forgets gateway's configuration. Its proxies keep serving what
// they have and wait for a new one; what they are is kept until they go.
func (s *Server) Remove(gateway string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gateways[gateway]
	if g == nil {
		return
	}
	g.content, g.body = nil, nil
	close(g.notify)
	g.notify = make(chan struct{})
	s.updateAckLocked(g, time.Now())
	if len(g.proxies) == 0 {
		delete(s.gateways, gateway)
	}
}

// Ack returns gateway's answer to its latest version: nil until a
// connected proxy acked that version. If any connected proxy refused it,
// Error is one such error (of the proxy whose id sorts first); the
// ListenerErrors of all of them are merged.
func (s *Server) Ack(gateway string) *ir.Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gateways[gateway]
	if g == nil {
		return nil
	}
	return s.aggregateLocked(g, time.Now())
}

// Proxies returns the proxies of gateway that count as connected, by id.
func (s *Server) Proxies(gateway string) []ProxyInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gateways[gateway]
	if g == nil {
		return nil
	}
	now := time.Now()
	var out []ProxyInfo
	for _, id := range sortedIDs(g.proxies) {
		p := g.proxies[id]
		if !s.alive(p, now) {
			continue
		}
		info := ProxyInfo{ID: id, Polling: p.polling > 0, LastSeen: p.lastSeen}
		if p.ack != nil {
			info.Version, info.Error = p.ack.Version, p.ack.Error
			info.ListenerErrors = cloneMap(p.ack.ListenerErrors)
		}
		out = append(out, info)
	}
	return out
}

func (s *Server) gatewayLocked(key string) *gatewayState {
	g := s.gateways[key]
	if g == nil {
		g = &gatewayState{notify: make(chan struct{}), proxies: map[string]*proxyState{}}
		s.gateways[key] = g
	}
	return g
}

func (s *Server) pollTimeout() time.Duration {
	if s.PollTimeout > 0 {
		return s.PollTimeout
	}
	return DefaultPollTimeout
}

func (s *Server) proxyExpiry() time.Duration {
	if s.ProxyExpiry > 0 {
		return s.ProxyExpiry
	}
	return DefaultProxyExpiry
}

func (s *Server) alive(p *proxyState, now time.Time) bool {
	return p.polling > 0 || now.Sub(p.lastSeen) < s.proxyExpiry()
}

// aggregateLocked computes what Ack returns for g.
func (s *Server) aggregateLocked(g *gatewayState, now time.Time) *ir.Ack {
	if g.content == nil {
		return nil
	}
	var out *ir.Ack
	for _, id := range sortedIDs(g.proxies) {
		p := g.proxies[id]
		if p.ack == nil || p.ack.Version != g.version || !s.alive(p, now) {
			continue
		}
		if out == nil {
			out = &ir.Ack{Version: g.version}
		}
		if out.Error == "" {
			out.Error = p.ack.Error
		}
		mergeFirst(&out.ListenerErrors, p.ack.ListenerErrors)
		mergeFirst(&out.InvalidListeners, p.ack.InvalidListeners)
		mergeFirst(&out.NotAccepting, p.ack.NotAccepting)
	}
	return out
}

// mergeFirst adds to *dst the entries of src it does not have yet.
func mergeFirst(dst *map[string]string, src map[string]string) {
	for name, msg := range src {
		if *dst == nil {
			*dst = map[string]string{}
		}
		if _, ok := (*dst)[name]; !ok {
			(*dst)[name] = msg
		}
	}
}

// updateAckLocked recomputes g's ack and signals Changes if it differs.
func (s *Server) updateAckLocked(g *gatewayState, now time.Time) {
	ack := s.aggregateLocked(g, now)
	if reflect.DeepEqual(ack, g.ack) {
		return
	}
	g.ack = ack
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

// touchLocked records a request of proxy id to g and arms the sweep that
// forgets proxies gone quiet.
func (s *Server) touchLocked(g *gatewayState, id string, now time.Time) *proxyState {
	p := g.proxies[id]
	if p == nil {
		p = &proxyState{}
		g.proxies[id] = p
	}
	p.lastSeen = now
	if !s.sweeping {
		s.sweeping = true
		time.AfterFunc(s.proxyExpiry(), s.sweep)
	}
	return p
}

// sweep forgets proxies that are no longer connected, signals the acks
// that changed, and re-arms itself while any proxy is known.
func (s *Server) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	remaining := 0
	for key, g := range s.gateways {
		for id, p := range g.proxies {
			if !s.alive(p, now) {
				delete(g.proxies, id)
				s.log.Info("proxy gone", "gateway", key, "proxy", id, "lastSeen", p.lastSeen)
			}
		}
		s.updateAckLocked(g, now)
		remaining += len(g.proxies)
		if g.content == nil && len(g.proxies) == 0 {
			delete(s.gateways, key)
		}
	}
	s.sweeping = remaining > 0
	if s.sweeping {
		// Half the expiry: a proxy is forgotten at most 1.5 expiries
		// after its last request.
		time.AfterFunc(s.proxyExpiry()/2, s.sweep)
	}
}

// Handler returns the HTTP API (see the package documentation). Polls
// hold their request for up to PollTimeout: the http.Server serving it
// must have a WriteTimeout above that, or none.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/gateways/{namespace}/{name}/config", s.serveConfig)
	mux.HandleFunc("POST /v1/gateways/{namespace}/{name}/ack", s.serveAck)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(InstanceHeader, s.instance)
		if s.Token != "" && !validToken(r.Header.Get("Authorization"), s.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="portico"`)
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func validToken(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// configResponse is the body of a 200 answer to a poll.
type configResponse struct {
	Version uint64     `json:"version"`
	Config  *ir.Config `json:"config"`
}

// ackRequest is the body of an ack.
type ackRequest struct {
	Proxy string `json:"proxy"`
	Ack   ir.Ack `json:"ack"`
}

func gatewayKey(r *http.Request) string {
	return r.PathValue("namespace") + "/" + r.PathValue("name")
}

func (s *Server) serveConfig(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("proxy")
	if id == "" {
		http.Error(w, "query parameter proxy (the proxy's id) is required", http.StatusBadRequest)
		return
	}
	var have uint64
	if v := q.Get("version"); v != "" {
		var err error
		if have, err = strconv.ParseUint(v, 10, 64); err != nil {
			http.Error(w, fmt.Sprintf("query parameter version %q: not an unsigned integer", v), http.StatusBadRequest)
			return
		}
	}
	key := gatewayKey(r)
	s.mu.Lock()
	g := s.gatewayLocked(key)
	p := s.touchLocked(g, id, time.Now())
	p.polling++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		p.polling--
		p.lastSeen = time.Now()
		s.mu.Unlock()
	}()

	timer := time.NewTimer(s.pollTimeout())
	defer timer.Stop()
	for {
		s.mu.Lock()
		version, body, notify := g.version, g.body, g.notify
		s.mu.Unlock()
		if body != nil && version != have {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
			s.log.Debug("config sent", "gateway", key, "proxy", id, "version", version, "had", have)
			return
		}
		select {
		case <-notify:
		case <-timer.C:
			w.WriteHeader(http.StatusNotModified)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) serveAck(w http.ResponseWriter, r *http.Request) {
	var req ackRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAckBytes))
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "ack body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.Proxy == "" {
		http.Error(w, "ack body: field proxy (the proxy's id) is required", http.StatusBadRequest)
		return
	}
	key := gatewayKey(r)
	now := time.Now()
	s.mu.Lock()
	g := s.gatewayLocked(key)
	p := s.touchLocked(g, req.Proxy, now)
	ack := req.Ack
	ack.ListenerErrors = cloneMap(ack.ListenerErrors)
	ack.InvalidListeners = cloneMap(ack.InvalidListeners)
	ack.NotAccepting = cloneMap(ack.NotAccepting)
	p.ack = &ack
	s.updateAckLocked(g, now)
	s.mu.Unlock()
	if ack.Error != "" {
		s.log.Warn("proxy refused config", "gateway", key, "proxy", req.Proxy, "version", ack.Version, "err", ack.Error)
	} else {
		s.log.Debug("proxy acked config", "gateway", key, "proxy", req.Proxy, "version", ack.Version, "listenerErrors", len(ack.ListenerErrors))
	}
	w.WriteHeader(http.StatusNoContent)
}

func sortedIDs(m map[string]*proxyState) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
