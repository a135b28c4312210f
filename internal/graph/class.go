package graph

import (
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
