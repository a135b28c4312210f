package graph

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

func buildClasses(s *resource.Snapshot) []*Class {
	var out []*Class
	for _, gc := range sortedBy(s.GatewayClasses, func(c *gwv1.GatewayClass) *metav1.ObjectMeta { return &c.ObjectMeta }) {
		if gc.Spec.ControllerName != resource.ControllerName {
			continue
		}
		c := &Class{Object: gc}
		if gc.Spec.ParametersRef != nil {
			// Portico has no parameters kind yet; say so rather than ignore it.
			c.Conditions = append(c.Conditions, conditions.ClassInvalidParameters(
				"spec.parametersRef: portico.dev/gateway-controller takes no parameters; remove parametersRef"))
		} else {
			c.Conditions = append(c.Conditions, conditions.ClassAccepted())
		}
		c.Conditions = append(c.Conditions, conditions.ClassSupportedVersion())
		out = append(out, c)
	}
	// Standalone input may leave the class out; in a cluster, classes are
	// created by whoever installs Portico.
	if s.Standalone && len(out) == 0 && !hasClassNamed(s, resource.DefaultGatewayClass) {
		out = append(out, &Class{
			Object: &gwv1.GatewayClass{
				ObjectMeta: metav1.ObjectMeta{Name: resource.DefaultGatewayClass},
				Spec:       gwv1.GatewayClassSpec{ControllerName: resource.ControllerName},
			},
			Implicit:   true,
			Conditions: []metav1.Condition{conditions.ClassAccepted(), conditions.ClassSupportedVersion()},
		})
	}
	return out
}

func (c *Class) accepted() bool {
	return conditionTrue(c.Conditions, string(gwv1.GatewayClassConditionStatusAccepted))
}

func hasClassNamed(s *resource.Snapshot, name string) bool {
	for _, gc := range s.GatewayClasses {
		if gc.Name == name {
			return true
		}
	}
	return false
}

// classMismatch says why a Gateway's class is not one of ours and what to
// write instead: the class may belong to another controller, or not exist
// (the implicit "portico" class exists only when the input defines no class
// of ours).
func classMismatch(name string, s *resource.Snapshot, ours []*Class) string {
	var names []string
	for _, c := range ours {
		names = append(names, c.Object.Name)
	}
	use := "use gatewayClassName: " + strings.Join(names, " or ")
	for _, gc := range s.GatewayClasses {
		if gc.Name != name {
			continue
		}
		if len(ours) == 0 {
			use = fmt.Sprintf("set the GatewayClass's spec.controllerName to %s", resource.ControllerName)
		}
		return fmt.Sprintf("GatewayClass %s has spec.controllerName %q, not %s, so the Gateway is left to that controller and portico ignores it; %s",
			name, gc.Spec.ControllerName, resource.ControllerName, use)
	}
	switch {
	case len(ours) == 0:
		return fmt.Sprintf("no GatewayClass of %s exists; the Gateway is ignored; add a GatewayClass %s with spec.controllerName: %s",
			resource.ControllerName, name, resource.ControllerName)
	case name == resource.DefaultGatewayClass:
		return fmt.Sprintf("no GatewayClass %s exists: the default class is implicit only when the input defines no GatewayClass of %s, and it defines %s; the Gateway is ignored; %s, or add a GatewayClass %s",
			name, resource.ControllerName, strings.Join(names, ", "), use, name)
	}
	return fmt.Sprintf("no GatewayClass %s exists; the Gateway is ignored; %s", name, use)
}
