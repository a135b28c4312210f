package crdvalidation

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const blocked = "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"

func gateway(listeners string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: edge}\n" +
		"spec:\n  gatewayClassName: portico\n  listeners:\n" + listeners
}

func route(rules string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: app}\n" +
		"spec:\n  parentRefs: [{name: gw}]\n  rules:\n" + rules
}

func manyListeners(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - {name: l%d, protocol: HTTP, port: 80, hostname: h%d.example.com}\n", i, i)
	}
	return b.String()
}

// TestValidate: each case is refused with the message a cluster's API
// server gives (after `Kind.group "name" is invalid: `), and valid objects
// and kinds without a CRD pass.
func TestValidate(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{{
		name: "duplicate listener names",
		doc:  gateway("  - {name: a, protocol: HTTP, port: 80}\n  - {name: a, protocol: HTTP, port: 81}\n"),
		want: `Gateway edge/gw: [spec.listeners[1]: Duplicate value: {"name":"a"}, spec.listeners: Invalid value: Listener name must be unique within the Gateway]`,
	}, {
		name: "negative weight",
		doc:  route("  - backendRefs: [{name: s, port: 80, weight: -5}]\n"),
		want: "HTTPRoute default/app: spec.rules[0].backendRefs[0].weight: Invalid value: -5: spec.rules[0].backendRefs[0].weight in body should be greater than or equal to 0",
	}, {
		name: "path without a leading slash",
		doc:  route("  - matches: [{path: {type: PathPrefix, value: foo}}]\n"),
		want: "HTTPRoute default/app: spec.rules[0].matches[0].path: Invalid value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
	}, {
		name: "port 70000",
		doc:  gateway("  - {name: a, protocol: HTTP, port: 70000}\n"),
		want: "Gateway edge/gw: spec.listeners[0].port: Invalid value: 70000: spec.listeners[0].port in body should be less than or equal to 65535",
	}, {
		name: "10 MiB hostname",
		doc:  gateway("  - {name: a, protocol: HTTP, port: 80, hostname: " + strings.Repeat("a", 10<<20) + "}\n"),
		want: "Gateway edge/gw: [spec.listeners[0].hostname: Too long: may not be more than 253 bytes, " + blocked + "]",
	}, {
		name: "100,000 listeners",
		doc:  gateway(manyListeners(100000)),
		want: "Gateway edge/gw: [spec.listeners: Too many: 100000: must have at most 64 items, " + blocked + "]",
	}, {
		name: "hostname on a TCP listener",
		doc:  gateway("  - {name: a, protocol: TCP, port: 9000, hostname: a.example.com}\n"),
		want: "Gateway edge/gw: spec.listeners: Invalid value: hostname must not be specified for protocols ['TCP', 'UDP']",
	}, {
		name: "RequestRedirect with both path types wrong",
		doc:  route("  - filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replacePrefixMatch: /x}}}]\n"),
		want: "HTTPRoute default/app: [spec.rules[0].filters[0].requestRedirect.path: Invalid value: replaceFullPath must be specified when type is set to 'ReplaceFullPath', " +
			"spec.rules[0].filters[0].requestRedirect.path: Invalid value: type must be 'ReplacePrefixMatch' when replacePrefixMatch is set]",
	}, {
		name: "filter type without its field",
		doc:  route("  - filters: [{type: RequestHeaderModifier}]\n"),
		want: "HTTPRoute default/app: spec.rules[0].filters[0]: Invalid value: filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type",
	}, {
		name: "name not a DNS subdomain",
		doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: Bad_Name}\nspec: {controllerName: portico.dev/gateway-controller}\n",
		want: `GatewayClass Bad_Name: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	}, {
		name: "namespace not a DNS label",
		doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: a.b}\nspec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: x}], to: [{group: '', kind: Service}]}\n",
		want: `ReferenceGrant a.b/g: metadata.namespace: Invalid value: "a.b": must not contain dots`,
	}, {
		name: "no name",
		doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {}\nspec: {controllerName: portico.dev/gateway-controller}\n",
		want: "GatewayClass (unnamed): [metadata.name: Required value: name or generateName is required, " + blocked + "]",
	}, {
		name: "no name, in a namespace",
		doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {namespace: ns}\nspec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: x}], to: [{group: '', kind: Service}]}\n",
		want: "ReferenceGrant ns/(unnamed): metadata.name: Required value: name or generateName is required",
	}, {
		name: "wrong type",
		doc:  gateway("  - {name: a, protocol: HTTP, port: \"80\"}\n"),
		want: `Gateway edge/gw: [spec.listeners[0].port: Invalid value: "string": spec.listeners[0].port in body must be of type integer: "string", ` + blocked + "]",
	}, {
		name: "v1beta1 is validated with its own schema",
		doc:  strings.Replace(gateway("  - {name: a, protocol: HTTP, port: 70000}\n"), "/v1\n", "/v1beta1\n", 1),
		want: "Gateway edge/gw: spec.listeners[0].port: Invalid value: 70000: spec.listeners[0].port in body should be less than or equal to 65535",
	}, {
		name: "ListenerSet",
		doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\nmetadata: {name: ls}\nspec:\n  parentRef: {name: gw}\n  listeners: [{name: a, protocol: HTTP, port: 0}]\n",
		want: "ListenerSet default/ls: spec.listeners[0].port: Invalid value: 0: spec.listeners[0].port in body should be greater than or equal to 1",
	}, {
		name: "BackendTLSPolicy",
		doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {name: p}\nspec:\n  targetRefs: [{group: '', kind: Service, name: s}]\n  validation: {hostname: a.example.com}\n",
		want: "BackendTLSPolicy default/p: spec.validation: Invalid value: exactly one of the fields in [caCertificateRefs wellKnownCACertificates] must be set",
	}, {
		name: "valid Gateway",
		doc:  gateway(manyListeners(64)),
	}, {
		name: "valid HTTPRoute, defaults applied before validation",
		doc:  route("  - matches: [{path: {value: /app}}]\n    backendRefs: [{name: s, port: 80}]\n"),
	}, {
		name: "kind without a CRD",
		doc:  "apiVersion: v1\nkind: Service\nmetadata: {name: Not_Checked}\nspec: {ports: [{port: 70000}]}\n",
	}, {
		name: "version the CRD does not serve",
		doc:  "apiVersion: gateway.networking.k8s.io/v9\nkind: Gateway\nmetadata: {name: Not_Checked}\n",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := validateYAML(t, c.doc)
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// validateYAML returns Validate's message for doc, or "" when it passes.
func validateYAML(t *testing.T, doc string) string {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var tm struct{ APIVersion, Kind string }
	if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
		t.Fatal(err)
	}
	err = Validate(tm.APIVersion, tm.Kind, js)
	if err == nil {
		return ""
	}
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("Validate returned %T (%v), want *InvalidError", err, err)
	}
	return err.Error()
}

// TestLongValuesShortened: a huge value is quoted with its first 256 bytes.
func TestLongValuesShortened(t *testing.T) {
	long := strings.Repeat("a", 100000)
	doc := route("  - matches: [{path: {type: " + long + ", value: /}}]\n")
	got := validateYAML(t, doc)
	if len(got) > 2000 || !strings.Contains(got, strings.Repeat("a", 256)+"... (100000 bytes)") {
		t.Errorf("message of %d bytes: %.600s", len(got), got)
	}
	doc = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: " + long + "}\nspec: {controllerName: portico.dev/gateway-controller}\n"
	if got := validateYAML(t, doc); len(got) > 2000 || !strings.HasPrefix(got, "GatewayClass "+strings.Repeat("a", 256)+"... (100000 bytes): ") {
		t.Errorf("message of %d bytes: %.600s", len(got), got)
	}
}

// TestSchemasBuiltOnce: the CRD and its compiled version are shared by
// every call.
func TestSchemasBuiltOnce(t *testing.T) {
	for kind := range crdFile {
		c1, err := crds[kind]()
		if err != nil {
			t.Fatal(err)
		}
		c2, _ := crds[kind]()
		if c1 != c2 {
			t.Errorf("%s: CRD parsed twice", kind)
		}
		if len(c1.versions) == 0 {
			t.Errorf("%s: no served version", kind)
		}
		for v, build := range c1.versions {
			s1, err := build()
			if err != nil {
				t.Fatalf("%s %s: %v", kind, v, err)
			}
			if s2, _ := build(); s1 != s2 {
				t.Errorf("%s %s: schema built twice", kind, v)
			}
		}
	}
}
