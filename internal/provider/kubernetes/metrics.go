package kubernetes

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var statusWrites = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "portico_controller_status_writes_total",
	Help: "Status subresource updates written (unchanged status is not written).",
})

func init() {
	metrics.Registry.MustRegister(statusWrites)
}
