package conditions

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Client certificate validation (Gateway spec.tls.frontend), on the HTTPS
// listeners of the port it applies to.

// ListenerNoValidCACertificate is Accepted=False: no CA certificate
// reference of the listener's validation resolved, so it cannot check
// client certificates and is not served.
func ListenerNoValidCACertificate(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionAccepted, false, gwv1.ListenerReasonNoValidCACertificate, msg)
}

func ListenerInvalidCACertificateRef(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionResolvedRefs, false, gwv1.ListenerReasonInvalidCACertificateRef, msg)
}

func ListenerInvalidCACertificateKind(msg string) metav1.Condition {
	return cond(gwv1.ListenerConditionResolvedRefs, false, gwv1.ListenerReasonInvalidCACertificateKind, msg)
}

// GatewayInsecureFrontendValidation is set while spec.tls.frontend has a
// validation in mode AllowInsecureFallback (default or per port).
func GatewayInsecureFrontendValidation(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionInsecureFrontendValidationMode, true, gwv1.GatewayReasonConfigurationChanged, msg)
}
