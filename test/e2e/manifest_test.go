package e2e

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// The helpers below write the YAML the tests feed to portico. Objects have
// no namespace, so they are in "default".

// listener is one Gateway listener.
type listener struct {
	Name     string
	Protocol string // HTTP or HTTPS
	Port     int
	Hostname string
	// CertSecrets name kubernetes.io/tls Secrets for HTTPS listeners.
	CertSecrets []string
}

// gatewayYAML is a Gateway of the default class "portico" (which portico
// creates when the input has no GatewayClass).
func gatewayYAML(name string, listeners ...listener) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: %s
spec:
  gatewayClassName: portico
  listeners:
`, name)
	for _, l := range listeners {
		fmt.Fprintf(&b, "  - name: %s\n    protocol: %s\n    port: %d\n", l.Name, l.Protocol, l.Port)
		if l.Hostname != "" {
			fmt.Fprintf(&b, "    hostname: %q\n", l.Hostname)
		}
		if len(l.CertSecrets) > 0 {
			b.WriteString("    tls:\n      mode: Terminate\n      certificateRefs:\n")
			for _, s := range l.CertSecrets {
				fmt.Fprintf(&b, "      - kind: Secret\n        name: %s\n", s)
			}
		}
	}
	return b.String()
}

// serviceYAML is a Service named b.Name with port 80 (named "http", with
// appProtocol when not empty) and an EndpointSlice sending it to the
// backend's loopback port.
func serviceYAML(b backend, appProtocol string) string {
	svcApp, sliceApp := "", ""
	if appProtocol != "" {
		svcApp = "\n      appProtocol: " + appProtocol
		sliceApp = "\n    appProtocol: " + appProtocol
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  ports:
    - name: http
      protocol: TCP
      port: 80
      targetPort: %[2]d%[3]s
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-local
  labels:
    kubernetes.io/service-name: %[1]s
addressType: IPv4
ports:
  - name: http
    protocol: TCP
    port: %[2]d%[4]s
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
`, b.Name, b.Port, svcApp, sliceApp)
}

// servicesYAML joins the Services of several backends.
func servicesYAML(bs ...backend) string {
	docs := make([]string, len(bs))
	for i, b := range bs {
		docs[i] = serviceYAML(b, "")
	}
	return strings.Join(docs, "---\n")
}

// tlsSecretYAML is a kubernetes.io/tls Secret.
func tlsSecretYAML(name string, certPEM, keyPEM []byte) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, name, base64.StdEncoding.EncodeToString(certPEM), base64.StdEncoding.EncodeToString(keyPEM))
}

// weighted is a backendRef: a Service (port 80) and its weight (0 means
// unset, that is 1).
type weighted struct {
	Service string
	Weight  int
}

// routeYAML is an HTTPRoute attached to Gateway gw with one rule: path
// prefix, optional exact header matches ("Name: value"), and backends.
func routeYAML(name, gw string, hostnames []string, pathPrefix string, headers []string, backends ...weighted) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: %s
spec:
  parentRefs:
  - name: %s
`, name, gw)
	if len(hostnames) > 0 {
		b.WriteString("  hostnames:\n")
		for _, h := range hostnames {
			fmt.Fprintf(&b, "  - %q\n", h)
		}
	}
	fmt.Fprintf(&b, "  rules:\n  - matches:\n    - path:\n        type: PathPrefix\n        value: %s\n", pathPrefix)
	if len(headers) > 0 {
		b.WriteString("      headers:\n")
		for _, h := range headers {
			n, v, _ := strings.Cut(h, ":")
			fmt.Fprintf(&b, "      - type: Exact\n        name: %s\n        value: %q\n", strings.TrimSpace(n), strings.TrimSpace(v))
		}
	}
	b.WriteString("    backendRefs:\n")
	for _, w := range backends {
		fmt.Fprintf(&b, "    - name: %s\n      port: 80\n", w.Service)
		if w.Weight > 0 {
			fmt.Fprintf(&b, "      weight: %d\n", w.Weight)
		}
	}
	return b.String()
}

// to is a backendRef of weight 1.
func to(service string) weighted { return weighted{Service: service} }

// join makes one multi-document YAML file.
func join(docs ...string) string { return strings.Join(docs, "---\n") }

// decodeStrict decodes every document of a multi-document YAML file
// strictly into its API type: unknown or misspelled fields are errors.
func decodeStrict(data []byte) error {
	var errs []error
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i, err))
			continue
		}
		var obj any
		switch meta.Kind {
		case "Namespace":
			obj = &corev1.Namespace{}
		case "Service":
			obj = &corev1.Service{}
		case "Secret":
			obj = &corev1.Secret{}
		case "EndpointSlice":
			obj = &discoveryv1.EndpointSlice{}
		case "Gateway":
			obj = &gwv1.Gateway{}
		case "HTTPRoute":
			obj = &gwv1.HTTPRoute{}
		default:
			errs = append(errs, fmt.Errorf("document %d: unexpected kind %q", i, meta.Kind))
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			errs = append(errs, fmt.Errorf("document %d (%s): %w", i, meta.Kind, err))
		}
	}
	return errors.Join(errs...)
}

// TestManifestHelpers checks that the YAML the helpers write is what the
// API types accept, so that a failing test means portico, not the input.
func TestManifestHelpers(t *testing.T) {
	b := backend{Name: "echo-a", Port: 3000}
	docs := map[string]string{
		"gateway": gatewayYAML("gw",
			listener{Name: "http", Protocol: "HTTP", Port: 8080},
			listener{Name: "https", Protocol: "HTTPS", Port: 8443, Hostname: "a.example.com", CertSecrets: []string{"c"}}),
		"service":    serviceYAML(b, ""),
		"h2c":        serviceYAML(b, "kubernetes.io/h2c"),
		"services":   servicesYAML(b, backend{Name: "echo-b", Port: 3001}),
		"secret":     tlsSecretYAML("c", []byte("cert"), []byte("key")),
		"route":      routeYAML("r", "gw", []string{"a.example.com"}, "/x", []string{"X-A: 1"}, weighted{"echo-a", 3}, to("echo-b")),
		"plainRoute": routeYAML("r", "gw", nil, "/", nil, to("echo-a")),
	}
	for name, doc := range docs {
		if err := decodeStrict([]byte(doc)); err != nil {
			t.Errorf("%s: %v\n%s", name, err, doc)
		}
	}
	// appProtocol lands on the Service port and the slice port.
	var svc corev1.Service
	if err := yaml.UnmarshalStrict([]byte(strings.Split(docs["h2c"], "---\n")[0]), &svc); err != nil {
		t.Fatal(err)
	}
	if ap := svc.Spec.Ports[0].AppProtocol; ap == nil || *ap != "kubernetes.io/h2c" {
		t.Errorf("Service appProtocol = %v", ap)
	}
}
