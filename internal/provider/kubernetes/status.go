package kubernetes

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
	"portico.dev/portico/internal/status"
)

// The status writer: decisions first (pure functions of the projection and
// the live objects), then the writes.

// StatusOf returns obj's status as the status package represents it: a
// pointer to obj's own status field (not a copy), with the generation of
// obj. ok is false for kinds without a status of ours.
func StatusOf(obj client.Object) (status.Object, bool) {
	o := status.Object{APIVersion: gwv1.GroupVersion.String(), Metadata: status.Metadata{
		Namespace: obj.GetNamespace(), Name: obj.GetName(), Generation: obj.GetGeneration()}}
	switch t := obj.(type) {
	case *gwv1.GatewayClass:
		o.Kind, o.Status = "GatewayClass", &t.Status
	case *gwv1.Gateway:
		o.Kind, o.Status = "Gateway", &t.Status
	case *gwv1.ListenerSet:
		o.Kind, o.Status = "ListenerSet", &t.Status
	case *gwv1.HTTPRoute:
		o.Kind, o.Status = "HTTPRoute", &t.Status
	case *gwv1.BackendTLSPolicy:
		o.Kind, o.Status = "BackendTLSPolicy", &t.Status
	default:
		return status.Object{}, false
	}
	return o, true
}

// newObject returns an empty object of kind, to read into.
func newObject(kind string) client.Object {
	switch kind {
	case "GatewayClass":
		return &gwv1.GatewayClass{}
	case "Gateway":
		return &gwv1.Gateway{}
	case "ListenerSet":
		return &gwv1.ListenerSet{}
	case "HTTPRoute":
		return &gwv1.HTTPRoute{}
	case "BackendTLSPolicy":
		return &gwv1.BackendTLSPolicy{}
	}
	panic("kubernetes: no status of kind " + kind)
}

// withStatus returns a copy of obj carrying st.
func withStatus(obj client.Object, st any) client.Object {
	switch t := obj.DeepCopyObject().(type) {
	case *gwv1.GatewayClass:
		t.Status = *st.(*gwv1.GatewayClassStatus)
		return t
	case *gwv1.Gateway:
		t.Status = *st.(*gwv1.GatewayStatus)
		return t
	case *gwv1.ListenerSet:
		t.Status = *st.(*gwv1.ListenerSetStatus)
		return t
	case *gwv1.HTTPRoute:
		t.Status = *st.(*gwv1.HTTPRouteStatus)
		return t
	case *gwv1.BackendTLSPolicy:
		t.Status = *st.(*gwv1.PolicyStatus)
		return t
	}
	panic(fmt.Sprintf("kubernetes: no status of %T", obj))
}

// liveObjects indexes the objects of s that can carry status of ours.
func liveObjects(s *resource.Snapshot) map[status.Key]client.Object {
	out := map[status.Key]client.Object{}
	add := func(o client.Object) {
		so, _ := StatusOf(o)
		out[so.Key()] = o
	}
	for _, o := range s.GatewayClasses {
		add(o)
	}
	for _, o := range s.Gateways {
		add(o)
	}
	for _, o := range s.ListenerSets {
		add(o)
	}
	for _, o := range s.HTTPRoutes {
		add(o)
	}
	for _, o := range s.BackendTLSPolicies {
		add(o)
	}
	return out
}

// LiveStatuses is the status every object of st that can carry ours has
// now, as status.Project's prev: it keeps other controllers' conditions
// and parents from it.
func (st *State) LiveStatuses() []status.Object {
	live := liveObjects(st.Snapshot)
	out := make([]status.Object, 0, len(live))
	for _, o := range live {
		so, _ := StatusOf(o)
		out = append(out, so)
	}
	return out
}

// statusChanged reports whether want differs from the status obj has.
// Conditions compare exactly (status.Project keeps lastTransitionTime of
// unchanged conditions from the live status, so an unchanged projection is
// equal); nil and empty lists are the same.
func statusChanged(obj client.Object, want status.Object) bool {
	have, ok := StatusOf(obj)
	if !ok {
		return false
	}
	switch w := want.Status.(type) {
	case *gwv1.GatewayClassStatus:
		return !equality.Semantic.DeepEqual(*have.Status.(*gwv1.GatewayClassStatus), *w)
	case *gwv1.GatewayStatus:
		return !equality.Semantic.DeepEqual(*have.Status.(*gwv1.GatewayStatus), *w)
	case *gwv1.ListenerSetStatus:
		return !equality.Semantic.DeepEqual(*have.Status.(*gwv1.ListenerSetStatus), *w)
	case *gwv1.HTTPRouteStatus:
		return !equality.Semantic.DeepEqual(*have.Status.(*gwv1.HTTPRouteStatus), *w)
	case *gwv1.PolicyStatus:
		return !equality.Semantic.DeepEqual(*have.Status.(*gwv1.PolicyStatus), *w)
	}
	return false
}

// Reproject projects the status of one object again given its fresh live
// status (after a write conflict); false drops the write.
type Reproject func(fresh status.Object) (status.Object, bool)

// maxStatusAttempts bounds the writes of one object's status per call of
// WriteStatus.
const maxStatusAttempts = 4

// WriteStatus writes, through the status subresource, every status of
// want that differs from the live one in st. Objects that are gone are
// skipped; errors are collected, not fatal. It returns how many it wrote.
func (s *Store) WriteStatus(ctx context.Context, st *State, want []status.Object, reproject Reproject) (written int, err error) {
	defer func() { statusWrites.Add(float64(written)) }()
	live := liveObjects(st.Snapshot)
	var errs []error
	for _, o := range want {
		obj, ok := live[o.Key()]
		if !ok {
			continue
		}
		did, err := s.writeStatus(ctx, obj, o, reproject)
		if did {
			written++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return written, errors.Join(errs...)
}

// writeStatus makes obj's status want, if it is not already. On a
// conflict it re-reads the object; if its generation moved, the event that
// came with it brings a new reconcile and this one gives up; otherwise it
// projects again from the fresh status (someone else wrote theirs) and
// retries.
func (s *Store) writeStatus(ctx context.Context, obj client.Object, want status.Object, reproject Reproject) (bool, error) {
	key := want.Key()
	const attempts = maxStatusAttempts
	for range attempts {
		if !statusChanged(obj, want) {
			return false, nil
		}
		err := s.client.Status().Update(ctx, withStatus(obj, want.Status))
		switch {
		case err == nil:
			s.log.Debug("status written", "kind", key.Kind, "namespace", key.Namespace, "name", key.Name)
			return true, nil
		case apierrors.IsNotFound(err):
			return false, nil
		case !apierrors.IsConflict(err):
			return false, fmt.Errorf("writing the status of %s %s: %w", key.Kind, nsName(key), err)
		}
		fresh := newObject(key.Kind)
		if err := s.uncached.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: key.Name}, fresh); err != nil {
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, fmt.Errorf("re-reading %s %s after a write conflict: %w", key.Kind, nsName(key), err)
		}
		if fresh.GetGeneration() != want.Metadata.Generation {
			return false, nil
		}
		fs, _ := StatusOf(fresh)
		next, ok := reproject(fs)
		if !ok {
			return false, nil
		}
		obj, want = fresh, next
	}
	return false, fmt.Errorf("writing the status of %s %s: still conflicting after %d attempts; retried on the next change", key.Kind, nsName(key), attempts)
}

func nsName(k status.Key) string {
	if k.Namespace == "" {
		return k.Name
	}
	return k.Namespace + "/" + k.Name
}
