package graph

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func lsGateway(from gwv1.FromNamespaces, listeners ...gwv1.Listener) *gwv1.Gateway {
	gw := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "gw", Generation: 1, CreationTimestamp: metav1.NewTime(t0)},
		Spec:       gwv1.GatewaySpec{GatewayClassName: resource.DefaultGatewayClass, Listeners: listeners},
	}
	if from != "" {
		gw.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr.To(from)}}
	}
	resource.DefaultGateway(gw)
	return gw
}

func listenerSet(ns, name string, age time.Duration, listeners ...gwv1.Listener) *gwv1.ListenerSet {
	ls := &gwv1.ListenerSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(t0.Add(age))},
		Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{
			Name: "gw", Namespace: ptr.To(gwv1.Namespace("infra"))}},
	}
	for _, l := range listeners {
		ls.Spec.Listeners = append(ls.Spec.Listeners, gwv1.ListenerEntry(l))
	}
	resource.DefaultListenerSet(ls)
	return ls
}

func httpListener(name, hostname string, port gwv1.PortNumber) gwv1.Listener {
	l := gwv1.Listener{Name: gwv1.SectionName(name), Port: port, Protocol: gwv1.HTTPProtocolType}
	if hostname != "" {
		l.Hostname = ptr.To(gwv1.Hostname(hostname))
	}
	return l
}

func withProtocol(l gwv1.Listener, p gwv1.ProtocolType) gwv1.Listener {
	l.Protocol = p
	return l
}

func buildLS(t *testing.T, s *resource.Snapshot) *Graph {
	t.Helper()
	s.Standalone = true
	return Build(s, Options{BindAddress: "127.0.0.1"})
}

func findLS(t *testing.T, g *Graph, ns, name string) *ListenerSet {
	t.Helper()
	for _, ls := range g.ListenerSets {
		if ls.Object.Namespace == ns && ls.Object.Name == name {
			return ls
		}
	}
	t.Fatalf("ListenerSet %s/%s not in the graph", ns, name)
	return nil
}

func reason(cs []metav1.Condition, typ string) string {
	c := meta.FindStatusCondition(cs, typ)
	if c == nil {
		return "<none>"
	}
	return string(c.Status) + "/" + c.Reason
}

func listenerReasons(ls []*Listener) map[string][2]string {
	out := map[string][2]string{}
	for _, l := range ls {
		out[string(l.Spec.Name)] = [2]string{reason(l.Conditions, "Accepted"), reason(l.Conditions, "Conflicted")}
	}
	return out
}

func TestListenerSetAllowedListeners(t *testing.T) {
	tests := []struct {
		name    string
		from    gwv1.FromNamespaces
		lsNS    string
		labels  map[string]string
		want    string
		attachd int
	}{
		{"unset means None", "", "infra", nil, "False/NotAllowed", 0},
		{"None", gwv1.NamespacesFromNone, "infra", nil, "False/NotAllowed", 0},
		{"Same, same namespace", gwv1.NamespacesFromSame, "infra", nil, "True/Accepted", 1},
		{"Same, other namespace", gwv1.NamespacesFromSame, "apps", nil, "False/NotAllowed", 0},
		{"All", gwv1.NamespacesFromAll, "apps", nil, "True/Accepted", 1},
		{"Selector, matching", gwv1.NamespacesFromSelector, "apps", map[string]string{"team": "a"}, "True/Accepted", 1},
		{"Selector, not matching", gwv1.NamespacesFromSelector, "apps", map[string]string{"team": "b"}, "False/NotAllowed", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw := lsGateway(tc.from, httpListener("http", "gw.example.com", 80))
			if tc.from == gwv1.NamespacesFromSelector {
				gw.Spec.AllowedListeners.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
			}
			g := buildLS(t, &resource.Snapshot{
				Gateways:     []*gwv1.Gateway{gw},
				ListenerSets: []*gwv1.ListenerSet{listenerSet(tc.lsNS, "ls", time.Second, httpListener("a", "a.example.com", 80))},
				Namespaces:   []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: tc.lsNS, Labels: tc.labels}}},
			})
			ls := findLS(t, g, tc.lsNS, "ls")
			if got := reason(ls.Conditions, "Accepted"); got != tc.want {
				t.Errorf("Accepted = %s, want %s", got, tc.want)
			}
			if got := len(g.Gateways[0].ListenerSets); got != tc.attachd {
				t.Errorf("attached ListenerSets = %d, want %d", got, tc.attachd)
			}
			if tc.attachd == 0 && ls.Listeners != nil {
				t.Errorf("a ListenerSet that is not attached has listeners: %v", listenerReasons(ls.Listeners))
			}
		})
	}
}

// The parent Gateway's listeners come first, then ListenerSets oldest
// first, then by namespace/name; the first of two indistinct listeners
// across resources wins, the later one is Accepted=False and Conflicted.
func TestListenerSetPrecedence(t *testing.T) {
	gw := lsGateway(gwv1.NamespacesFromAll,
		httpListener("gw", "gw.example.com", 80),
		httpListener("shared", "shared.example.com", 80))
	older := listenerSet("b", "older", time.Second,
		httpListener("own", "older.example.com", 80),
		httpListener("shared", "shared.example.com", 80), // loses to the Gateway
		httpListener("ls", "ls.example.com", 80))         // wins over "newer"
	newer := listenerSet("a", "newer", 2*time.Second,
		httpListener("ls", "ls.example.com", 80),
		httpListener("own", "newer.example.com", 80))
	// As old as "older" and after it by namespace/name.
	sameAge := listenerSet("c", "same-age", time.Second, httpListener("ls", "ls.example.com", 80))
	g := buildLS(t, &resource.Snapshot{
		Gateways:     []*gwv1.Gateway{gw},
		ListenerSets: []*gwv1.ListenerSet{newer, sameAge, older},
	})

	for _, l := range g.Gateways[0].Listeners {
		if !l.Valid() {
			t.Errorf("Gateway listener %s lost to a ListenerSet: %v", l.Spec.Name, l.Conditions)
		}
	}
	if c := meta.FindStatusCondition(g.Gateways[0].Conditions, "Accepted"); c.Reason != "Accepted" {
		t.Errorf("Gateway Accepted reason = %s; ListenerSets must not change it", c.Reason)
	}
	want := map[string]map[string][2]string{
		"older": {
			"own":    {"True/Accepted", "False/NoConflicts"},
			"shared": {"False/HostnameConflict", "True/HostnameConflict"},
			"ls":     {"True/Accepted", "False/NoConflicts"},
		},
		"newer": {
			"ls":  {"False/HostnameConflict", "True/HostnameConflict"},
			"own": {"True/Accepted", "False/NoConflicts"},
		},
		"same-age": {
			"ls": {"False/HostnameConflict", "True/HostnameConflict"},
		},
	}
	for _, ls := range g.ListenerSets {
		got := listenerReasons(ls.Listeners)
		for name, w := range want[ls.Object.Name] {
			if got[name] != w {
				t.Errorf("%s listener %s: Accepted, Conflicted = %v, want %v", ls.Object.Name, name, got[name], w)
			}
		}
	}
	if got := reason(findLS(t, g, "b", "older").Conditions, "Accepted"); got != "True/ListenersNotValid" {
		t.Errorf("older: Accepted = %s, want True/ListenersNotValid", got)
	}
	if got := reason(findLS(t, g, "c", "same-age").Conditions, "Accepted"); got != "False/ListenersNotValid" {
		t.Errorf("same-age: Accepted = %s, want False/ListenersNotValid", got)
	}
	var order []string
	for _, ls := range g.Gateways[0].ListenerSets {
		order = append(order, ls.Object.Name)
	}
	if len(order) != 2 || order[0] != "older" || order[1] != "newer" {
		t.Errorf("attached ListenerSets = %v, want [older newer]", order)
	}
	var all []string
	for _, l := range g.Gateways[0].AllListeners() {
		if l.Serving() {
			all = append(all, l.Hostname())
		}
	}
	wantAll := []string{"gw.example.com", "shared.example.com", "older.example.com", "ls.example.com", "newer.example.com"}
	if len(all) != len(wantAll) {
		t.Fatalf("served hostnames = %v, want %v", all, wantAll)
	}
	for i := range all {
		if all[i] != wantAll[i] {
			t.Fatalf("served hostnames = %v, want %v", all, wantAll)
		}
	}
}

// A ListenerSet listener on a port the Gateway serves with another protocol
// is a ProtocolConflict, even when Portico could not serve its protocol.
func TestListenerSetProtocolConflict(t *testing.T) {
	gw := lsGateway(gwv1.NamespacesFromSame, httpListener("http", "", 80))
	ls := listenerSet("infra", "ls", time.Second,
		withProtocol(httpListener("tcp", "", 80), gwv1.TCPProtocolType),
		withProtocol(httpListener("tcp-elsewhere", "", 9000), gwv1.TCPProtocolType))
	g := buildLS(t, &resource.Snapshot{Gateways: []*gwv1.Gateway{gw}, ListenerSets: []*gwv1.ListenerSet{ls}})
	got := listenerReasons(findLS(t, g, "infra", "ls").Listeners)
	if w := [2]string{"False/ProtocolConflict", "True/ProtocolConflict"}; got["tcp"] != w {
		t.Errorf("tcp on 80: %v, want %v", got["tcp"], w)
	}
	if w := [2]string{"False/UnsupportedProtocol", "False/NoConflicts"}; got["tcp-elsewhere"] != w {
		t.Errorf("tcp on 9000: %v, want %v", got["tcp-elsewhere"], w)
	}
}

// Within one ListenerSet, as within one Gateway, no indistinct listener
// wins.
func TestListenerSetConflictWithinItself(t *testing.T) {
	gw := lsGateway(gwv1.NamespacesFromSame, httpListener("http", "gw.example.com", 80))
	https := withProtocol(httpListener("https", "b.example.com", 8080), gwv1.HTTPSProtocolType)
	https.TLS = &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}}
	ls := listenerSet("infra", "ls", time.Second, httpListener("http", "a.example.com", 8080), https)
	g := buildLS(t, &resource.Snapshot{Gateways: []*gwv1.Gateway{gw}, ListenerSets: []*gwv1.ListenerSet{ls}})
	set := findLS(t, g, "infra", "ls")
	for name, r := range listenerReasons(set.Listeners) {
		if r[1] != "True/ProtocolConflict" {
			t.Errorf("listener %s: Conflicted = %s, want True/ProtocolConflict", name, r[1])
		}
	}
	if got := reason(set.Conditions, "Accepted"); got != "False/ListenersNotValid" {
		t.Errorf("Accepted = %s, want False/ListenersNotValid", got)
	}
}

// The listeners of a ListenerSet that is not accepted claim nothing: a
// newer ListenerSet may serve the same hostname.
func TestListenerSetRejectedClaimsNothing(t *testing.T) {
	gw := lsGateway(gwv1.NamespacesFromSame, httpListener("http", "gw.example.com", 80))
	https := withProtocol(httpListener("https", "a.example.com", 443), gwv1.HTTPSProtocolType)
	https.TLS = &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "missing"}}}
	broken := listenerSet("infra", "broken", time.Second, https)
	good := listenerSet("infra", "good", 2*time.Second, withProtocol(httpListener("https", "a.example.com", 443), gwv1.HTTPSProtocolType))
	good.Spec.Listeners[0].TLS = &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "missing-too"}}}
	g := buildLS(t, &resource.Snapshot{Gateways: []*gwv1.Gateway{gw}, ListenerSets: []*gwv1.ListenerSet{broken, good}})
	if got := reason(findLS(t, g, "infra", "broken").Conditions, "Accepted"); got != "False/ListenersNotValid" {
		t.Errorf("broken: Accepted = %s, want False/ListenersNotValid", got)
	}
	if got := listenerReasons(findLS(t, g, "infra", "good").Listeners)["https"]; got[1] != "False/NoConflicts" {
		t.Errorf("good: a rejected ListenerSet's listener conflicted with it: %v", got)
	}
}

// Routes attach to the listeners of the resource their parentRef names: a
// Gateway parentRef never reaches a ListenerSet's listeners, not even by
// sectionName, and a ListenerSet parentRef only its own.
func TestListenerSetRouteAttachment(t *testing.T) {
	gw := lsGateway(gwv1.NamespacesFromSame, httpListener("gw", "gw.example.com", 80))
	gw.Spec.Listeners[0].AllowedRoutes.Namespaces.From = ptr.To(gwv1.NamespacesFromAll)
	ls := listenerSet("infra", "ls", time.Second, httpListener("a", "a.example.com", 80), httpListener("b", "b.example.com", 80))
	route := func(name string, refs ...gwv1.ParentReference) *gwv1.HTTPRoute {
		r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: name, CreationTimestamp: metav1.NewTime(t0)}}
		r.Spec.ParentRefs = refs
		resource.DefaultHTTPRoute(r)
		return r
	}
	gwRef := gwv1.ParentReference{Name: "gw"}
	lsRef := gwv1.ParentReference{Kind: ptr.To(gwv1.Kind("ListenerSet")), Name: "ls"}
	lsRefA := lsRef
	lsRefA.SectionName = ptr.To(gwv1.SectionName("a"))
	gwRefA := gwRef
	gwRefA.SectionName = ptr.To(gwv1.SectionName("a"))
	missing := gwv1.ParentReference{Kind: ptr.To(gwv1.Kind("ListenerSet")), Name: "missing"}
	g := buildLS(t, &resource.Snapshot{
		Gateways:     []*gwv1.Gateway{gw},
		ListenerSets: []*gwv1.ListenerSet{ls},
		HTTPRoutes: []*gwv1.HTTPRoute{
			route("to-gateway", gwRef),
			route("to-ls", lsRef),
			route("to-ls-a", lsRefA),
			route("ls-section-via-gateway", gwRefA),
			route("to-missing", missing),
		},
	})
	want := map[string][]string{ // route -> per parent: Accepted and the listeners bound
		"to-gateway":             {"True/Accepted [gw]"},
		"to-ls":                  {"True/Accepted [a b]"},
		"to-ls-a":                {"True/Accepted [a]"},
		"ls-section-via-gateway": {"False/NoMatchingParent []"},
		"to-missing":             {"False/NoMatchingParent []"},
	}
	for _, r := range g.HTTPRoutes {
		var got []string
		for _, p := range r.Parents {
			got = append(got, parentSummary(p))
		}
		w := want[r.Object.Name]
		if len(got) != len(w) || (len(got) > 0 && got[0] != w[0]) {
			t.Errorf("route %s: parents %v, want %v", r.Object.Name, got, w)
		}
	}
}
