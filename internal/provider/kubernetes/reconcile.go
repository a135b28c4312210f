package kubernetes

import (
	"context"
	"errors"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

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

// reconcile runs the pipeline once over the current cache.
func (p *Provider) reconcile(ctx context.Context) error {
	return p.sync(ctx, p.mgr.GetClient(), p.leading())
}

// sync runs the pipeline once over what r lists; the leader also
// provisions and writes status.
func (p *Provider) sync(ctx context.Context, r client.Reader, leading bool) error {
	start := time.Now()
	st, err := readState(ctx, r)
	if err != nil {
		return err
	}
	if st.Snapshot.ClusterTrustBundles, err = p.trustBundles.list(ctx, r); err != nil {
		return err
	}
	res := controlplane.Compute(st.Snapshot, graphOptions)
	p.deliver(res.Graph)
	p.ready.Store(true)
	if !leading {
		p.warnOnce(res.Graph.Warnings)
		p.log.Debug("reconciled (not leading)", "gateways", len(res.Graph.Gateways), "took", time.Since(start))
		return nil
	}

	var errs []error
	actions, conflicts := plan(res.Graph, st, p.opts.Infra)
	p.warnOnce(append(slices.Clone(res.Graph.Warnings), conflicts...))
	if err := p.prov.run(ctx, actions); err != nil {
		errs = append(errs, err)
	}

	dp := newClusterDataPlane(p.cs, res.Graph, st.Snapshot)
	live := liveObjects(st.Snapshot)
	prev := liveStatuses(live)
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
	n, err := p.status.writeAll(ctx, want, live, reproject)
	statusWrites.Add(float64(n))
	if err != nil {
		errs = append(errs, err)
	}
	p.log.Debug("reconciled", "gateways", len(res.Graph.Gateways), "provisioned", len(actions), "statusWrites", n, "took", time.Since(start))
	return errors.Join(errs...)
}

// deliver publishes the configuration of every accepted Gateway of ours to
// the config stream and removes the configurations of the others.
func (p *Provider) deliver(g *graph.Graph) {
	current := map[string]bool{}
	for _, gw := range g.Gateways {
		if !gw.Accepted() {
			continue
		}
		key := gatewayKey(gw.NamespacedName())
		p.cs.Publish(key, translate.ForGateway(gw))
		current[key] = true
	}
	for key := range p.published {
		if !current[key] {
			p.cs.Remove(key)
		}
	}
	p.published = current
}

// warnOnce logs each problem the first time it appears (every reconcile
// sees it again until it is fixed).
func (p *Provider) warnOnce(problems []string) {
	for _, w := range problems {
		if !p.warned[w] {
			p.log.Warn("input problem", "problem", w)
		}
	}
	p.warned = map[string]bool{}
	for _, w := range problems {
		p.warned[w] = true
	}
}
