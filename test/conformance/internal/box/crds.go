package box

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// fieldManager names the box in managedFields.
const fieldManager = "portico-conformance"

// InstallManifests server-side applies every object of every *.yaml file in
// dir (kustomization.yaml excepted): CustomResourceDefinitions first, waited
// for until Established, then the rest (for the Gateway API CRD directory:
// the ValidatingAdmissionPolicy and its binding).
func InstallManifests(ctx context.Context, cfg *rest.Config, dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	var crds, others []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		objs, err := readObjects(f)
		if err != nil {
			return 0, err
		}
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				crds = append(crds, o)
			} else {
				others = append(others, o)
			}
		}
	}
	if len(crds) == 0 {
		return 0, fmt.Errorf("no CustomResourceDefinition in %s/*.yaml: is it the Gateway API config/crd/experimental directory?", dir)
	}

	a, err := newApplier(cfg)
	if err != nil {
		return 0, err
	}
	for _, o := range crds {
		if err := a.apply(ctx, o); err != nil {
			return 0, err
		}
	}
	crdGVR := apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")
	for _, o := range crds {
		if err := waitEstablished(ctx, a.dyn.Resource(crdGVR), o.GetName()); err != nil {
			return 0, err
		}
	}
	a.reset()
	for _, o := range others {
		if err := a.apply(ctx, o); err != nil {
			return 0, err
		}
	}
	return len(crds), nil
}

// Apply server-side applies objs in order.
func Apply(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) error {
	a, err := newApplier(cfg)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := a.apply(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

type applier struct {
	dyn    dynamic.Interface
	cached discovery.CachedDiscoveryInterface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newApplier(cfg *rest.Config) (*applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(disc)
	return &applier{dyn: dyn, cached: cached, mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached)}, nil
}

func (a *applier) reset() {
	a.cached.Invalidate()
	a.mapper.Reset()
}

func (a *applier) apply(ctx context.Context, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvk.Kind, o.GetName(), err)
	}
	data, err := o.MarshalJSON()
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if o.GetNamespace() != "" {
		ri = a.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	force := true
	if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
		return fmt.Errorf("apply %s %s: %w", gvk.Kind, o.GetName(), err)
	}
	return nil
}

func waitEstablished(ctx context.Context, ri dynamic.ResourceInterface, name string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &crd); err != nil {
				return err
			}
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRD %s not Established after 60s (last error: %v)", name, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readObjects decodes every non-empty YAML document of path.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeObjects(data, path)
}

// DecodeObjects decodes a multi-document YAML stream; name is used in errors.
func DecodeObjects(data []byte, name string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for i := 0; ; i++ {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || strings.TrimSpace(u.GetName()) == "" {
			return nil, fmt.Errorf("%s: document %d has no kind or metadata.name", name, i+1)
		}
		out = append(out, u)
	}
}
