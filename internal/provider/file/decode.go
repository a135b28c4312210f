package file

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"portico.dev/portico/internal/crdvalidation"
)

// document is one YAML document of a file and the line it starts on.
type document struct {
	index int // 1-based
	line  int // 1-based line of its first line
	data  []byte
}

// splitDocuments splits a multi-document YAML file on "---" lines.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	start, line := 1, 0
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.Bytes()))) > 0 {
			docs = append(docs, document{index: len(docs) + 1, line: start, data: bytes.Clone(cur.Bytes())})
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "---" || strings.HasPrefix(text, "--- ") || strings.HasPrefix(text, "---#") {
			flush()
			start = line + 1
			continue
		}
		cur.WriteString(text)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

func stripComments(b []byte) []byte {
	var out bytes.Buffer
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out.Write(l)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// kinds maps "apiVersion kind" to a constructor of the typed object. The
// v1beta1 Gateway API kinds have the v1 schema and are read as v1.
var kinds = map[string]func() any{
	"gateway.networking.k8s.io/v1 GatewayClass":        func() any { return &gwv1.GatewayClass{} },
	"gateway.networking.k8s.io/v1beta1 GatewayClass":   func() any { return &gwv1.GatewayClass{} },
	"gateway.networking.k8s.io/v1 Gateway":             func() any { return &gwv1.Gateway{} },
	"gateway.networking.k8s.io/v1beta1 Gateway":        func() any { return &gwv1.Gateway{} },
	"gateway.networking.k8s.io/v1 HTTPRoute":           func() any { return &gwv1.HTTPRoute{} },
	"gateway.networking.k8s.io/v1beta1 HTTPRoute":      func() any { return &gwv1.HTTPRoute{} },
	"gateway.networking.k8s.io/v1 ReferenceGrant":      func() any { return &gwv1.ReferenceGrant{} },
	"gateway.networking.k8s.io/v1beta1 ReferenceGrant": func() any { return &gwv1.ReferenceGrant{} },

	"gateway.networking.k8s.io/v1 ListenerSet": func() any { return &gwv1.ListenerSet{} },

	"v1 Namespace":                      func() any { return &corev1.Namespace{} },
	"v1 Service":                        func() any { return &corev1.Service{} },
	"v1 Secret":                         func() any { return &corev1.Secret{} },
	"discovery.k8s.io/v1 EndpointSlice": func() any { return &discoveryv1.EndpointSlice{} },

	"gateway.networking.k8s.io/v1 BackendTLSPolicy": func() any { return &gwv1.BackendTLSPolicy{} },
	"v1 ConfigMap": func() any { return &corev1.ConfigMap{} },
	"certificates.k8s.io/v1 ClusterTrustBundle":      func() any { return &certificatesv1.ClusterTrustBundle{} },
	"certificates.k8s.io/v1beta1 ClusterTrustBundle": func() any { return &certificatesv1beta1.ClusterTrustBundle{} },
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// decodeError is a problem with one document, located in its file.
type decodeError struct {
	doc document
	msg string
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("document %d (line %d): %s", e.doc.index, e.doc.line, e.msg)
}

// decode strictly decodes one document. It returns (nil, nil) for a kind
// Portico does not read, with the kind in skipped.
func decode(doc document) (obj any, skipped string, err error) {
	fail := func(format string, a ...any) (any, string, error) {
		msg := fmt.Sprintf(format, a...)
		// YAML errors count lines from the document; make them file lines.
		msg = yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
			n, _ := strconv.Atoi(yamlLine.FindStringSubmatch(m)[1])
			return fmt.Sprintf("line %d", n+doc.line-1)
		})
		return nil, "", &decodeError{doc: doc, msg: msg}
	}
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc.data, &tm); err != nil {
		return fail("not valid YAML: %v", err)
	}
	if tm.Kind == "" || tm.APIVersion == "" {
		return fail("apiVersion and kind are required")
	}
	newObj, ok := kinds[tm.APIVersion+" "+tm.Kind]
	if !ok {
		return nil, tm.APIVersion + " " + tm.Kind, nil
	}
	obj = newObj()
	js, err := yaml.YAMLToJSONStrict(doc.data)
	if err != nil {
		return fail("not valid YAML: %v", err)
	}
	// sigs.k8s.io/json names the field path of unknown and duplicate fields,
	// as the API server's strict field validation does.
	strict, err := sigsjson.UnmarshalStrict(js, obj)
	if err != nil {
		return fail("%s: %v", tm.Kind, err)
	}
	if len(strict) > 0 {
		var msgs []string
		for _, e := range strict {
			msgs = append(msgs, e.Error())
		}
		return fail("%s: %s (check the field names against the %s %s schema)", tm.Kind, strings.Join(msgs, "; "), tm.APIVersion, tm.Kind)
	}
	// What the API server would refuse is refused here, with its message.
	if err := crdvalidation.Validate(tm.APIVersion, tm.Kind, js); err != nil {
		return fail("%v", err)
	}
	return upgrade(obj), "", nil
}

// upgrade reads older versions of a kind as the version the Snapshot holds.
func upgrade(obj any) any {
	if b, ok := obj.(*certificatesv1beta1.ClusterTrustBundle); ok {
		return &certificatesv1.ClusterTrustBundle{
			ObjectMeta: b.ObjectMeta,
			Spec:       certificatesv1.ClusterTrustBundleSpec{SignerName: b.Spec.SignerName, TrustBundle: b.Spec.TrustBundle},
		}
	}
	return obj
}
