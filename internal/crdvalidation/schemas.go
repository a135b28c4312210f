package crdvalidation

import (
	"embed"
	"fmt"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// crdFiles is the copy of the gateway-api module's
// config/crd/experimental CRDs that hack/update-crds.sh makes.
//
//go:embed crds/*.yaml
var crdFiles embed.FS

// crdFile names the embedded CRD of each Gateway API kind Portico reads.
var crdFile = map[string]string{
	"GatewayClass":     "gatewayclasses",
	"Gateway":          "gateways",
	"HTTPRoute":        "httproutes",
	"ListenerSet":      "listenersets",
	"ReferenceGrant":   "referencegrants",
	"BackendTLSPolicy": "backendtlspolicies",
}

// Group is the API group of every kind this package validates.
const Group = "gateway.networking.k8s.io"

// crds holds, per kind, the CRD parsed on first use.
var crds = func() map[string]func() (*crd, error) {
	m := map[string]func() (*crd, error){}
	for kind, plural := range crdFile {
		m[kind] = sync.OnceValues(func() (*crd, error) { return loadCRD(kind, plural) })
	}
	return m
}()

// crd is one parsed CRD with a lazily compiled validator per served version.
type crd struct {
	kind       string
	namespaced bool
	versions   map[string]func() (*schema, error)
}

// schema is what the API server builds for one version of a CRD in
// customresource_handler.go: the structural schema (defaults pruned), the
// OpenAPI validator and the CEL validator. Immutable once built.
type schema struct {
	structural *structuralschema.Structural
	openAPI    apiservervalidation.SchemaValidator
	cel        *cel.Validator // nil when the version has no x-kubernetes-validations
	hasStatus  bool           // the status subresource: status is dropped on create
}

func loadCRD(kind, plural string) (*crd, error) {
	name := "crds/" + Group + "_" + plural + ".yaml"
	data, err := crdFiles.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("embedded CRD of %s: %w", kind, err)
	}
	var v1crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &v1crd); err != nil {
		return nil, fmt.Errorf("embedded CRD %s: %w", name, err)
	}
	if v1crd.Spec.Names.Kind != kind || v1crd.Spec.Group != Group {
		return nil, fmt.Errorf("embedded CRD %s defines %s.%s, want %s.%s", name, v1crd.Spec.Names.Kind, v1crd.Spec.Group, kind, Group)
	}
	c := &crd{kind: kind, namespaced: v1crd.Spec.Scope == apiextensionsv1.NamespaceScoped, versions: map[string]func() (*schema, error){}}
	for _, v := range v1crd.Spec.Versions {
		if !v.Served {
			continue // the API server refuses unserved versions before any validation
		}
		c.versions[v.Name] = sync.OnceValues(func() (*schema, error) {
			s, err := buildSchema(&v1crd, v)
			if err != nil {
				return nil, fmt.Errorf("CRD %s version %s: %w", v1crd.Name, v.Name, err)
			}
			return s, nil
		})
	}
	return c, nil
}

// buildSchema follows getOrCreateServingInfoFor and NewStrategy of the
// apiextensions-apiserver.
func buildSchema(c *apiextensionsv1.CustomResourceDefinition, v apiextensionsv1.CustomResourceDefinitionVersion) (*schema, error) {
	val, err := apihelpers.GetSchemaForVersion(c, v.Name)
	if err != nil {
		return nil, err
	}
	if val == nil || val.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("no schema")
	}
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
		return nil, err
	}
	s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, err
	}
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		return nil, err
	}
	openAPI, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, err
	}
	sub, err := apihelpers.GetSubresourcesForVersion(c, v.Name)
	if err != nil {
		return nil, err
	}
	return &schema{
		structural: s,
		openAPI:    openAPI,
		cel:        cel.NewValidator(s, true, celconfig.PerCallLimit),
		hasStatus:  sub != nil && sub.Status != nil,
	}, nil
}
