package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	reconciles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portico_controller_reconciles_total",
		Help: "Reconciles of the whole cluster state, by result (ok, error).",
	}, []string{"result"})
	reconcileDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "portico_controller_reconcile_duration_seconds",
		Help:    "How long one reconcile took: read the cache, compute, publish, provision and write status.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	})
)

func init() {
	metrics.Registry.MustRegister(reconciles, reconcileDuration)
}
