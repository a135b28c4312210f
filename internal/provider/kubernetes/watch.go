package kubernetes

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// watchedKinds are the informers the provider runs. The Deployment informer
// sees only what Portico provisioned (see cacheOptions).
func watchedKinds() []client.Object {
	return []client.Object{
		&gwv1.GatewayClass{},
		&gwv1.Gateway{},
		&gwv1.ListenerSet{},
		&gwv1.HTTPRoute{},
		&gwv1.ReferenceGrant{},
		&corev1.Namespace{},
		&corev1.Service{},
		&discoveryv1.EndpointSlice{},
		&corev1.Secret{},
		&appsv1.Deployment{},
		&gwv1.BackendTLSPolicy{},
		&corev1.ConfigMap{},
	}
}

// watch makes every event of every watched kind call onChange. It
// registers the informers; they start with the cache.
func watch(ctx context.Context, c cache.Cache, onChange func(), optional ...client.Object) error {
	h := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { onChange() },
		UpdateFunc: func(oldObj, newObj any) {
			// A periodic resync delivers the same object again.
			o, ok1 := oldObj.(metav1.Object)
			n, ok2 := newObj.(metav1.Object)
			if ok1 && ok2 && o.GetResourceVersion() == n.GetResourceVersion() {
				return
			}
			onChange()
		},
		DeleteFunc: func(any) { onChange() },
	}
	for _, obj := range append(watchedKinds(), optional...) {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("watching %T: %w (are the Gateway API CRDs installed?)", obj, err)
		}
		if _, err := inf.AddEventHandler(h); err != nil {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
	}
	return nil
}
