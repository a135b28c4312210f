package controller

import (
	"io"
	"log/slog"
	"net/http"
	"os"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/kubernetes"
	"portico.dev/portico/internal/runloop"
	"portico.dev/portico/internal/testkube"
)

// testLog discards, unless PORTICO_TEST_LOG=1 (then debug to stderr).
var testLog = func() *slog.Logger {
	if os.Getenv("PORTICO_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// The fixtures shared with the provider's tests.
var (
	t0            = testkube.T0
	class         = testkube.Class
	gateway       = testkube.Gateway
	route         = testkube.Route
	namespace     = testkube.Namespace
	newFakeClient = testkube.NewFakeClient
)

var testInfra = infra.Options{ControllerURL: "http://portico-controller.portico-system.svc:18000"}.WithDefaults()

// newTestController is a Controller over c, leading or not as each sync
// says, without a provider (no informers: sync reads c).
func newTestController(c client.Client, stream ConfigServer) *Controller {
	return newController(Options{Infra: testInfra, Logger: testLog}, stream, kubernetes.NewStore(c, c, testLog),
		runloop.NewMailbox[struct{}](runloop.Window(DefaultDebounce), nil))
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
