package file

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

// assemble builds the Snapshot from the files' last good objects, in path
// order; a duplicate object is reported and the first one kept.
func (l *Loader) assemble(paths []string, now time.Time) (*resource.Snapshot, []Diagnostic) {
	snap := &resource.Snapshot{Standalone: true}
	l.changes = Changes{}
	var diags []Diagnostic
	where := map[objKey]string{}
	live := map[objKey]bool{}
	for _, p := range paths {
		st := l.files[p]
		if st == nil {
			continue
		}
		rel := l.rel(p)
		for _, d := range st.docs {
			if d.obj == nil {
				continue
			}
			o := *d.obj
			if first, dup := where[o.key]; dup {
				diags = append(diags, Diagnostic{File: rel, Document: d.doc.index, Line: d.doc.line, Severity: "warning", Message: fmt.Sprintf(
					"%s %s is also defined in %s; this copy is ignored: remove one of them or rename it", o.key.kind, describe(o.key), first)})
				continue
			}
			where[o.key] = rel
			live[o.key] = true
			add(snap, l.stamp(o, now))
		}
	}
	for k := range l.ids {
		if !live[k] {
			delete(l.ids, k) // deleted objects start over if they come back
			l.changes.Removed = append(l.changes.Removed, k.String())
		}
	}
	l.changes.sort()
	return snap, diags
}

// Changes lists the objects ("Kind namespace/name") a Load added, changed
// (their spec, or for kinds without one their content) or removed.
type Changes struct {
	Added, Changed, Removed []string
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool { return len(c.Added)+len(c.Changed)+len(c.Removed) == 0 }

func (c *Changes) sort() {
	slices.Sort(c.Added)
	slices.Sort(c.Changed)
	slices.Sort(c.Removed)
}

// LastChanges returns what the latest Load changed.
func (l *Loader) LastChanges() Changes { return l.changes }

func (k objKey) String() string { return k.kind + " " + describe(k) }

func describe(k objKey) string {
	if k.namespace == "" {
		return k.name
	}
	return k.namespace + "/" + k.name
}

// stamp returns a defaulted deep copy of o with the generation and creation
// time the API server would have given it. Objects first seen in the same
// load share one creation time, so their order is by namespace and name.
func (l *Loader) stamp(o object, now time.Time) metav1.Object {
	obj := o.obj.(runtime.Object).DeepCopyObject().(metav1.Object)
	switch v := obj.(type) {
	case *gwv1.Gateway:
		resource.DefaultGateway(v)
	case *gwv1.HTTPRoute:
		resource.DefaultHTTPRoute(v)
	case *gwv1.ListenerSet:
		resource.DefaultListenerSet(v)
	case *corev1.Secret:
		for k, s := range v.StringData {
			if v.Data == nil {
				v.Data = map[string][]byte{}
			}
			v.Data[k] = []byte(s)
		}
		v.StringData = nil
	}
	hash := specHash(obj)
	id, ok := l.ids[o.key]
	switch {
	case !ok:
		id = &identity{specHash: hash, generation: 1, created: metav1.NewTime(now.UTC().Truncate(time.Second))}
		l.ids[o.key] = id
		l.changes.Added = append(l.changes.Added, o.key.String())
	case id.specHash != hash:
		id.specHash = hash
		id.generation++
		l.changes.Changed = append(l.changes.Changed, o.key.String())
	}
	if obj.GetGeneration() == 0 {
		obj.SetGeneration(id.generation)
	}
	if ts := obj.GetCreationTimestamp(); ts.IsZero() {
		obj.SetCreationTimestamp(id.created)
	}
	return obj
}

// specHash hashes everything but metadata and status: what a generation
// counts changes of.
func specHash(obj metav1.Object) [32]byte {
	var v any
	switch o := obj.(type) {
	case *gwv1.GatewayClass:
		v = o.Spec
	case *gwv1.Gateway:
		v = o.Spec
	case *gwv1.HTTPRoute:
		v = o.Spec
	case *gwv1.ListenerSet:
		v = o.Spec
	case *gwv1.ReferenceGrant:
		v = o.Spec
	case *gwv1.BackendTLSPolicy:
		v = o.Spec
	default:
		v = obj
	}
	b, _ := json.Marshal(v)
	return sha256.Sum256(b)
}

func add(s *resource.Snapshot, obj metav1.Object) {
	switch v := obj.(type) {
	case *gwv1.GatewayClass:
		s.GatewayClasses = append(s.GatewayClasses, v)
	case *gwv1.Gateway:
		s.Gateways = append(s.Gateways, v)
	case *gwv1.ListenerSet:
		s.ListenerSets = append(s.ListenerSets, v)
	case *gwv1.HTTPRoute:
		s.HTTPRoutes = append(s.HTTPRoutes, v)
	case *gwv1.ReferenceGrant:
		s.ReferenceGrants = append(s.ReferenceGrants, v)
	case *corev1.Namespace:
		s.Namespaces = append(s.Namespaces, v)
	case *corev1.Service:
		s.Services = append(s.Services, v)
	case *corev1.Secret:
		s.Secrets = append(s.Secrets, v)
	case *discoveryv1.EndpointSlice:
		s.EndpointSlices = append(s.EndpointSlices, v)
	case *gwv1.BackendTLSPolicy:
		s.BackendTLSPolicies = append(s.BackendTLSPolicies, v)
	case *corev1.ConfigMap:
		s.ConfigMaps = append(s.ConfigMaps, v)
	case *certificatesv1.ClusterTrustBundle:
		s.ClusterTrustBundles = append(s.ClusterTrustBundles, v)
	}
}
