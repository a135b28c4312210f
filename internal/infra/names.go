package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Labels and annotations Portico puts on what it provisions.
const (
	// LabelGatewayName is the well-known label naming the Gateway; the
	// conformance suite finds generated resources by it.
	LabelGatewayName = gwv1.GatewayNameLabelKey
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	LabelName        = "app.kubernetes.io/name"
	LabelInstance    = "app.kubernetes.io/instance"
	LabelComponent   = "app.kubernetes.io/component"

	// ManagedBy is the value of LabelManagedBy on everything Portico
	// provisions; the provider watches and cleans up by it.
	ManagedBy = "portico"
	proxyName = "portico-proxy"

	// AnnotationLoadBalancerIPs lists the IPs requested by the Gateway's
	// spec.addresses, comma-separated, for load balancers that can assign
	// more than spec.loadBalancerIP's one.
	AnnotationLoadBalancerIPs = "portico.dev/load-balancer-ips"
	// AnnotationSpecHash is a hash of the decided object; the provider
	// applies an object only when it differs from the live one's.
	AnnotationSpecHash = "portico.dev/spec-hash"
)

const (
	namePrefix = "portico-"
	hashLen    = 10
)

// Name returns the name of the Deployment and Service of Gateway gwName:
// "portico-<gwName>" when that is a DNS label (at most 63 characters, no
// dots), otherwise a prefix of it and a hash of gwName.
func Name(gwName string) string {
	n := namePrefix + gwName
	if len(validation.IsDNS1035Label(n)) == 0 {
		return n
	}
	return shorten(namePrefix+strings.ReplaceAll(gwName, ".", "-"), gwName, validation.DNS1035LabelMaxLength)
}

// GatewayLabelValue returns the value of the gateway-name label for Gateway
// gwName: the name itself when it is a valid label value, otherwise a
// prefix of it and a hash.
func GatewayLabelValue(gwName string) string {
	if len(validation.IsValidLabelValue(gwName)) == 0 {
		return gwName
	}
	return shorten(gwName, gwName, validation.LabelValueMaxLength)
}

// shorten returns base cut so that base, "-" and a hash of key fit in max
// characters, with no trailing '-' or '.' before the hash.
func shorten(base, key string, max int) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])[:hashLen]
	if keep := max - hashLen - 1; len(base) > keep {
		base = base[:keep]
	}
	return strings.TrimRight(base, "-.") + "-" + h
}

// selectorLabels select the proxy Pods of one Gateway; they never change
// for a Gateway (a Deployment's selector is immutable).
func selectorLabels(gw *gwv1.Gateway) map[string]string {
	return map[string]string{
		LabelName:     proxyName,
		LabelInstance: Name(gw.Name),
	}
}

// labels are Portico's labels of every object of gw, on top of the
// Gateway's spec.infrastructure.labels (ours win a clash).
func labels(gw *gwv1.Gateway) map[string]string {
	out := map[string]string{}
	if inf := gw.Spec.Infrastructure; inf != nil {
		for k, v := range inf.Labels {
			out[string(k)] = string(v)
		}
	}
	for k, v := range selectorLabels(gw) {
		out[k] = v
	}
	out[LabelManagedBy] = ManagedBy
	out[LabelComponent] = "proxy"
	out[LabelGatewayName] = GatewayLabelValue(gw.Name)
	return out
}

// annotations are spec.infrastructure.annotations.
func annotations(gw *gwv1.Gateway) map[string]string {
	out := map[string]string{}
	if inf := gw.Spec.Infrastructure; inf != nil {
		for k, v := range inf.Annotations {
			out[string(k)] = string(v)
		}
	}
	return out
}
