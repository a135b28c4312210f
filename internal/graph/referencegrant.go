package graph

import (
	"portico.dev/portico/internal/resource"
)

// refFrom and refTo describe a cross-namespace reference for ReferenceGrant
// checks.
type refFrom struct{ group, kind, namespace string }
type refTo struct{ group, kind, namespace, name string }

// permitted reports whether a ReferenceGrant in the target's namespace allows
// the reference. Same-namespace references need no grant.
func permitted(ix *resource.Index, from refFrom, to refTo) bool {
	if from.namespace == to.namespace {
		return true
	}
	for _, g := range ix.GrantsByNamespace[to.namespace] {
		fromOK := false
		for _, f := range g.Spec.From {
			if string(f.Group) == from.group && string(f.Kind) == from.kind && string(f.Namespace) == from.namespace {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, t := range g.Spec.To {
			if string(t.Group) == to.group && string(t.Kind) == to.kind && (t.Name == nil || string(*t.Name) == to.name) {
				return true
			}
		}
	}
	return false
}
