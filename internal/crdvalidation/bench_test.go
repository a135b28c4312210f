package crdvalidation

import (
	"testing"

	"sigs.k8s.io/yaml"
)

// BenchmarkValidateRoute is the cost of validating one HTTPRoute of the
// control plane's scale benchmark (uncached: a document seen first).
func BenchmarkValidateRoute(b *testing.B) {
	js, err := yaml.YAMLToJSON([]byte(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-1
spec:
  parentRefs:
  - name: scale
  hostnames: ["host-1.bench.local"]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /svc-1}
    backendRefs:
    - name: svc-1
      port: 80
`))
	if err != nil {
		b.Fatal(err)
	}
	if err := Validate("gateway.networking.k8s.io/v1", "HTTPRoute", js); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := validate("gateway.networking.k8s.io/v1", "HTTPRoute", js); err != nil {
			b.Fatal(err)
		}
	}
}
