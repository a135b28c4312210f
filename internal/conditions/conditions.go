package conditions

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func cond[T, R ~string](t T, ok bool, r R, msg string) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: string(t), Status: s, Reason: string(r), Message: msg}
}

// GatewayClass

func ClassAccepted() metav1.Condition {
	return cond(gwv1.GatewayClassConditionStatusAccepted, true, gwv1.GatewayClassReasonAccepted,
		"Accepted by portico.dev/gateway-controller")
}

func ClassSupportedVersion() metav1.Condition {
	return cond(gwv1.GatewayClassConditionStatusSupportedVersion, true, gwv1.GatewayClassReasonSupportedVersion,
		"Gateway API v1.7 is supported")
}

func ClassInvalidParameters(msg string) metav1.Condition {
	return cond(gwv1.GatewayClassConditionStatusAccepted, false, gwv1.GatewayClassReasonInvalidParameters, msg)
}

// Gateway

func GatewayAccepted() metav1.Condition {
	return cond(gwv1.GatewayConditionAccepted, true, gwv1.GatewayReasonAccepted, "Gateway is accepted")
}

// GatewaySomeListenersInvalid is Accepted=True: the valid listeners are served.
func GatewaySomeListenersInvalid(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionAccepted, true, gwv1.GatewayReasonListenersNotValid, msg)
}

func GatewayListenersNotValid(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionAccepted, false, gwv1.GatewayReasonListenersNotValid, msg)
}

func GatewayUnsupportedAddress(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionAccepted, false, gwv1.GatewayReasonUnsupportedAddress, msg)
}

func GatewayInvalidParameters(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionAccepted, false, gwv1.GatewayReasonInvalidParameters, msg)
}

func GatewayProgrammed() metav1.Condition {
	return cond(gwv1.GatewayConditionProgrammed, true, gwv1.GatewayReasonProgrammed, "Gateway is programmed")
}

func GatewayNotProgrammed(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionProgrammed, false, gwv1.GatewayReasonInvalid, msg)
}

func GatewayProgrammedPending(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionProgrammed, false, gwv1.GatewayReasonPending, msg)
}

func GatewayAddressNotUsable(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionProgrammed, false, gwv1.GatewayReasonAddressNotUsable, msg)
}

// Listener

func ListenerAccepted() metav1.Condition {
	return cond(gwv1.ListenerConditionAccepted, true, gwv1.ListenerReasonAccepted, "Listener is accepted")
}

func ListenerUnsupportedProtocol(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionAccepted, false, gwv1.ListenerReasonUnsupportedProtocol, msg)
}

func ListenerPortUnavailable(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionAccepted, false, gwv1.ListenerReasonPortUnavailable, msg)
}

func ListenerUnsupportedValue(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionAccepted, false, gwv1.ListenerReasonUnsupportedValue, msg)
}

func ListenerNoConflicts() metav1.Condition {
	return cond(gwv1.ListenerConditionConflicted, false, gwv1.ListenerReasonNoConflicts, "No conflicts")
}

func ListenerHostnameConflict(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionConflicted, true, gwv1.ListenerReasonHostnameConflict, msg)
}

func ListenerProtocolConflict(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionConflicted, true, gwv1.ListenerReasonProtocolConflict, msg)
}

func ListenerResolvedRefs() metav1.Condition {
	return cond(gwv1.ListenerConditionResolvedRefs, true, gwv1.ListenerReasonResolvedRefs, "All references are resolved")
}

func ListenerInvalidCertificateRef(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionResolvedRefs, false, gwv1.ListenerReasonInvalidCertificateRef, msg)
}

func ListenerCertRefNotPermitted(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionResolvedRefs, false, gwv1.ListenerReasonRefNotPermitted, msg)
}

func ListenerInvalidRouteKinds(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionResolvedRefs, false, gwv1.ListenerReasonInvalidRouteKinds, msg)
}

func ListenerProgrammed() metav1.Condition {
	return cond(gwv1.ListenerConditionProgrammed, true, gwv1.ListenerReasonProgrammed, "Listener is programmed")
}

func ListenerNotProgrammed(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionProgrammed, false, gwv1.ListenerReasonInvalid, msg)
}

func ListenerProgrammedPending(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionProgrammed, false, gwv1.ListenerReasonPending, msg)
}

// Route (per parent)

func RouteAccepted() metav1.Condition {
	return cond(gwv1.RouteConditionAccepted, true, gwv1.RouteReasonAccepted, "Route is accepted")
}

func RouteNotAllowedByListeners(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionAccepted, false, gwv1.RouteReasonNotAllowedByListeners, msg)
}

func RouteNoMatchingListenerHostname(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionAccepted, false, gwv1.RouteReasonNoMatchingListenerHostname, msg)
}

func RouteNoMatchingParent(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionAccepted, false, gwv1.RouteReasonNoMatchingParent, msg)
}

func RouteUnsupportedValue(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionAccepted, false, gwv1.RouteReasonUnsupportedValue, msg)
}

func RouteIncompatibleFilters(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionAccepted, false, gwv1.RouteReasonIncompatibleFilters, msg)
}

func RouteParentNotAccepted(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionAccepted, false, gwv1.RouteReasonPending, msg)
}

func RouteResolvedRefs() metav1.Condition {
	return cond(gwv1.RouteConditionResolvedRefs, true, gwv1.RouteReasonResolvedRefs, "All references are resolved")
}

func RouteBackendNotFound(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionResolvedRefs, false, gwv1.RouteReasonBackendNotFound, msg)
}

func RouteRefNotPermitted(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionResolvedRefs, false, gwv1.RouteReasonRefNotPermitted, msg)
}

func RouteInvalidKind(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionResolvedRefs, false, gwv1.RouteReasonInvalidKind, msg)
}

func RouteUnsupportedProtocol(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionResolvedRefs, false, gwv1.RouteReasonUnsupportedProtocol, msg)
}

// RoutePartiallyInvalid is set when some rules were dropped and the rest are
// served.
func RoutePartiallyInvalid(msg string) metav1.Condition {
	return cond(gwv1.RouteConditionPartiallyInvalid, true, gwv1.RouteReasonUnsupportedValue, msg)
}

func GatewayAddressNotAssigned(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionProgrammed, false, gwv1.GatewayReasonAddressNotAssigned, msg)
}

// ListenerSet

func ListenerSetAccepted() metav1.Condition {
	return cond(gwv1.ListenerSetConditionAccepted, true, gwv1.ListenerSetReasonAccepted, "ListenerSet is accepted")
}

// ListenerSetSomeListenersInvalid is Accepted=True: the valid listeners are
// served.
func ListenerSetSomeListenersInvalid(msg string) metav1.Condition {
	return cond(gwv1.ListenerSetConditionAccepted, true, gwv1.ListenerSetReasonListenersNotValid, msg)
}

func ListenerSetListenersNotValid(msg string) metav1.Condition {
	return cond(gwv1.ListenerSetConditionAccepted, false, gwv1.ListenerSetReasonListenersNotValid, msg)
}

func ListenerSetNotAllowed(msg string) metav1.Condition {
	return cond(gwv1.ListenerSetConditionAccepted, false, gwv1.ListenerSetReasonNotAllowed, msg)
}

func ListenerSetParentNotAccepted(msg string) metav1.Condition {
	return cond(gwv1.ListenerSetConditionAccepted, false, gwv1.ListenerSetReasonParentNotAccepted, msg)
}

func ListenerSetProgrammed() metav1.Condition {
	return cond(gwv1.ListenerSetConditionProgrammed, true, gwv1.ListenerSetReasonProgrammed, "ListenerSet is programmed")
}

// ListenerSetNotProgrammedAsAccepted is Programmed=False for a ListenerSet
// that is not accepted, with the reason and message of its Accepted
// condition (NotAllowed, ParentNotAccepted, ListenersNotValid).
func ListenerSetNotProgrammedAsAccepted(accepted metav1.Condition) metav1.Condition {
	return cond(gwv1.ListenerSetConditionProgrammed, false, accepted.Reason, accepted.Message)
}

func ListenerSetNotProgrammed(msg string) metav1.Condition {
	return cond(gwv1.ListenerSetConditionProgrammed, false, gwv1.ListenerSetReasonInvalid, msg)
}

func ListenerSetProgrammedPending(msg string) metav1.Condition {
	return cond(gwv1.ListenerSetConditionProgrammed, false, gwv1.ListenerSetReasonPending, msg)
}

// Listener of a ListenerSet that conflicts with a listener of higher
// precedence (the parent Gateway's, or an older ListenerSet's): it is not
// accepted, and says so in Accepted, Conflicted and Programmed alike.

func ListenerEntryHostnameConflict(msg string) []metav1.Condition {
	return []metav1.Condition{
		cond(gwv1.ListenerEntryConditionAccepted, false, gwv1.ListenerEntryReasonHostnameConflict, msg),
		cond(gwv1.ListenerEntryConditionConflicted, true, gwv1.ListenerEntryReasonHostnameConflict, msg),
	}
}

func ListenerEntryProtocolConflict(msg string) []metav1.Condition {
	return []metav1.Condition{
		cond(gwv1.ListenerEntryConditionAccepted, false, gwv1.ListenerEntryReasonProtocolConflict, msg),
		cond(gwv1.ListenerEntryConditionConflicted, true, gwv1.ListenerEntryReasonProtocolConflict, msg),
	}
}

// ListenerNotProgrammedConflicted is Programmed=False with the reason and
// message of the listener's Conflicted condition.
func ListenerNotProgrammedConflicted(conflicted metav1.Condition) metav1.Condition {
	return cond(gwv1.ListenerConditionProgrammed, false, conflicted.Reason, conflicted.Message)
}

// Bad reports whether a condition is in a state that needs attention:
// False for the positive-polarity types, True for Conflicted and
// PartiallyInvalid (whose good state is False).
func Bad(c metav1.Condition) bool {
	if c.Type == string(gwv1.ListenerConditionConflicted) || c.Type == string(gwv1.RouteConditionPartiallyInvalid) {
		return c.Status == metav1.ConditionTrue
	}
	return c.Status != metav1.ConditionTrue
}
