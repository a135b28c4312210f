package graph

// Defaults and overrides down the hierarchy (GEP-713). The hierarchy of
// what a request goes through is Gateway > ListenerSet > listener > route
// > rule (Service policies are direct only). A policy attaches directly to
// one level; it is inherited by everything below it. Of the policies of one
// kind that reach a request:
//
//   - overrides win from the top down: a field an override sets at a level
//     is fixed for every level below it;
//   - defaults win from the bottom up: a field a default sets is used unless
//     a lower level's default, or any override, sets it;
//   - any override beats any default.
//
// Within one level only one policy of a kind holds a target (attachPolicies:
// the oldest), so each level gives at most one defaults and one overrides
// value. Merging is per field, by the kind's fill function.

// PolicyLevel is the part of a policy kind's spec that applies at one level
// of the hierarchy: its defaults and overrides, each nil when not set.
type PolicyLevel[T any] struct {
	Defaults  *T
	Overrides *T
}

// EffectivePolicy merges the levels, given from the top of the hierarchy
// (the Gateway) down to the most specific (the rule), into the value that
// applies at the bottom. fill(have, from) returns have with every field
// that have leaves unset taken from from; it must not change its inputs. ok
// is false when no level sets anything.
func EffectivePolicy[T any](levels []PolicyLevel[T], fill func(have, from T) T) (out T, ok bool) {
	for _, l := range levels { // overrides: the top is applied first, so it wins
		if l.Overrides != nil {
			out, ok = fill(out, *l.Overrides), true
		}
	}
	for i := len(levels) - 1; i >= 0; i-- { // defaults: the bottom wins
		if d := levels[i].Defaults; d != nil {
			out, ok = fill(out, *d), true
		}
	}
	return out, ok
}

// PolicyChain is the objects a request to a route rule passes through, top
// down; nil or "" where a level is absent.
type PolicyChain struct {
	Gateway     *Gateway
	ListenerSet *ListenerSet
	Listener    *Listener
	Route       Route
	Rule        string
}

// AppliedAt returns, top down, the policy of the given ones that holds each
// level of c (nil for a level none holds): the direct policy of the most
// specific level and the inherited ones above it, ready to map to
// PolicyLevels. Losing targets (Conflicted), unsupported and missing ones
// apply nowhere.
func (c PolicyChain) AppliedAt(policies []*AttachedPolicy) []*AttachedPolicy {
	out := make([]*AttachedPolicy, 5)
	for _, p := range policies {
		for _, t := range p.Targets {
			if t.Unsupported || t.LostTo != nil || t.NotFound != nil {
				continue
			}
			if lv := c.level(t); lv >= 0 && out[lv] == nil {
				out[lv] = p
			}
		}
	}
	return out
}

// level is the index in the chain (0 Gateway .. 4 rule) of the level that
// target t holds, -1 when it holds none of c.
func (c PolicyChain) level(t *PolicyTarget) int {
	switch {
	case t.Gateway != nil && t.Gateway == c.Gateway && t.Listener == nil:
		return 0
	case t.ListenerSet != nil && t.ListenerSet == c.ListenerSet && t.Listener == nil:
		return 1
	case t.Listener != nil && t.Listener == c.Listener:
		return 2
	case t.Route != nil && t.Route == c.Route && t.Rule == "":
		return 3
	case t.Route != nil && t.Route == c.Route && t.Rule == c.Rule:
		return 4
	}
	return -1
}
