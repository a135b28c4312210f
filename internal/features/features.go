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
	gwfeatures.SupportHTTPRouteBackendProtocolH2C,
	gwfeatures.SupportHTTPRouteBackendProtocolWebSocket,
	gwfeatures.SupportHTTPRouteRetryCodes,
	gwfeatures.SupportHTTPRouteRetryConnectionError,
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
