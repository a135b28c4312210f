package crdvalidation

import (
	"context"
	"fmt"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/api/operation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	runtimeschema "k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// DefaultNamespace is the namespace standalone input puts namespaced objects
// in when they name none (internal/provider/file does the same).
const DefaultNamespace = "default"

// InvalidError is an object the API server would refuse: its kind,
// namespace and name, and the API server's field errors.
type InvalidError struct {
	Kind, Namespace, Name string
	Errs                  field.ErrorList
}

// Error is "Kind namespace/name: " and then what the API server says after
// `Kind.group "name" is invalid: ` (one error, or several in brackets).
func (e *InvalidError) Error() string {
	id := shorten(e.Name)
	if id == "" {
		id = "(unnamed)"
	}
	if e.Namespace != "" {
		id = shorten(e.Namespace) + "/" + id
	}
	return fmt.Sprintf("%s %s: %v", e.Kind, id, e.Errs.ToAggregate())
}

// Known reports whether Validate checks objects of apiVersion and kind.
func Known(apiVersion, kind string) bool {
	gv, err := runtimeschema.ParseGroupVersion(apiVersion)
	return err == nil && gv.Group == Group && crds[kind] != nil
}

// Validate checks one object, given as the JSON of its document, as the API
// server would check it on create with the CRDs installed: pruning, the
// schema's defaults, then the OpenAPI schema, metadata, list-type and CEL
// validation. It returns nil for a kind or version it has no CRD for (the
// caller decides about those), an *InvalidError for an invalid object, and
// another error only when the document is not a JSON object or an embedded
// CRD cannot be built (a bug).
func Validate(apiVersion, kind string, js []byte) error {
	if !Known(apiVersion, kind) {
		return nil
	}
	key := cacheKey(apiVersion, kind, js)
	if err, ok := results.get(key); ok {
		return err
	}
	err := validate(apiVersion, kind, js)
	if _, invalid := err.(*InvalidError); err == nil || invalid {
		results.put(key, err)
	}
	return err
}

func validate(apiVersion, kind string, js []byte) error {
	c, err := crds[kind]()
	if err != nil {
		return err
	}
	gv, _ := runtimeschema.ParseGroupVersion(apiVersion)
	version := c.versions[gv.Version]
	if version == nil {
		return nil
	}
	s, err := version()
	if err != nil {
		return err
	}
	var obj map[string]any
	// utiljson decodes integers as int64, as the API server's unstructured
	// decoder does (the schema validators expect it).
	if err := utiljson.Unmarshal(js, &obj); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if obj == nil {
		return fmt.Errorf("%s: the document is not an object", kind)
	}
	errs := s.validate(obj, c.namespaced)
	if len(errs) == 0 {
		return nil
	}
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	return &InvalidError{Kind: kind, Namespace: ns, Name: name, Errs: boundValues(errs)}
}

// validate runs on obj what the API server runs between decoding a create
// request and storing it (customresource_handler.go's decoder and
// defaulter, then strategy.go's PrepareForCreate and Validate). obj is
// changed: pruned and defaulted.
func (s *schema) validate(obj map[string]any, namespaced bool) field.ErrorList {
	ctx := context.Background()
	var errs field.ErrorList
	// Decoding: unknown fields are pruned, and refused by strict field
	// validation (kubectl's default).
	for _, p := range structuralpruning.PruneWithOptions(obj, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		errs = append(errs, field.Forbidden(field.NewPath(p), "unknown field: the CRD schema has no such field"))
	}
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, s.structural)
	if err, _ := schemaobjectmeta.CoerceWithOptions(nil, obj, s.structural, false, schemaobjectmeta.CoerceOptions{}); err != nil {
		return append(errs, err)
	}
	structuraldefaulting.Default(obj, s.structural)
	// PrepareForCreate drops status when the status subresource is on.
	if s.hasStatus {
		delete(obj, "status")
	}
	meta, metaErrs := objectMeta(obj, namespaced)
	if len(metaErrs) > 0 {
		return append(errs, metaErrs...)
	}
	errs = append(errs, metavalidation.ValidateObjectMetaDeclaratively(ctx, operation.Create, meta, nil, namespaced,
		metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"), utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, s.openAPI)...)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, obj, s.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, obj)...)
	if s.cel != nil {
		if blocked, err := hasBlockingErr(errs); blocked {
			errs = append(errs, err)
		} else {
			celErrs, _ := s.cel.Validate(ctx, nil, s.structural, obj, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	return errs
}

// objectMeta reads metadata as the API server's validator does
// (getObjectMeta), after giving a namespaced object without a namespace the
// standalone default, as a request to that namespace would.
func objectMeta(obj map[string]any, namespaced bool) (*metav1.ObjectMeta, field.ErrorList) {
	raw, _ := obj["metadata"].(map[string]any)
	if raw == nil {
		if obj["metadata"] != nil {
			return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), obj["metadata"], fmt.Sprintf("expected map[string]interface{}, got %T", obj["metadata"]))}
		}
		raw = map[string]any{}
		obj["metadata"] = raw
	}
	if ns, _ := raw["namespace"].(string); namespaced && ns == "" {
		raw["namespace"] = DefaultNamespace
	}
	meta := &metav1.ObjectMeta{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, meta); err != nil {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, err.Error())}
	}
	return meta, nil
}

// hasBlockingErr is strategy.go's: CEL rules are not run on an object whose
// errors would make them fail or mislead (a missing or mistyped field, a
// value or list over its bound).
func hasBlockingErr(errs field.ErrorList) (bool, *field.Error) {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true, field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return false, nil
}

// maxValue is the longest string value an error message repeats. The API
// server never sees larger values (it refuses requests over 3 MiB); a file
// may hold them, and the message must stay readable.
const maxValue = 256

// boundValues shortens the string values the errors quote to maxValue
// bytes.
func boundValues(errs field.ErrorList) field.ErrorList {
	for _, e := range errs {
		if s, ok := e.BadValue.(string); ok {
			e.BadValue = shorten(s)
		}
	}
	return errs
}

// shorten returns s, or its first maxValue bytes and its length.
func shorten(s string) string {
	if len(s) <= maxValue {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", strings.ToValidUTF8(s[:maxValue], ""), len(s))
}
