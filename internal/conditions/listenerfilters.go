package conditions

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Pre-routing listener filters (spec.listeners[].filters, GEP-5224).

// ListenerReasonInvalidListenerFilterRef is the ResolvedRefs=False reason
// GEP-5224 gives a filter reference that does not resolve; gateway-api
// v1.7 has no constant for it yet.
const ListenerReasonInvalidListenerFilterRef gwv1.ListenerConditionReason = "InvalidListenerFilterRef"

func ListenerInvalidFilterRef(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionResolvedRefs, false, ListenerReasonInvalidListenerFilterRef, msg)
}

// ListenerFilterRefNotPermitted is ResolvedRefs=False/RefNotPermitted for a
// filter's cross-namespace reference without a ReferenceGrant.
func ListenerFilterRefNotPermitted(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionResolvedRefs, false, gwv1.ListenerReasonRefNotPermitted, msg)
}
