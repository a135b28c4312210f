package kubernetes

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// NewScheme returns the types the provider reads and writes: the built-in
// Kubernetes kinds and gateway.networking.k8s.io/v1.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("registering the Kubernetes types: %w", err)
	}
	if err := gwv1.Install(s); err != nil {
		return nil, fmt.Errorf("registering the Gateway API v1 types: %w", err)
	}
	return s, nil
}
