package conditions

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// BackendTLSPolicy (per ancestor Gateway)

func PolicyAccepted() metav1.Condition {
	return cond(gwv1.PolicyConditionAccepted, true, gwv1.PolicyReasonAccepted, "Policy is accepted")
}

func PolicyConflicted(msg string) metav1.Condition {
	return cond(gwv1.PolicyConditionAccepted, false, gwv1.PolicyReasonConflicted, msg)
}

func PolicyInvalid(msg string) metav1.Condition {
	return cond(gwv1.PolicyConditionAccepted, false, gwv1.PolicyReasonInvalid, msg)
}

func PolicyTargetNotFound(msg string) metav1.Condition {
	return cond(gwv1.PolicyConditionAccepted, false, gwv1.PolicyReasonTargetNotFound, msg)
}

func PolicyNoValidCACertificate(msg string) metav1.Condition {
	return cond(gwv1.PolicyConditionAccepted, false, gwv1.BackendTLSPolicyReasonNoValidCACertificate, msg)
}

func PolicyResolvedRefs() metav1.Condition {
	return cond(gwv1.BackendTLSPolicyConditionResolvedRefs, true, gwv1.BackendTLSPolicyReasonResolvedRefs, "All references are resolved")
}

func PolicyInvalidCACertificateRef(msg string) metav1.Condition {
	return cond(gwv1.BackendTLSPolicyConditionResolvedRefs, false, gwv1.BackendTLSPolicyReasonInvalidCACertificateRef, msg)
}

func PolicyInvalidKind(msg string) metav1.Condition {
	return cond(gwv1.BackendTLSPolicyConditionResolvedRefs, false, gwv1.BackendTLSPolicyReasonInvalidKind, msg)
}

// Gateway ResolvedRefs: the references of the Gateway outside its listeners
// (spec.tls.backend), summarising the listeners' ResolvedRefs too.

func GatewayResolvedRefs() metav1.Condition {
	return cond(gwv1.GatewayConditionResolvedRefs, true, gwv1.GatewayReasonResolvedRefs, "All references are resolved")
}

func GatewayInvalidClientCertificateRef(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionResolvedRefs, false, gwv1.GatewayReasonInvalidClientCertificateRef, msg)
}

func GatewayRefNotPermitted(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionResolvedRefs, false, gwv1.GatewayReasonRefNotPermitted, msg)
}

func GatewayListenersNotResolved(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionResolvedRefs, false, gwv1.GatewayReasonListenersNotResolved, msg)
}
