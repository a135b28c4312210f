// Package conditions is the one catalogue of status conditions Portico
// writes: a constructor per condition type and reason, built on the
// sigs.k8s.io/gateway-api constants. Nothing else builds a metav1.Condition.
//
// Constructors return conditions without ObservedGeneration and
// LastTransitionTime; internal/status fills those when it projects status.
package conditions
