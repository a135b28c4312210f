package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// resolveEnv evaluates a container's env and envFrom the way the kubelet
// does: literal values with $(VAR) expansion, fieldRef (downward API),
// secretKeyRef and configMapKeyRef. It returns the variables in order
// (for a process environment) and as a map.
func resolveEnv(ctx context.Context, kc kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, podIP, hostIP string) ([]string, map[string]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	ns := pod.Namespace
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, ef.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if optional(ef.ConfigMapRef.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("envFrom ConfigMap %s: %w", ef.ConfigMapRef.Name, err)
			}
			for k, v := range cm.Data {
				set(ef.Prefix+k, v)
			}
		case ef.SecretRef != nil:
			s, err := kc.CoreV1().Secrets(ns).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if optional(ef.SecretRef.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("envFrom Secret %s: %w", ef.SecretRef.Name, err)
			}
			for k, v := range s.Data {
				set(ef.Prefix+k, string(v))
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vars))
			continue
		}
		switch vf := e.ValueFrom; {
		case vf.FieldRef != nil:
			v, err := fieldRef(pod, vf.FieldRef.FieldPath, podIP, hostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			set(e.Name, v)
		case vf.SecretKeyRef != nil:
			s, err := kc.CoreV1().Secrets(ns).Get(ctx, vf.SecretKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				if optional(vf.SecretKeyRef.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("env %s: Secret %s: %w", e.Name, vf.SecretKeyRef.Name, err)
			}
			set(e.Name, string(s.Data[vf.SecretKeyRef.Key]))
		case vf.ConfigMapKeyRef != nil:
			cm, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, vf.ConfigMapKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				if optional(vf.ConfigMapKeyRef.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("env %s: ConfigMap %s: %w", e.Name, vf.ConfigMapKeyRef.Name, err)
			}
			set(e.Name, cm.Data[vf.ConfigMapKeyRef.Key])
		case vf.ResourceFieldRef != nil:
			set(e.Name, "0")
		}
	}
	list := make([]string, 0, len(order))
	for _, k := range order {
		list = append(list, k+"="+vars[k])
	}
	return list, vars, nil
}

func optional(b *bool) bool { return b != nil && *b }

// fieldRef evaluates a downward API field path.
func fieldRef(pod *corev1.Pod, path, podIP, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	}
	for _, p := range []struct {
		prefix string
		m      map[string]string
	}{{"metadata.labels", pod.Labels}, {"metadata.annotations", pod.Annotations}} {
		if path == p.prefix {
			var b strings.Builder
			for k, v := range p.m {
				fmt.Fprintf(&b, "%s=%q\n", k, v)
			}
			return b.String(), nil
		}
		if rest, ok := strings.CutPrefix(path, p.prefix+"['"); ok {
			return p.m[strings.TrimSuffix(rest, "']")], nil
		}
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

// expand replaces $(VAR) with the value of VAR when it is defined, and
// $$ with $, as Kubernetes does for env values, command and args.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// mounts maps container paths to the directories that hold their volumes
// on this machine.
type mounts []struct{ mountPath, hostPath string }

// path maps a path inside the container to this machine, or returns it as
// is when no mount covers it.
func (m mounts) path(p string) string {
	best := -1
	for i, mt := range m {
		if p == mt.mountPath || strings.HasPrefix(p, strings.TrimSuffix(mt.mountPath, "/")+"/") {
			if best < 0 || len(mt.mountPath) > len(m[best].mountPath) {
				best = i
			}
		}
	}
	if best < 0 {
		return p
	}
	return filepath.Join(m[best].hostPath, strings.TrimPrefix(p, m[best].mountPath))
}

// rewrite maps every mount path that starts s (a flag value, an env value
// or "--flag=<path>") to this machine: processes see no mount namespace.
func (m mounts) rewrite(s string) string {
	if mapped := m.path(s); mapped != s {
		return mapped
	}
	if i := strings.IndexByte(s, '='); i >= 0 {
		if mapped := m.path(s[i+1:]); mapped != s[i+1:] {
			return s[:i+1] + mapped
		}
	}
	return s
}

// materializeVolumes writes the Secret, ConfigMap, downward API and
// projected volumes a container mounts into dir/<volume>, and returns the
// mount table. Missing non-optional sources are errors (the kubelet retries).
func materializeVolumes(ctx context.Context, kc kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, dir string) (mounts, error) {
	var out mounts
	for _, vm := range c.VolumeMounts {
		var vol *corev1.Volume
		for i := range pod.Spec.Volumes {
			if pod.Spec.Volumes[i].Name == vm.Name {
				vol = &pod.Spec.Volumes[i]
			}
		}
		if vol == nil {
			return nil, fmt.Errorf("volumeMount %s: no such volume", vm.Name)
		}
		host := filepath.Join(dir, vol.Name)
		if err := os.MkdirAll(host, 0o755); err != nil {
			return nil, err
		}
		if err := writeVolume(ctx, kc, pod, vol, host); err != nil {
			return nil, fmt.Errorf("volume %s: %w", vol.Name, err)
		}
		hp := host
		if vm.SubPath != "" {
			hp = filepath.Join(host, vm.SubPath)
		}
		out = append(out, struct{ mountPath, hostPath string }{vm.MountPath, hp})
	}
	return out, nil
}

func writeVolume(ctx context.Context, kc kubernetes.Interface, pod *corev1.Pod, vol *corev1.Volume, host string) error {
	ns := pod.Namespace
	switch {
	case vol.Secret != nil:
		s, err := kc.CoreV1().Secrets(ns).Get(ctx, vol.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			if optional(vol.Secret.Optional) {
				return nil
			}
			return fmt.Errorf("Secret %s: %w", vol.Secret.SecretName, err)
		}
		return writeItems(host, s.Data, vol.Secret.Items)
	case vol.ConfigMap != nil:
		cm, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, vol.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			if optional(vol.ConfigMap.Optional) {
				return nil
			}
			return fmt.Errorf("ConfigMap %s: %w", vol.ConfigMap.Name, err)
		}
		data := map[string][]byte{}
		for k, v := range cm.Data {
			data[k] = []byte(v)
		}
		for k, v := range cm.BinaryData {
			data[k] = v
		}
		return writeItems(host, data, vol.ConfigMap.Items)
	case vol.Projected != nil:
		for _, src := range vol.Projected.Sources {
			switch {
			case src.ServiceAccountToken != nil:
				token, err := serviceAccountToken(ctx, kc, pod, src.ServiceAccountToken)
				if err != nil {
					return err
				}
				if err := writeFile(filepath.Join(host, src.ServiceAccountToken.Path), []byte(token)); err != nil {
					return err
				}
			case src.ConfigMap != nil:
				cm, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, src.ConfigMap.Name, metav1.GetOptions{})
				if err != nil {
					if optional(src.ConfigMap.Optional) {
						continue
					}
					return fmt.Errorf("ConfigMap %s: %w", src.ConfigMap.Name, err)
				}
				data := map[string][]byte{}
				for k, v := range cm.Data {
					data[k] = []byte(v)
				}
				if err := writeItems(host, data, src.ConfigMap.Items); err != nil {
					return err
				}
			case src.Secret != nil:
				s, err := kc.CoreV1().Secrets(ns).Get(ctx, src.Secret.Name, metav1.GetOptions{})
				if err != nil {
					if optional(src.Secret.Optional) {
						continue
					}
					return fmt.Errorf("Secret %s: %w", src.Secret.Name, err)
				}
				if err := writeItems(host, s.Data, src.Secret.Items); err != nil {
					return err
				}
			case src.DownwardAPI != nil:
				if err := writeDownward(pod, host, src.DownwardAPI.Items); err != nil {
					return err
				}
			}
		}
	case vol.DownwardAPI != nil:
		return writeDownward(pod, host, vol.DownwardAPI.Items)
	case vol.EmptyDir != nil:
		return nil
	}
	return nil
}

// serviceAccountToken asks the API server for a token of the Pod's service
// account, bound to the Pod, as the kubelet does for projected volumes.
func serviceAccountToken(ctx context.Context, kc kubernetes.Interface, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		tr.Spec.Audiences = []string{src.Audience}
	}
	out, err := kc.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	return out.Status.Token, nil
}

func writeItems(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if len(items) == 0 {
		for k, v := range data {
			if err := writeFile(filepath.Join(dir, k), v); err != nil {
				return err
			}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("key %q is missing", it.Key)
		}
		if err := writeFile(filepath.Join(dir, it.Path), v); err != nil {
			return err
		}
	}
	return nil
}

func writeDownward(pod *corev1.Pod, dir string, items []corev1.DownwardAPIVolumeFile) error {
	for _, it := range items {
		if it.FieldRef == nil {
			continue
		}
		v, err := fieldRef(pod, it.FieldRef.FieldPath, pod.Status.PodIP, pod.Status.HostIP)
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, it.Path), []byte(v)); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
