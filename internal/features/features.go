package features

import (
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwfeatures "sigs.k8s.io/gateway-api/pkg/features"
)

// claimed are the features Portico implements, grouped as the Gateway API
// groups them. Order does not matter here: Names sorts.
var claimed = []gwfeatures.FeatureName{
	// Core (GATEWAY-HTTP profile).
	gwfeatures.SupportGateway,
	gwfeatures.SupportHTTPRoute,
	gwfeatures.SupportReferenceGrant,

	// Gateway extended.
	gwfeatures.SupportGatewayPort8080,
	gwfeatures.SupportGatewayHTTPListenerIsolation,
	gwfeatures.SupportGatewayHTTPSListenerDetectMisdirectedRequests,
	gwfeatures.SupportGatewayRouteHostnameIntersectionPrecedence,
	gwfeatures.SupportGatewayStaticAddresses,
	// The provisioner copies spec.infrastructure.labels and .annotations to
	// the proxy Deployment, its Pods and its Service (internal/infra).
	gwfeatures.SupportGatewayInfrastructure,
	// ListenerSets attached through spec.allowedListeners, served by the
	// Gateway's proxies (internal/graph listenerset.go).
	// ListenerSetAllowedRoutesSupportedKinds also needs TLSRoute, which is
	// not claimed: it passes when run with PORTICO_CONFORMANCE_FEATURES
	// naming TLSRoute, and is skipped otherwise.
	gwfeatures.SupportListenerSet,
	// spec.addresses entries without a value get the Service's address.
	gwfeatures.SupportGatewayAddressEmpty,
	// spec.addresses[].routability (GEP-5093): Cluster addresses are the
	// Service's cluster IPs, every status address says its routability,
	// and AddressesAssigned reports the entries met (internal/infra
	// routability.go). Standalone mode reports none (no cluster).
	gwfeatures.SupportGatewayAddressRoutability,
	gwfeatures.SupportGatewayAddressRoutabilityCluster,
	// spec.tls.frontend: client certificates checked against ConfigMap
	// (ca.crt) or ClusterTrustBundle CAs, per port (internal/graph
	// frontendtls.go, internal/proxy clientcert.go).
	gwfeatures.SupportGatewayFrontendClientCertificateValidation,
	gwfeatures.SupportGatewayFrontendClientCertificateValidationInsecureFallback,
	// spec.listeners[].filters: ExternalAuth (HTTP) before route matching,
	// in order; ExtensionRef and GRPC are refused (internal/graph
	// listenerfilters.go, internal/proxy extauth.go).
	gwfeatures.SupportGatewayListenerFilters,

	// HTTPRoute extended.
	gwfeatures.SupportHTTPRouteMethodMatching,
	gwfeatures.SupportHTTPRouteQueryParamMatching,
	gwfeatures.SupportHTTPRouteResponseHeaderModification,
	gwfeatures.SupportHTTPRouteBackendRequestHeaderModification,
	gwfeatures.SupportHTTPRouteHostRewrite,
	gwfeatures.SupportHTTPRoutePathRewrite,
	gwfeatures.SupportHTTPRoutePathRedirect,
	gwfeatures.SupportHTTPRoutePortRedirect,
	gwfeatures.SupportHTTPRouteSchemeRedirect,
	gwfeatures.SupportHTTPRoute303RedirectStatusCode,
	gwfeatures.SupportHTTPRoute307RedirectStatusCode,
	gwfeatures.SupportHTTPRoute308RedirectStatusCode,
	gwfeatures.SupportHTTPRouteRequestMirror,
	gwfeatures.SupportHTTPRouteRequestMultipleMirrors,
	gwfeatures.SupportHTTPRouteRequestPercentageMirror,
	gwfeatures.SupportHTTPRouteRequestTimeout,
	gwfeatures.SupportHTTPRouteBackendTimeout,
	gwfeatures.SupportHTTPRouteCORS,
	gwfeatures.SupportHTTPRouteNamedRouteRule,
	gwfeatures.SupportHTTPRouteParentRefPort,
	gwfeatures.SupportHTTPRouteDestinationPortMatching,
	gwfeatures.SupportHTTPRouteBackendURLRewrite,
	gwfeatures.SupportHTTPRouteBackendProtocolH2C,
	gwfeatures.SupportHTTPRouteBackendProtocolWebSocket,
	gwfeatures.SupportHTTPRouteRetryCodes,
	gwfeatures.SupportHTTPRouteRetryConnectionError,

	// Backend TLS: BackendTLSPolicy for HTTPRoute backends (and mirrors),
	// SubjectAltNames, and the Gateway's client certificate
	// (spec.tls.backend.clientCertificateRef).
	gwfeatures.SupportBackendTLSPolicy,
	gwfeatures.SupportBackendTLSPolicySANValidation,
	gwfeatures.SupportGatewayBackendClientCertificate,
	// caCertificateRefs to ClusterTrustBundles (certificates.k8s.io v1, or
	// v1beta1 where the API server serves it), in BackendTLSPolicy and in
	// frontend client-certificate validation.
	gwfeatures.SupportClusterTrustBundle,
}

// Names returns the features Portico claims, sorted by name and without
// duplicates (GatewayClass status.supportedFeatures must be sorted).
func Names() []gwfeatures.FeatureName {
	out := slices.Clone(claimed)
	slices.Sort(out)
	return slices.Compact(out)
}

// SupportedFeatures returns Names in the form GatewayClass
// status.supportedFeatures takes.
func SupportedFeatures() []gwv1.SupportedFeature {
	names := Names()
	out := make([]gwv1.SupportedFeature, len(names))
	for i, n := range names {
		out[i] = gwv1.SupportedFeature{Name: gwv1.FeatureName(n)}
	}
	return out
}
