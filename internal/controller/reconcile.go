package controller

import (
	"context"
	"errors"
	"slices"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/controlplane"
	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/status"
	"portico.dev/portico/internal/translate"
)

// graphOptions are the graph options of cluster mode: every proxy binds its
// Pod IP (the proxy's --bind-address fills the empty address) and the
// Service provides the Gateway's addresses.
var graphOptions = graph.Options{ProvisionedAddresses: true}

// sync runs the pipeline once over what the store reads (the informer
// cache); the leader also provisions and writes status.
func (c *Controller) sync(ctx context.Context, leading bool) error {
	start := time.Now()
	st, err := c.store.Read(ctx)
	if err != nil {
		return err
	}
	res := controlplane.Compute(st.Snapshot, graphOptions)
	c.deliver(res.Graph)
	c.ready.Store(true)
	if !leading {
		c.warnOnce(res.Graph.Warnings)
		c.log.Debug("reconciled (not leading)", "gateways", len(res.Graph.Gateways), "took", time.Since(start))
		return nil
	}

	var errs []error
	actions, conflicts := plan(res.Graph, st, c.opts.Infra)
	c.warnOnce(append(slices.Clone(res.Graph.Warnings), conflicts...))
	if err := c.prov.run(ctx, actions); err != nil {
		errs = append(errs, err)
	}

	dp := newClusterDataPlane(c.cs, res.Graph, st.Snapshot)
	prev := st.LiveStatuses()
	now := time.Now()
	want := decorate(res.Status(dp, prev, now))
	want = append(want, staleRouteStatuses(st.Snapshot, want)...)
	reproject := func(fresh status.Object) (status.Object, bool) {
		prev := slices.DeleteFunc(slices.Clone(prev), func(o status.Object) bool { return o.Key() == fresh.Key() })
		for _, o := range decorate(res.Status(dp, append(prev, fresh), now)) {
			if o.Key() == fresh.Key() {
				return o, true
			}
		}
		if rs, ok := fresh.Status.(*gwv1.HTTPRouteStatus); ok {
			if st, ok := withoutOurParents(rs); ok {
				fresh.Status = st
				return fresh, true
			}
		}
		return status.Object{}, false
	}
	n, err := c.store.WriteStatus(ctx, st, want, reproject)
	if err != nil {
		errs = append(errs, err)
	}
	c.log.Debug("reconciled", "gateways", len(res.Graph.Gateways), "provisioned", len(actions), "statusWrites", n, "took", time.Since(start))
	return errors.Join(errs...)
}

// deliver publishes the configuration of every accepted Gateway of ours to
// the config stream and removes the configurations of the others.
func (c *Controller) deliver(g *graph.Graph) {
	current := map[string]bool{}
	for _, gw := range g.Gateways {
		if !gw.Accepted() {
			continue
		}
		key := gatewayKey(gw.NamespacedName())
		c.cs.Publish(key, translate.ForGateway(gw))
		current[key] = true
	}
	for key := range c.published {
		if !current[key] {
			c.cs.Remove(key)
		}
	}
	c.published = current
}

// warnOnce logs each problem the first time it appears (every reconcile
// sees it again until it is fixed).
func (c *Controller) warnOnce(problems []string) {
	for _, w := range problems {
		if !c.warned[w] {
			c.log.Warn("input problem", "problem", w)
		}
	}
	c.warned = map[string]bool{}
	for _, w := range problems {
		c.warned[w] = true
	}
}
