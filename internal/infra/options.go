package infra

import (
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Defaults of Options.
const (
	DefaultProxyImage  = "portico:dev"
	DefaultServiceType = corev1.ServiceTypeLoadBalancer
	DefaultReplicas    = 1
)

// Options are what ForGateway needs besides the Gateway.
type Options struct {
	// ProxyImage is the container image of the proxies; it must contain
	// the portico binary on its PATH. Its name is not checked: a mirror or
	// a private registry may call it anything.
	ProxyImage string
	// ImagePullPolicy of the proxy container; empty leaves the Kubernetes
	// default (IfNotPresent, or Always for :latest).
	ImagePullPolicy corev1.PullPolicy
	// Replicas is the number of proxy Pods per Gateway (0: DefaultReplicas).
	Replicas int32
	// ServiceType is the type of the Service in front of the proxies.
	ServiceType corev1.ServiceType
	// ControllerURL is where the proxies reach the controller's config
	// stream, for example http://portico-controller.portico-system.svc:18000.
	ControllerURL string
}

// WithDefaults returns o with every unset field at its default.
func (o Options) WithDefaults() Options {
	if o.ProxyImage == "" {
		o.ProxyImage = DefaultProxyImage
	}
	if o.Replicas == 0 {
		o.Replicas = DefaultReplicas
	}
	if o.ServiceType == "" {
		o.ServiceType = DefaultServiceType
	}
	return o
}

// Validate says what is wrong with o (after WithDefaults), naming the flag
// to fix.
func (o Options) Validate() error {
	var problems []string
	if o.Replicas < 1 {
		problems = append(problems, fmt.Sprintf("--proxy-replicas %d: must be 1 or more", o.Replicas))
	}
	switch o.ServiceType {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
	default:
		problems = append(problems, fmt.Sprintf("--service-type %q: use LoadBalancer, ClusterIP or NodePort", o.ServiceType))
	}
	if u, err := url.Parse(o.ControllerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("--controller-url %q: must be an http:// or https:// URL with a host", o.ControllerURL))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
