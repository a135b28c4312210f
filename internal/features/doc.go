// Package features is the one place that lists the Gateway API features
// Portico claims: the names from sigs.k8s.io/gateway-api/pkg/features that
// the controller writes into GatewayClass status.supportedFeatures and that
// the conformance run enables. Add a feature here only once the control
// plane and the data plane both implement it (and its conformance tests
// pass); nothing else in the code base keeps its own list.
//
// Output: Names (sorted) and SupportedFeatures (the GatewayClass status form).
package features
