// Package lb is the box's LoadBalancer implementation. Input: Services of
// type LoadBalancer and their EndpointSlices (informers). Output: an IP from
// the load-balancer range in each Service's status.loadBalancer.ingress, and
// userspace forwarding of TCP (spliced both ways, with half-close) and UDP
// (per-client sessions with an idle timeout) from that IP and the Service
// ports to the ready endpoints, round robin.
//
// The IP is, in order of preference: spec.loadBalancerIP; the first
// IPAddress in spec.addresses of the Gateway named by the Service's
// gateway.networking.k8s.io/gateway-name label (same namespace); or the
// next free address. Requested addresses outside the range are ignored.
package lb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"portico.dev/portico/test/conformance/internal/ipam"
)

// GatewayNameLabel is the label the Gateway API puts on what an
// implementation provisions for a Gateway.
const GatewayNameLabel = "gateway.networking.k8s.io/gateway-name"

// Config configures the load balancer.
type Config struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface // optional: read Gateways' requested addresses
	// CIDR is the load-balancer IP range (10.245.0.0/16); it must be local.
	CIDR string
	// UDPIdleTimeout ends a UDP session without traffic (default 60 s).
	UDPIdleTimeout time.Duration
	Logf           func(format string, args ...any)
}

// LB runs the load balancer.
type LB struct {
	cfg    Config
	ips    *ipam.Allocator
	queue  workqueue.TypedRateLimitingInterface[string]
	svcs   corelisters.ServiceLister
	slices discoverylisters.EndpointSliceLister

	mu    sync.Mutex
	state map[string]*service // by namespace/name

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type service struct {
	ip        string
	listeners map[string]*listener // by "TCP/80"
}

// listener forwards one protocol and port of a Service.
type listener struct {
	proto    corev1.Protocol
	addr     string
	backends atomic.Pointer[[]string]
	next     atomic.Uint64
	stop     func()
}

// New returns a load balancer; Start runs it.
func New(cfg Config) (*LB, error) {
	if cfg.Client == nil {
		return nil, errors.New("lb: Client is required")
	}
	if cfg.CIDR == "" {
		cfg.CIDR = "10.245.0.0/16"
	}
	if cfg.UDPIdleTimeout == 0 {
		cfg.UDPIdleTimeout = 60 * time.Second
	}
	ips, err := ipam.New(cfg.CIDR)
	if err != nil {
		return nil, err
	}
	return &LB{
		cfg:   cfg,
		ips:   ips,
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 5*time.Second)),
		state: map[string]*service{},
	}, nil
}

func (l *LB) logf(format string, args ...any) {
	if l.cfg.Logf != nil {
		l.cfg.Logf(format, args...)
	}
}

// Start watches Services and EndpointSlices and serves until Stop.
func (l *LB) Start(ctx context.Context) error {
	ctx, l.cancel = context.WithCancel(ctx)
	f := informers.NewSharedInformerFactory(l.cfg.Client, 30*time.Second)
	svcInf := f.Core().V1().Services()
	sliceInf := f.Discovery().V1().EndpointSlices()
	l.svcs, l.slices = svcInf.Lister(), sliceInf.Lister()
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			l.queue.Add(key)
		}
	}
	if _, err := svcInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, o any) { enqueue(o) }, DeleteFunc: enqueue,
	}); err != nil {
		return err
	}
	sliceKey := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
			if name := s.Labels[discoveryv1.LabelServiceName]; name != "" {
				l.queue.Add(s.Namespace + "/" + name)
			}
		}
	}
	if _, err := sliceInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: sliceKey, UpdateFunc: func(_, o any) { sliceKey(o) }, DeleteFunc: sliceKey,
	}); err != nil {
		return err
	}
	f.Start(ctx.Done())
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("lb: cache of %v did not sync", typ)
		}
	}
	// Keep the IPs Services already have.
	if svcs, err := l.svcs.List(labels.Everything()); err == nil {
		for _, s := range svcs {
			for _, in := range s.Status.LoadBalancer.Ingress {
				_ = l.ips.Reserve(in.IP, s.Namespace+"/"+s.Name)
			}
		}
	}
	for range 2 {
		l.wg.Go(func() {
			for l.processNext(ctx) {
			}
		})
	}
	l.wg.Go(func() {
		<-ctx.Done()
		l.queue.ShutDown()
	})
	return nil
}

// Stop closes every listener and session and waits for the loops.
func (l *LB) Stop() {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, s := range l.state {
		for _, ln := range s.listeners {
			ln.stop()
		}
		delete(l.state, key)
	}
}

// Addresses returns the IP of each Service the load balancer serves.
func (l *LB) Addresses() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for k, s := range l.state {
		out[k] = s.ip
	}
	return out
}

func (l *LB) processNext(ctx context.Context) bool {
	key, quit := l.queue.Get()
	if quit {
		return false
	}
	defer l.queue.Done(key)
	if err := l.sync(ctx, key); err != nil && ctx.Err() == nil {
		l.logf("lb: %s: %v (retrying)", key, err)
		l.queue.AddRateLimited(key)
		return true
	}
	l.queue.Forget(key)
	return true
}

func (l *LB) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := l.svcs.Services(ns).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && (svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.DeletionTimestamp != nil)) {
		l.release(key)
		return nil
	}
	if err != nil {
		return err
	}

	l.mu.Lock()
	st := l.state[key]
	l.mu.Unlock()
	want := l.requestedIP(ctx, svc)
	if st != nil && want != "" && st.ip != want {
		l.release(key) // the requested address changed
		st = nil
	}
	if st == nil {
		ip, err := l.assign(svc, key, want)
		if err != nil {
			return err
		}
		st = &service{ip: ip, listeners: map[string]*listener{}}
		l.mu.Lock()
		l.state[key] = st
		l.mu.Unlock()
		l.logf("lb: service %s gets %s", key, ip)
	}

	if err := l.reconcileListeners(svc, st); err != nil {
		return err
	}

	// status.loadBalancer.ingress
	if len(svc.Status.LoadBalancer.Ingress) != 1 || svc.Status.LoadBalancer.Ingress[0].IP != st.ip {
		upd := svc.DeepCopy()
		vip := corev1.LoadBalancerIPModeVIP
		upd.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: st.ip, IPMode: &vip}}
		if _, err := l.cfg.Client.CoreV1().Services(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("update status: %w", err)
		}
	}
	return nil
}

// requestedIP is the address the Service asks for, if it is in range.
func (l *LB) requestedIP(ctx context.Context, svc *corev1.Service) string {
	if ip := svc.Spec.LoadBalancerIP; ip != "" {
		if l.ips.Contains(ip) {
			return ip
		}
		l.logf("lb: service %s/%s: loadBalancerIP %s is outside %s; ignored", svc.Namespace, svc.Name, ip, l.cfg.CIDR)
	}
	gw := svc.Labels[GatewayNameLabel]
	if gw == "" || l.cfg.Dynamic == nil {
		return ""
	}
	gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	u, err := l.cfg.Dynamic.Resource(gvr).Namespace(svc.Namespace).Get(ctx, gw, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	addrs, _, _ := unstructured.NestedSlice(u.Object, "spec", "addresses")
	for _, a := range addrs {
		m, _ := a.(map[string]any)
		typ, _ := m["type"].(string)
		val, _ := m["value"].(string)
		if (typ == "" || typ == "IPAddress") && l.ips.Contains(val) {
			return val
		}
	}
	return ""
}

func (l *LB) assign(svc *corev1.Service, key, want string) (string, error) {
	if want != "" {
		if err := l.ips.Reserve(want, key); err != nil {
			return "", fmt.Errorf("requested address: %w", err)
		}
		return want, nil
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" && l.ips.Reserve(in.IP, key) == nil {
			return in.IP, nil
		}
	}
	return l.ips.Allocate(key)
}

func (l *LB) release(key string) {
	l.mu.Lock()
	st := l.state[key]
	delete(l.state, key)
	l.mu.Unlock()
	if st == nil {
		return
	}
	for _, ln := range st.listeners {
		ln.stop()
	}
	l.ips.Release(st.ip, key)
	l.logf("lb: service %s released %s", key, st.ip)
}

// reconcileListeners opens a listener per Service port and points it at the
// port's ready endpoints.
func (l *LB) reconcileListeners(svc *corev1.Service, st *service) error {
	slices, err := l.slices.EndpointSlices(svc.Namespace).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name}))
	if err != nil {
		return err
	}
	want := map[string]bool{}
	var errs []error
	for _, sp := range svc.Spec.Ports {
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		id := string(proto) + "/" + strconv.Itoa(int(sp.Port))
		want[id] = true
		backends := endpointsFor(slices, sp)
		ln := st.listeners[id]
		if ln == nil {
			ln = &listener{proto: proto, addr: net.JoinHostPort(st.ip, strconv.Itoa(int(sp.Port)))}
			ln.backends.Store(&backends)
			if err := l.open(ln); err != nil {
				errs = append(errs, err)
				continue
			}
			st.listeners[id] = ln
			l.logf("lb: %s/%s %s %s -> %v", svc.Namespace, svc.Name, proto, ln.addr, backends)
			continue
		}
		if old := *ln.backends.Load(); !equalStrings(old, backends) {
			ln.backends.Store(&backends)
			l.logf("lb: %s/%s %s %s -> %v", svc.Namespace, svc.Name, proto, ln.addr, backends)
		}
	}
	for id, ln := range st.listeners {
		if !want[id] {
			ln.stop()
			delete(st.listeners, id)
		}
	}
	return errors.Join(errs...)
}

// endpointsFor lists "ip:port" of the ready endpoints serving sp.
func endpointsFor(slices []*discoveryv1.EndpointSlice, sp corev1.ServicePort) []string {
	var out []string
	for _, s := range slices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		for _, p := range s.Ports {
			if p.Port == nil || ptrString(p.Name) != sp.Name {
				continue
			}
			if p.Protocol != nil && *p.Protocol != sp.Protocol && sp.Protocol != "" {
				continue
			}
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && !*e.Conditions.Ready {
					continue
				}
				for _, a := range e.Addresses {
					out = append(out, net.JoinHostPort(a, strconv.Itoa(int(*p.Port))))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

// pick returns the next backend, round robin, or "" when there is none.
func (ln *listener) pick() string {
	bs := *ln.backends.Load()
	if len(bs) == 0 {
		return ""
	}
	return bs[int(ln.next.Add(1)-1)%len(bs)]
}

func (l *LB) open(ln *listener) error {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	switch ln.proto {
	case corev1.ProtocolTCP:
		tl, err := net.Listen("tcp", ln.addr)
		if err != nil {
			cancel()
			return fmt.Errorf("listen on %s: %w", ln.addr, err)
		}
		wg.Go(func() { serveTCP(ctx, tl, ln, &wg) })
		ln.stop = func() { cancel(); _ = tl.Close(); wg.Wait() }
	case corev1.ProtocolUDP:
		pc, err := net.ListenPacket("udp", ln.addr)
		if err != nil {
			cancel()
			return fmt.Errorf("listen on %s/udp: %w", ln.addr, err)
		}
		wg.Go(func() { serveUDP(ctx, pc, ln, l.cfg.UDPIdleTimeout, &wg) })
		ln.stop = func() { cancel(); _ = pc.Close(); wg.Wait() }
	default:
		cancel()
		return fmt.Errorf("protocol %s is not supported", ln.proto)
	}
	return nil
}

func serveTCP(ctx context.Context, tl net.Listener, ln *listener, wg *sync.WaitGroup) {
	var conns sync.Map
	context.AfterFunc(ctx, func() {
		conns.Range(func(k, _ any) bool { _ = k.(net.Conn).Close(); return true })
	})
	for {
		c, err := tl.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer c.Close()
			backend := ln.pick()
			if backend == "" {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // refuse like a Service without endpoints
				}
				return
			}
			d := net.Dialer{Timeout: 5 * time.Second}
			up, err := d.DialContext(ctx, "tcp", backend)
			if err != nil {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				return
			}
			defer up.Close()
			conns.Store(c, true)
			conns.Store(up, true)
			defer conns.Delete(c)
			defer conns.Delete(up)
			splice(c.(*net.TCPConn), up.(*net.TCPConn))
		})
	}
}

// splice copies both ways; when one side ends its writes, the other side's
// write half is closed, and it returns when both directions are done.
func splice(a, b *net.TCPConn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src *net.TCPConn) {
		_, err := dst.ReadFrom(src)
		if err != nil {
			// A reset or error on one side: tear both down.
			_ = dst.SetLinger(0)
			_ = dst.Close()
			_ = src.Close()
		} else {
			_ = dst.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

func serveUDP(ctx context.Context, pc net.PacketConn, ln *listener, idle time.Duration, wg *sync.WaitGroup) {
	type session struct {
		up   net.Conn
		last atomic.Int64
	}
	var mu sync.Mutex
	sessions := map[string]*session{}
	context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range sessions {
			_ = s.up.Close()
		}
	})
	buf := make([]byte, 64*1024)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		key := from.String()
		mu.Lock()
		s := sessions[key]
		if s == nil {
			backend := ln.pick()
			if backend == "" {
				mu.Unlock()
				continue
			}
			up, err := net.Dial("udp", backend)
			if err != nil {
				mu.Unlock()
				continue
			}
			s = &session{up: up}
			sessions[key] = s
			wg.Go(func() {
				defer func() {
					mu.Lock()
					if sessions[key] == s {
						delete(sessions, key)
					}
					mu.Unlock()
					_ = up.Close()
				}()
				rb := make([]byte, 64*1024)
				for {
					_ = up.SetReadDeadline(time.Now().Add(idle))
					m, err := up.Read(rb)
					if err != nil {
						var ne net.Error
						if errors.As(err, &ne) && ne.Timeout() && time.Since(time.Unix(0, s.last.Load())) < idle {
							continue
						}
						return
					}
					s.last.Store(time.Now().UnixNano())
					_, _ = pc.WriteTo(rb[:m], from)
				}
			})
		}
		mu.Unlock()
		s.last.Store(time.Now().UnixNano())
		_, _ = s.up.Write(buf[:n])
	}
}
