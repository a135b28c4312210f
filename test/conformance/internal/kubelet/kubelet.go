package kubelet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"

	"portico.dev/portico/test/conformance/internal/ipam"
)

// Config configures the fake kubelet.
type Config struct {
	Client   kubernetes.Interface
	NodeName string
	// NodeIP is the Node's InternalIP; the kubelet API listens on it.
	NodeIP string
	// Port is the kubelet API port (10250).
	Port int
	// PodCIDR is where Pod IPs come from (10.244.0.0/16); NodeIP may be in
	// it and is never given to a Pod.
	PodCIDR string
	// TLSCertFile and TLSKeyFile are the kubelet API's serving certificate.
	TLSCertFile, TLSKeyFile string
	// PorticoBinary runs the containers whose image names portico.
	PorticoBinary string
	// RunDir receives per-Pod volumes and container logs.
	RunDir string
	// KubeletVersion is reported in the Node's nodeInfo.
	KubeletVersion string
	// Logf reports what the kubelet does; nil discards it.
	Logf func(format string, args ...any)
}

// Kubelet registers a Node, binds every unscheduled Pod to it and runs them.
type Kubelet struct {
	cfg   Config
	ips   *ipam.Allocator
	queue workqueue.TypedRateLimitingInterface[string]
	pods  corelisters.PodLister

	mu      sync.Mutex
	running map[string]*podRuntime // by namespace/name

	cancel context.CancelFunc
	wg     sync.WaitGroup
	srv    *http.Server
}

// podRuntime is what runs for one Pod.
type podRuntime struct {
	uid        string
	key        string
	ip         string
	dir        string
	containers []*container
	startTime  time.Time
}

// New checks cfg and returns a kubelet; Start runs it.
func New(cfg Config) (*Kubelet, error) {
	if cfg.Client == nil || cfg.NodeName == "" || cfg.NodeIP == "" || cfg.RunDir == "" {
		return nil, errors.New("kubelet: Client, NodeName, NodeIP and RunDir are required")
	}
	if cfg.Port == 0 {
		cfg.Port = 10250
	}
	if cfg.PodCIDR == "" {
		cfg.PodCIDR = "10.244.0.0/16"
	}
	if cfg.KubeletVersion == "" {
		cfg.KubeletVersion = "v1.36.3"
	}
	ips, err := ipam.New(cfg.PodCIDR, cfg.NodeIP)
	if err != nil {
		return nil, err
	}
	return &Kubelet{
		cfg:     cfg,
		ips:     ips,
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 5*time.Second)),
		running: map[string]*podRuntime{},
	}, nil
}

func (k *Kubelet) logf(format string, args ...any) {
	if k.cfg.Logf != nil {
		k.cfg.Logf(format, args...)
	}
}

// Start registers the Node, serves the kubelet API and starts the Pod
// loops. Stop ends them.
func (k *Kubelet) Start(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Join(k.cfg.RunDir, "pods"), 0o755); err != nil {
		return err
	}
	ctx, k.cancel = context.WithCancel(ctx)
	if err := k.serveAPI(); err != nil {
		return err
	}
	if err := k.registerNode(ctx); err != nil {
		return err
	}
	k.wg.Go(func() { k.renewLease(ctx) })

	kc := k.cfg.Client
	mine := informers.NewSharedInformerFactoryWithOptions(kc, 10*time.Second, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.cfg.NodeName).String()
	}))
	podInf := mine.Core().V1().Pods()
	k.pods = podInf.Lister()
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			k.queue.Add(key)
		}
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, o any) { enqueue(o) }, DeleteFunc: enqueue,
	}); err != nil {
		return err
	}

	unscheduled := informers.NewSharedInformerFactoryWithOptions(kc, 10*time.Second, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", "").String()
	}))
	bindInf := unscheduled.Core().V1().Pods().Informer()
	bind := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil {
			k.queue.Add("bind:" + pod.Namespace + "/" + pod.Name)
		}
	}
	if _, err := bindInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: bind, UpdateFunc: func(_, o any) { bind(o) },
	}); err != nil {
		return err
	}

	mine.Start(ctx.Done())
	unscheduled.Start(ctx.Done())
	for typ, ok := range mine.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("kubelet: cache of %v did not sync", typ)
		}
	}
	// Keep the IPs Pods already have (a restarted kubelet).
	existing, _ := k.pods.List(labels.Everything())
	for _, p := range existing {
		if p.Status.PodIP != "" && !p.Spec.HostNetwork {
			_ = k.ips.Reserve(p.Status.PodIP, p.Namespace+"/"+p.Name)
		}
	}
	for range 6 {
		k.wg.Go(func() {
			for k.processNext(ctx) {
			}
		})
	}
	k.wg.Go(func() {
		<-ctx.Done()
		k.queue.ShutDown()
	})
	k.logf("kubelet: node %s ready at %s:%d", k.cfg.NodeName, k.cfg.NodeIP, k.cfg.Port)
	return nil
}

// Stop stops every Pod's containers (processes by PID), the loops and the
// kubelet API. Pods stay in the API.
func (k *Kubelet) Stop() {
	if k.cancel != nil {
		k.cancel()
	}
	k.wg.Wait()
	k.mu.Lock()
	rts := make([]*podRuntime, 0, len(k.running))
	for _, rt := range k.running {
		rts = append(rts, rt)
	}
	k.running = map[string]*podRuntime{}
	k.mu.Unlock()
	var wg sync.WaitGroup
	for _, rt := range rts {
		wg.Go(func() { k.stopRuntime(rt) })
	}
	wg.Wait()
	if k.srv != nil {
		_ = k.srv.Close()
	}
}

// PIDs returns the process ids of the running portico containers.
func (k *Kubelet) PIDs() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]int{}
	for key, rt := range k.running {
		for _, c := range rt.containers {
			if pid := c.PID(); pid != 0 {
				out[key+"/"+c.name] = pid
			}
		}
	}
	return out
}

func (k *Kubelet) processNext(ctx context.Context) bool {
	key, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(key)
	var err error
	if pod, ok := strings.CutPrefix(key, "bind:"); ok {
		err = k.bind(ctx, pod)
	} else {
		err = k.sync(ctx, key)
	}
	if err != nil && ctx.Err() == nil {
		k.logf("kubelet: %s: %v (retrying)", key, err)
		k.queue.AddRateLimited(key)
		return true
	}
	k.queue.Forget(key)
	return true
}

// bind binds an unscheduled Pod to this node (there is no scheduler).
func (k *Kubelet) bind(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Target:     corev1.ObjectReference{Kind: "Node", Name: k.cfg.NodeName},
	}
	err = k.cfg.Client.CoreV1().Pods(ns).Bind(ctx, b, metav1.CreateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone, or already bound
	}
	return err
}

// sync makes the Pod's containers and status match the Pod.
func (k *Kubelet) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := k.pods.Pods(ns).Get(name)
	k.mu.Lock()
	rt := k.running[key]
	k.mu.Unlock()
	if apierrors.IsNotFound(err) {
		if rt != nil {
			k.forget(key, rt)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if rt != nil && rt.uid != string(pod.UID) {
		k.forget(key, rt)
		rt = nil
	}
	if pod.DeletionTimestamp != nil {
		if rt != nil {
			k.forget(key, rt)
		}
		err := k.cfg.Client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0),
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	var startErr error
	if rt == nil {
		rt, startErr = k.startPod(ctx, pod)
		if rt != nil {
			k.mu.Lock()
			k.running[key] = rt
			k.mu.Unlock()
		}
	}
	status := k.podStatus(pod, rt, startErr)
	if !apiequality.Semantic.DeepEqual(status, pod.Status) {
		upd := pod.DeepCopy()
		upd.Status = status
		if _, err := k.cfg.Client.CoreV1().Pods(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("update status: %w", err)
		}
	}
	return startErr
}

func (k *Kubelet) forget(key string, rt *podRuntime) {
	k.mu.Lock()
	if k.running[key] == rt {
		delete(k.running, key)
	}
	k.mu.Unlock()
	k.stopRuntime(rt)
}

func (k *Kubelet) stopRuntime(rt *podRuntime) {
	var wg sync.WaitGroup
	for _, c := range rt.containers {
		wg.Go(c.stop)
	}
	wg.Wait()
	if rt.ip != "" {
		k.ips.Release(rt.ip, rt.key)
	}
	k.logf("kubelet: stopped pod %s", rt.key)
}

// startPod allocates the Pod's IP and starts its containers. On error the
// runtime is nil and whatever started is stopped again (the next sync
// retries).
func (k *Kubelet) startPod(ctx context.Context, pod *corev1.Pod) (*podRuntime, error) {
	key := pod.Namespace + "/" + pod.Name
	rt := &podRuntime{
		uid:       string(pod.UID),
		key:       key,
		dir:       filepath.Join(k.cfg.RunDir, "pods", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)[:8]),
		startTime: time.Now(),
	}
	if pod.Spec.HostNetwork {
		rt.ip = k.cfg.NodeIP
	} else {
		ip := pod.Status.PodIP
		if ip == "" || k.ips.Reserve(ip, key) != nil {
			var err error
			if ip, err = k.ips.Allocate(key); err != nil {
				return nil, err
			}
		}
		rt.ip = ip
	}
	fail := func(err error) (*podRuntime, error) {
		k.stopRuntime(rt)
		return nil, err
	}
	if err := os.MkdirAll(rt.dir, 0o755); err != nil {
		return fail(err)
	}
	grace := 5 * time.Second
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = min(time.Duration(*g)*time.Second, 10*time.Second)
	}
	for i := range pod.Spec.Containers {
		spec := &pod.Spec.Containers[i]
		m, err := materializeVolumes(ctx, k.cfg.Client, pod, spec, filepath.Join(rt.dir, "volumes"))
		if err != nil {
			return fail(fmt.Errorf("container %s: %w", spec.Name, err))
		}
		envList, env, err := resolveEnv(ctx, k.cfg.Client, pod, spec, rt.ip, k.cfg.NodeIP)
		if err != nil {
			return fail(fmt.Errorf("container %s: %w", spec.Name, err))
		}
		kind := containerKind(spec.Image, env)
		c := &container{
			name: spec.Name, image: spec.Image, kind: kind,
			log:      newContainerLog(filepath.Join(rt.dir, spec.Name+".log")),
			onChange: func() { k.queue.Add(key) },
		}
		rt.containers = append(rt.containers, c)
		switch kind {
		case kindPortico:
			for j := range envList {
				envList[j] = m.rewrite(envList[j])
			}
			argv, err := porticoArgv(k.cfg.PorticoBinary, spec.Command, spec.Args, env, m)
			if err != nil {
				return fail(fmt.Errorf("container %s: %w", spec.Name, err))
			}
			startProcess(c, processSpec{
				argv: argv, env: append(baseEnv(rt.dir), envList...), dir: rt.dir, podIP: rt.ip,
				probe: spec.ReadinessProbe, ports: spec.Ports, grace: grace,
			}, k.logf)
		default:
			if err := startInProcess(kind, c, serverSpec{podIP: rt.ip, env: env, path: m.path, log: c.log}); err != nil {
				return fail(fmt.Errorf("container %s (%s): %w", spec.Name, kind, err))
			}
		}
		k.logf("kubelet: pod %s container %s: %s on %s", key, spec.Name, kind, rt.ip)
	}
	return rt, nil
}

// podStatus computes the Pod's status from its runtime. Times of
// unchanged conditions are kept, so an unchanged Pod needs no write. It
// never sets qosClass (immutable, set at creation).
func (k *Kubelet) podStatus(pod *corev1.Pod, rt *podRuntime, startErr error) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	st.HostIP = k.cfg.NodeIP
	st.HostIPs = []corev1.HostIP{{IP: k.cfg.NodeIP}}
	if rt == nil {
		st.Phase = corev1.PodPending
		if startErr != nil {
			st.Reason, st.Message = "", ""
			setCondition(&st, corev1.ContainersReady, false, "ContainersNotReady", startErr.Error())
			setCondition(&st, corev1.PodReady, false, "ContainersNotReady", startErr.Error())
		}
		setCondition(&st, corev1.PodScheduled, true, "", "")
		return st
	}
	st.Phase = corev1.PodRunning
	st.PodIP = rt.ip
	st.PodIPs = []corev1.PodIP{{IP: rt.ip}}
	if st.StartTime == nil {
		t := metav1.NewTime(rt.startTime.Truncate(time.Second))
		st.StartTime = &t
	}
	allReady := true
	st.ContainerStatuses = nil
	for _, c := range rt.containers {
		cs := c.status()
		allReady = allReady && cs.Ready
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	setCondition(&st, corev1.PodReadyToStartContainers, true, "", "")
	setCondition(&st, corev1.PodInitialized, true, "", "")
	setCondition(&st, corev1.PodScheduled, true, "", "")
	if allReady {
		setCondition(&st, corev1.ContainersReady, true, "", "")
		setCondition(&st, corev1.PodReady, true, "", "")
	} else {
		setCondition(&st, corev1.ContainersReady, false, "ContainersNotReady", "containers not ready")
		setCondition(&st, corev1.PodReady, false, "ContainersNotReady", "containers not ready")
	}
	return st
}

func setCondition(st *corev1.PodStatus, typ corev1.PodConditionType, ok bool, reason, msg string) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != typ {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = metav1.NewTime(time.Now().Truncate(time.Second))
		}
		c.Status, c.Reason, c.Message = status, reason, msg
		return
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{
		Type: typ, Status: status, Reason: reason, Message: msg,
		LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second)),
	})
}

// registerNode creates the Node (or takes over an existing one) and writes
// its status, retrying on conflict: the node lifecycle controller touches a
// new Node at once.
func (k *Kubelet) registerNode(ctx context.Context) error {
	nodes := k.cfg.Client.CoreV1().Nodes()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: k.cfg.NodeName,
		Labels: map[string]string{
			"kubernetes.io/hostname": k.cfg.NodeName,
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     runtime.GOARCH,
		},
	}}
	if _, err := nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kubelet: create node: %w", err)
	}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		n, err := nodes.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason string) corev1.NodeCondition {
			return corev1.NodeCondition{Type: t, Status: s, Reason: reason, LastHeartbeatTime: now, LastTransitionTime: now}
		}
		res := corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse("32"),
			corev1.ResourceMemory:           resource.MustParse("128Gi"),
			corev1.ResourcePods:             resource.MustParse("2000"),
			corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
		}
		n.Status = corev1.NodeStatus{
			Capacity:    res,
			Allocatable: res,
			Phase:       corev1.NodeRunning,
			Conditions: []corev1.NodeCondition{
				cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"),
				cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"),
				cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"),
				cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"),
			},
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: k.cfg.NodeIP},
				{Type: corev1.NodeHostName, Address: k.cfg.NodeName},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(k.cfg.Port)}},
			NodeInfo: corev1.NodeSystemInfo{
				MachineID: "portico-conformance", SystemUUID: "portico-conformance", BootID: "portico-conformance",
				KernelVersion: "fake", OSImage: "portico fake kubelet", ContainerRuntimeVersion: "fake://1",
				KubeletVersion: k.cfg.KubeletVersion, OperatingSystem: "linux", Architecture: runtime.GOARCH,
			},
		}
		_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
}

// renewLease keeps kube-node-lease/<node> fresh (every 10 s, 40 s
// duration), so the node lifecycle controller never marks the Node
// unreachable and evicts its Pods.
func (k *Kubelet) renewLease(ctx context.Context) {
	leases := k.cfg.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	for {
		now := metav1.NewMicroTime(time.Now())
		l, err := leases.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = leases.Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: k.cfg.NodeName, Namespace: corev1.NamespaceNodeLease},
				Spec: coordinationv1.LeaseSpec{
					HolderIdentity: ptr.To(k.cfg.NodeName), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now,
				},
			}, metav1.CreateOptions{})
		case err == nil:
			l.Spec.HolderIdentity = ptr.To(k.cfg.NodeName)
			l.Spec.LeaseDurationSeconds = ptr.To[int32](40)
			l.Spec.RenewTime = &now
			_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
		}
		wait := 10 * time.Second
		if err != nil && ctx.Err() == nil {
			k.logf("kubelet: renew lease: %v", err)
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// serveAPI serves the kubelet API on NodeIP:Port over HTTPS: container logs
// and health.
func (k *Kubelet) serveAPI() error {
	if k.cfg.TLSCertFile == "" {
		return errors.New("kubelet: TLSCertFile and TLSKeyFile are required (kube-apiserver talks HTTPS to the kubelet)")
	}
	cert, err := tls.LoadX509KeyPair(k.cfg.TLSCertFile, k.cfg.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("kubelet: serving certificate: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", k.serveContainerLogs)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		k.logf("kubelet: API %s %s is not implemented", r.Method, r.URL.Path)
		http.Error(w, "not implemented by the fake kubelet", http.StatusNotImplemented)
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(k.cfg.NodeIP, strconv.Itoa(k.cfg.Port)))
	if err != nil {
		return fmt.Errorf("kubelet: listen: %w", err)
	}
	k.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = k.srv.ServeTLS(ln, "", "") }()
	return nil
}

// findLog returns the log of a running container.
func (k *Kubelet) findLog(ns, pod, container string) *containerLog {
	k.mu.Lock()
	defer k.mu.Unlock()
	rt := k.running[ns+"/"+pod]
	if rt == nil {
		return nil
	}
	for _, c := range rt.containers {
		if c.name == container || container == "" {
			return c.log
		}
	}
	return nil
}
