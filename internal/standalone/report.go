package standalone

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
	"portico.dev/portico/internal/status"
)

// condState is one condition of one object (or of one of its listeners,
// route parents or policy ancestors), keyed by where it is.
type condState struct {
	where string // "Gateway default/gw listener https"
	cond  metav1.Condition
}

// conditionStates flattens the status of every object into its conditions.
func conditionStates(objs []status.Object) map[string]condState {
	out := map[string]condState{}
	for _, o := range objs {
		name := o.Metadata.Name
		if o.Metadata.Namespace != "" {
			name = o.Metadata.Namespace + "/" + name
		}
		obj := o.Kind + " " + name
		add := func(where string, cs []metav1.Condition) {
			for _, c := range cs {
				out[where+" "+c.Type] = condState{where: where, cond: c}
			}
		}
		switch st := o.Status.(type) {
		case *gwv1.GatewayClassStatus:
			add(obj, st.Conditions)
		case *gwv1.GatewayStatus:
			add(obj, st.Conditions)
			for _, l := range st.Listeners {
				add(obj+" listener "+string(l.Name), l.Conditions)
			}
		case *gwv1.ListenerSetStatus:
			add(obj, st.Conditions)
			for _, l := range st.Listeners {
				add(obj+" listener "+string(l.Name), l.Conditions)
			}
		case *gwv1.HTTPRouteStatus:
			for _, p := range st.Parents {
				add(obj+" parent "+ParentName(o.Metadata.Namespace, p.ParentRef), p.Conditions)
			}
		case *gwv1.PolicyStatus:
			for _, a := range st.Ancestors {
				add(obj+" ancestor "+ParentName(o.Metadata.Namespace, a.AncestorRef), a.Conditions)
			}
		}
	}
	return out
}

// ParentName is "namespace/name[/section]" of a parentRef made from ns.
func ParentName(ns string, ref gwv1.ParentReference) string {
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	s := ns + "/" + string(ref.Name)
	if ref.SectionName != nil {
		s += "/" + string(*ref.SectionName)
	}
	return s
}

// transition is a condition that turned bad, or good again.
type transition struct {
	where string
	cond  metav1.Condition
	bad   bool
}

// transitions returns the conditions that turned bad (or appeared bad)
// and those that turned good, in a stable order. A condition that stays
// bad with another reason or message is reported again: it is a new problem.
func transitions(before, after map[string]condState) []transition {
	var out []transition
	for k, a := range after {
		b, had := before[k]
		switch bad := conditions.Bad(a.cond); {
		case bad && (!had || !conditions.Bad(b.cond) || b.cond.Reason != a.cond.Reason || b.cond.Message != a.cond.Message):
			out = append(out, transition{a.where, a.cond, true})
		case !bad && had && conditions.Bad(b.cond):
			out = append(out, transition{a.where, a.cond, false})
		}
	}
	slices.SortFunc(out, func(x, y transition) int {
		return strings.Compare(x.where+" "+x.cond.Type, y.where+" "+y.cond.Type)
	})
	return out
}

func logTransitions(log *slog.Logger, ts []transition) {
	for _, t := range ts {
		c := t.cond
		if t.bad {
			log.Warn(fmt.Sprintf("%s: %s=%s (%s): %s", t.where, c.Type, c.Status, c.Reason, c.Message),
				"object", t.where, "condition", c.Type, "status", c.Status, "reason", c.Reason)
		} else {
			log.Info(fmt.Sprintf("%s: %s=%s again (%s)", t.where, c.Type, c.Status, c.Reason),
				"object", t.where, "condition", c.Type, "status", c.Status, "reason", c.Reason)
		}
	}
}

// problemDiff returns the problems of after that were not in before, and
// those of before that are gone: a problem is logged once, when it appears,
// and once more when it is fixed. Problems are compared without their
// document and line numbers, so an edit above a problem does not log it again.
func problemDiff(before, after []string) (added, fixed []string) {
	was := map[string]bool{}
	for _, p := range before {
		was[problemKey(p)] = true
	}
	is := map[string]bool{}
	for _, p := range after {
		is[problemKey(p)] = true
		if !was[problemKey(p)] {
			added = append(added, p)
		}
	}
	for _, p := range before {
		if !is[problemKey(p)] {
			fixed = append(fixed, p)
		}
	}
	return added, fixed
}

var location = regexp.MustCompile(`document \d+ \(line \d+\)|line \d+`)

func problemKey(p string) string { return location.ReplaceAllString(p, "") }

// reload is what one Reconcile did, logged as one summary line, plus one
// line per input problem that appeared or was fixed and per condition that
// turned bad or good.
type reload struct {
	changes                  file.Changes
	applied                  bool // a new configuration went to the proxy
	version, serving         uint64
	listeners                int
	ack                      ir.Ack
	problemsBefore, problems []string
	transitions              []transition
	took                     time.Duration
}

// ProblemLines are the input problems of a load, as logged and printed:
// the loader's diagnostics, then the graph's warnings located in the input.
func ProblemLines(l *file.Loader, diags []file.Diagnostic, warnings []string) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.String())
	}
	for _, w := range warnings {
		out = append(out, "warning: "+l.Locate(w))
	}
	return out
}

func (r reload) log(log *slog.Logger) {
	added, fixed := problemDiff(r.problemsBefore, r.problems)
	for _, p := range added {
		if strings.HasPrefix(p, "error:") {
			log.Error(p)
		} else {
			log.Warn(p)
		}
	}
	for _, p := range fixed {
		log.Info("fixed: " + p)
	}
	attrs := []any{"added", short(r.changes.Added), "changed", short(r.changes.Changed), "removed", short(r.changes.Removed),
		"problems", len(r.problems), "took", r.took.Round(time.Microsecond)}
	switch {
	case r.applied && r.ack.Error != "":
		log.Error(fmt.Sprintf("configuration version %d refused by the proxy: %s; still serving version %d", r.version, r.ack.Error, r.serving), attrs...)
	case r.applied:
		attrs = append(attrs, "listeners", r.listeners)
		if len(r.ack.ListenerErrors) > 0 {
			attrs = append(attrs, "listenerErrors", r.ack.ListenerErrors)
		}
		log.Info(fmt.Sprintf("configuration version %d applied", r.version), attrs...)
	case r.changes.Empty():
		log.Info(fmt.Sprintf("reloaded: no object changed; still serving version %d", r.serving), attrs...)
	default:
		log.Info(fmt.Sprintf("reloaded: the data-plane configuration is unchanged; still serving version %d", r.serving), attrs...)
	}
	logTransitions(log, r.transitions)
}

// short keeps a log line short when thousands of objects changed.
func short(names []string) []string {
	const max = 10
	if len(names) <= max {
		return names
	}
	return append(slices.Clone(names[:max]), fmt.Sprintf("and %d more", len(names)-max))
}
