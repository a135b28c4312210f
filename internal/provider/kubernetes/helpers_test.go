package kubernetes

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/resource"
)

// testLog discards, unless PORTICO_TEST_LOG=1 (then debug to stderr).
var testLog = func() *slog.Logger {
	if os.Getenv("PORTICO_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func class(name string) *gwv1.GatewayClass {
	return &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(t0)},
		Spec:       gwv1.GatewayClassSpec{ControllerName: resource.ControllerName},
	}
}

func gateway(ns, name string, listeners ...gwv1.Listener) *gwv1.Gateway {
	if len(listeners) == 0 {
		listeners = []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}
	}
	return &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(t0)},
		Spec: gwv1.GatewaySpec{GatewayClassName: "portico", Listeners: listeners},
	}
}

func route(ns, name string, parents ...string) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(t0)}}
	for _, p := range parents {
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, gwv1.ParentReference{Name: gwv1.ObjectName(p)})
	}
	return r
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}}}
}

// newFakeClient is a fake API server holding objs, with the status
// subresource of the Gateway API kinds.
func newFakeClient(t *testing.T, objs ...client.Object) client.WithWatch {
	t.Helper()
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&gwv1.GatewayClass{}, &gwv1.Gateway{}, &gwv1.ListenerSet{}, &gwv1.HTTPRoute{}, &corev1.Service{},
			&gwv1.BackendTLSPolicy{}).Build()
}

// fakeStream is a ConfigServer that records what was published and answers
// acks from a map.
type fakeStream struct {
	published map[string]ir.Config
	removed   []string
	acks      map[string]*ir.Ack
	changes   chan struct{}
}

func newFakeStream() *fakeStream {
	return &fakeStream{published: map[string]ir.Config{}, acks: map[string]*ir.Ack{}, changes: make(chan struct{}, 1)}
}

func (f *fakeStream) Publish(gw string, cfg ir.Config) { f.published[gw] = cfg }
func (f *fakeStream) Remove(gw string) {
	delete(f.published, gw)
	f.removed = append(f.removed, gw)
}
func (f *fakeStream) Ack(gw string) *ir.Ack    { return f.acks[gw] }
func (f *fakeStream) Changes() <-chan struct{} { return f.changes }
func (f *fakeStream) Handler() http.Handler    { return http.NotFoundHandler() }

var _ = ptr.To[int]
