package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/provider/kubernetes"
)

// FieldManager is the server-side apply field manager of everything Portico
// writes.
const FieldManager = "portico"

// provisioner applies what internal/infra decides.
type provisioner struct {
	client client.Client
	opts   infra.Options
	log    *slog.Logger
}

// action is one write the provisioner decided on.
type action struct {
	verb   string // "apply" or "delete"
	object client.Object
}

// plan decides the writes that bring the cluster in line with g: apply the
// Deployment and Service of every accepted Gateway whose live objects differ
// (by infra's spec hash), and delete the objects Portico made for Gateways
// that are no longer of our classes. It is a pure function of its inputs.
//
// Objects of a Gateway that is of ours but not accepted are left as they
// are. Objects with the provisioned name that the Gateway does not control
// are not touched; the returned conflicts say so.
func plan(g *graph.Graph, st *kubernetes.State, opts infra.Options) (actions []action, conflicts []string) {
	deployments := map[types.NamespacedName]client.Object{}
	for _, d := range st.Deployments {
		deployments[types.NamespacedName{Namespace: d.Namespace, Name: d.Name}] = d
	}
	services := map[types.NamespacedName]client.Object{}
	var ownedServices []client.Object
	for _, s := range st.Snapshot.Services {
		services[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
		if s.Labels[infra.LabelManagedBy] == infra.ManagedBy {
			ownedServices = append(ownedServices, s)
		}
	}

	ours := map[types.UID]bool{}
	for _, gw := range g.Gateways {
		ours[gw.Object.UID] = true
		if !gw.Accepted() {
			continue
		}
		want := infra.ForGateway(gw.Object, opts, listenerSetListeners(gw)...)
		for _, pair := range []struct {
			want client.Object
			have map[types.NamespacedName]client.Object
		}{{want.Deployment, deployments}, {want.Service, services}} {
			have, exists := pair.have[client.ObjectKeyFromObject(pair.want)]
			switch {
			case !exists:
				actions = append(actions, action{"apply", pair.want})
			case !metav1.IsControlledBy(have, gw.Object) && previousIncarnation(have, gw.Object):
				// Made for a Gateway of the same name that was deleted and
				// created again: take it over (the apply replaces the owner
				// reference) rather than wait for the garbage collector.
				if have.GetDeletionTimestamp() == nil {
					actions = append(actions, action{"apply", pair.want})
				}
			case !metav1.IsControlledBy(have, gw.Object):
				conflicts = append(conflicts, fmt.Sprintf("%s %s/%s exists and is not controlled by Gateway %s/%s; Portico leaves it alone (delete or rename it)",
					kindOf(pair.want), have.GetNamespace(), have.GetName(), gw.Object.Namespace, gw.Object.Name))
			case have.GetAnnotations()[infra.AnnotationSpecHash] != pair.want.GetAnnotations()[infra.AnnotationSpecHash]:
				actions = append(actions, action{"apply", pair.want})
			}
		}
	}

	// Objects whose Gateway is in the snapshot but no longer of ours (its
	// class changed). Gateways that are gone are the garbage collector's.
	gateways := map[types.UID]bool{}
	for _, gw := range st.Snapshot.Gateways {
		gateways[gw.UID] = true
	}
	owned := ownedServices
	for _, d := range st.Deployments {
		owned = append(owned, d)
	}
	for _, o := range owned {
		ref := metav1.GetControllerOf(o)
		if ref == nil || ref.Kind != "Gateway" || ref.APIVersion != gwv1.GroupVersion.String() {
			continue
		}
		if gateways[ref.UID] && !ours[ref.UID] {
			actions = append(actions, action{"delete", o})
		}
	}
	return actions, conflicts
}

// previousIncarnation reports whether o is something Portico provisioned for
// a Gateway with gw's namespace and name but another UID.
func previousIncarnation(o client.Object, gw *gwv1.Gateway) bool {
	ref := metav1.GetControllerOf(o)
	return o.GetLabels()[infra.LabelManagedBy] == infra.ManagedBy && ref != nil &&
		ref.Kind == "Gateway" && ref.APIVersion == gwv1.GroupVersion.String() && ref.Name == gw.Name && ref.UID != gw.UID
}

func kindOf(o client.Object) string {
	switch o.(type) {
	case *appsv1.Deployment:
		return "Deployment"
	case *corev1.Service:
		return "Service"
	}
	return fmt.Sprintf("%T", o)
}

// run carries out the actions; errors are collected, not fatal.
func (p *provisioner) run(ctx context.Context, actions []action) error {
	var errs []error
	for _, a := range actions {
		var err error
		switch a.verb {
		case "apply":
			err = p.apply(ctx, a.object)
		case "delete":
			uid := a.object.GetUID()
			err = p.client.Delete(ctx, a.object, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
			if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
				err = nil
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s %s/%s: %w", a.verb, kindOf(a.object), a.object.GetNamespace(), a.object.GetName(), err))
			continue
		}
		p.log.Info("provisioned", "action", a.verb, "kind", kindOf(a.object), "namespace", a.object.GetNamespace(), "name", a.object.GetName())
	}
	return errors.Join(errs...)
}

// apply server-side applies obj with field manager FieldManager, taking
// over fields another manager set (the Gateway is the source of truth).
func (p *provisioner) apply(ctx context.Context, obj client.Object) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	// Typed objects serialize fields we do not mean to own.
	delete(u, "status")
	unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u, "spec", "template", "metadata", "creationTimestamp")
	ac := client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: u})
	return p.client.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership)
}

// listenerSetListeners are the valid listeners of the ListenerSets attached
// to gw, which its proxies serve besides its own: its Service opens their
// ports.
func listenerSetListeners(gw *graph.Gateway) []gwv1.Listener {
	var out []gwv1.Listener
	for _, ls := range gw.ListenerSets {
		for _, l := range ls.Listeners {
			if l.Valid() {
				out = append(out, *l.Spec)
			}
		}
	}
	return out
}
