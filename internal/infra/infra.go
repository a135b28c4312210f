package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// AdminPort is the proxies' admin port (/healthz, /readyz).
const AdminPort = 9901

// Objects are what one Gateway needs in the cluster.
type Objects struct {
	Deployment *appsv1.Deployment
	Service    *corev1.Service
}

// ForGateway decides the proxy Deployment and Service of gw. extra are the
// further listeners its proxies serve (those of the ListenerSets attached to
// it): the Service opens their ports too. It reads only gw's name,
// namespace, UID, listeners, addresses and infrastructure, and never
// mutates its input. opts must have passed Validate.
func ForGateway(gw *gwv1.Gateway, opts Options, extra ...gwv1.Listener) Objects {
	opts = opts.WithDefaults()
	return Objects{Deployment: deployment(gw, opts), Service: service(gw, opts, extra)}
}

func objectMeta(gw *gwv1.Gateway) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:        Name(gw.Name),
		Namespace:   gw.Namespace,
		Labels:      labels(gw),
		Annotations: annotations(gw),
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion:         gwv1.GroupVersion.String(),
			Kind:               "Gateway",
			Name:               gw.Name,
			UID:                gw.UID,
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}},
	}
}

func deployment(gw *gwv1.Gateway, opts Options) *appsv1.Deployment {
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(gw),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(opts.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(gw)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(gw), Annotations: annotations(gw)},
				Spec:       podSpec(gw, opts),
			},
		},
	}
	setHash(&d.ObjectMeta, d.Spec)
	return d
}

func podSpec(gw *gwv1.Gateway, opts Options) corev1.PodSpec {
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("admin")}},
			PeriodSeconds: 5, FailureThreshold: 3,
		}
	}
	ports := []corev1.ContainerPort{{Name: "admin", ContainerPort: AdminPort, Protocol: corev1.ProtocolTCP}}
	// Only the Gateway's own listeners: container ports are informational,
	// and changing them would restart the proxies whenever a ListenerSet
	// comes or goes.
	for _, p := range servicePorts(gw.Spec.Listeners) {
		if p.Port != AdminPort {
			ports = append(ports, corev1.ContainerPort{ContainerPort: p.Port, Protocol: p.Protocol})
		}
	}
	return corev1.PodSpec{
		// The proxy talks only to the controller's config stream, never
		// to the API server.
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{
			// Listeners on ports below 1024 without root or capabilities.
			Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}},
		},
		Containers: []corev1.Container{{
			Name:            "proxy",
			Image:           opts.ProxyImage,
			ImagePullPolicy: opts.ImagePullPolicy,
			Command:         []string{"portico"},
			Args: []string{"proxy",
				"--controller", opts.ControllerURL,
				"--gateway", gw.Namespace + "/" + gw.Name,
				"--bind-address", "$(POD_IP)",
				"--admin-address", fmt.Sprintf("$(POD_IP):%d", AdminPort),
			},
			Env: []corev1.EnvVar{
				fieldEnv("POD_IP", "status.podIP"),
				fieldEnv("POD_NAME", "metadata.name"),
				fieldEnv("POD_NAMESPACE", "metadata.namespace"),
			},
			Ports:          ports,
			ReadinessProbe: probe("/readyz"),
			LivenessProbe:  probe("/healthz"),
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			}},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}
}

func service(gw *gwv1.Gateway, opts Options, extra []gwv1.Listener) *corev1.Service {
	s := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(gw),
		Spec: corev1.ServiceSpec{
			Type:     ServiceType(gw, opts.ServiceType),
			Selector: selectorLabels(gw),
			Ports:    servicePorts(append(slices.Clone(gw.Spec.Listeners), extra...)),
		},
	}
	if ips := RequestedIPs(gw); len(ips) > 0 {
		s.Annotations[AnnotationLoadBalancerIPs] = strings.Join(ips, ",")
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			s.Spec.LoadBalancerIP = ips[0]
		}
	}
	// A Cluster address with a value: ask for that cluster IP (it can only
	// be had when the Service is created; see Assign).
	if ip := RequestedClusterIP(gw); ip != "" {
		s.Spec.ClusterIP = ip
	}
	setHash(&s.ObjectMeta, s.Spec)
	return s
}

// servicePorts has one port per distinct listener port and transport
// protocol, in order of first appearance.
func servicePorts(listeners []gwv1.Listener) []corev1.ServicePort {
	var out []corev1.ServicePort
	for _, l := range listeners {
		proto := corev1.ProtocolTCP
		if l.Protocol == gwv1.UDPProtocolType {
			proto = corev1.ProtocolUDP
		}
		port := int32(l.Port)
		if slices.ContainsFunc(out, func(p corev1.ServicePort) bool { return p.Port == port && p.Protocol == proto }) {
			continue
		}
		out = append(out, corev1.ServicePort{
			Name:       fmt.Sprintf("%s-%d", strings.ToLower(string(l.Protocol)), port),
			Protocol:   proto,
			Port:       port,
			TargetPort: intstr.FromInt32(port),
		})
	}
	return out
}

// RequestedIPs returns the IP addresses gw's spec.addresses ask of the
// load balancer, in order and without duplicates; addresses of other types,
// IPAddress entries without a value (any address) and entries of another
// routability than the default (Cluster ones are cluster IPs) are left out.
func RequestedIPs(gw *gwv1.Gateway) []string {
	var out []string
	for _, a := range gw.Spec.Addresses {
		if a.Type != nil && *a.Type != gwv1.IPAddressType {
			continue
		}
		if a.Routability != gwv1.GatewayAddressRoutabilityDefault && a.Routability != RoutabilitySentinel {
			continue
		}
		ip, err := netip.ParseAddr(a.Value)
		if err != nil || slices.Contains(out, ip.String()) {
			continue
		}
		out = append(out, ip.String())
	}
	return out
}

// setHash records a hash of spec and of the metadata decided so far.
func setHash(m *metav1.ObjectMeta, spec any) {
	b, err := json.Marshal(struct {
		Labels, Annotations map[string]string
		Owners              []metav1.OwnerReference
		Spec                any
	}{m.Labels, m.Annotations, m.OwnerReferences, spec})
	if err != nil { // plain API types; cannot happen
		panic(fmt.Sprintf("infra: hashing %s: %v", m.Name, err))
	}
	sum := sha256.Sum256(b)
	m.Annotations[AnnotationSpecHash] = hex.EncodeToString(sum[:8])
}
