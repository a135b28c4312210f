package graph

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

// spec is a listener of protocol kind ("HTTP", "HTTPS", "TLS-Terminate",
// "TLS-Passthrough", "TCP", "UDP") on port with hostname ("" for none).
func spec(kind string, port gwv1.PortNumber, host string) *gwv1.Listener {
	l := &gwv1.Listener{Name: gwv1.SectionName(kind), Port: port}
	switch kind {
	case "TLS-Terminate":
		l.Protocol = gwv1.TLSProtocolType
		l.TLS = &gwv1.ListenerTLSConfig{Mode: ptr.To(gwv1.TLSModeTerminate)}
	case "TLS-Passthrough":
		l.Protocol = gwv1.TLSProtocolType
		l.TLS = &gwv1.ListenerTLSConfig{Mode: ptr.To(gwv1.TLSModePassthrough)}
	default:
		l.Protocol = gwv1.ProtocolType(kind)
	}
	if host != "" {
		l.Hostname = ptr.To(gwv1.Hostname(host))
	}
	return l
}

func (c conflict) String() string {
	return [...]string{"distinct", "HostnameConflict", "ProtocolConflict"}[c]
}

// TestListenerConflictEveryProtocolPair is the v1.7 rule for every pair of
// protocols on one port number. A cell says what two listeners get:
// '-' distinct; 'H' HostnameConflict when their hostnames are equal (both
// empty included), distinct when they differ; 'P' ProtocolConflict whatever
// the hostnames.
func TestListenerConflictEveryProtocolPair(t *testing.T) {
	kinds := []string{"HTTP", "HTTPS", "TLS-Terminate", "TLS-Passthrough", "TCP", "UDP"}
	table := []string{
		//        HTTP HTTPS TLS-T TLS-P TCP UDP
		/* HTTP  */ "HPPPP-",
		/* HTTPS */ "PHHHP-",
		/* TLS-T */ "PHHHP-",
		/* TLS-P */ "PHHHP-",
		/* TCP   */ "PPPPP-",
		/* UDP   */ "-----P",
	}
	hostPairs := []struct {
		name string
		a, b string
		same bool
	}{
		{"equal", "a.example.com", "a.example.com", true},
		{"equal after canonicalisation", "A.Example.com.", "a.example.com", true},
		{"both empty", "", "", true},
		{"different", "a.example.com", "b.example.com", false},
		{"one empty", "", "a.example.com", false},
		{"wildcard and exact", "*.example.com", "a.example.com", false},
	}
	for i, ka := range kinds {
		for j, kb := range kinds {
			for _, hp := range hostPairs {
				t.Run(fmt.Sprintf("%s/%s/%s", ka, kb, hp.name), func(t *testing.T) {
					ha, hb := hp.a, hp.b
					if ka == "TCP" || ka == "UDP" {
						ha = "" // the CRD refuses a hostname on TCP and UDP
					}
					if kb == "TCP" || kb == "UDP" {
						hb = ""
					}
					want := noConflict
					switch table[i][j] {
					case 'P':
						want = protocolConflict
					case 'H':
						if hp.same {
							want = hostnameConflict
						}
					}
					a, b := keyOf(spec(ka, 443, ha)), keyOf(spec(kb, 443, hb))
					if got := listenerConflict(a, b); got != want {
						t.Errorf("%s %q and %s %q on one port: %v, want %v", ka, ha, kb, hb, got, want)
					}
					if got := listenerConflict(b, a); got != want {
						t.Errorf("not symmetric: %s %q and %s %q: %v, want %v", kb, hb, ka, ha, got, want)
					}
					if got := listenerConflict(a, keyOf(spec(kb, 444, hb))); got != noConflict {
						t.Errorf("%s on 443 and %s on 444: %v, want distinct", ka, kb, got)
					}
				})
			}
		}
	}
}

// TCP and UDP on one port number are different sockets; UDP and any
// TCP-network protocol likewise.
func TestListenerConflictNetworks(t *testing.T) {
	for _, p := range []string{"HTTP", "HTTPS", "TLS-Passthrough", "TCP"} {
		if got := listenerConflict(keyOf(spec("UDP", 53, "")), keyOf(spec(p, 53, ""))); got != noConflict {
			t.Errorf("UDP and %s on 53: %v, want distinct", p, got)
		}
	}
	if k := keyOf(spec("UDP", 53, "")); k.network() != networkUDP || k.portLabel() != "53/udp" {
		t.Errorf("UDP listener: network %v, port %s", k.network(), k.portLabel())
	}
	if k := keyOf(spec("TCP", 53, "")); k.network() != networkTCP || k.portLabel() != "53" {
		t.Errorf("TCP listener: network %v, port %s", k.network(), k.portLabel())
	}
}

// Within one resource nobody wins and a protocol conflict outranks a
// hostname conflict; against listeners of higher precedence the first
// protocol conflict is named, else the first hostname conflict.
func TestGroupAndFirstConflict(t *testing.T) {
	keys := []listenerKey{
		keyOf(spec("HTTPS", 443, "a.example.com")),
		keyOf(spec("TLS-Passthrough", 443, "a.example.com")),
		keyOf(spec("TLS-Terminate", 443, "b.example.com")),
		keyOf(spec("HTTP", 8080, "a.example.com")),
		keyOf(spec("TCP", 8080, "")),
		keyOf(spec("UDP", 8080, "")),
		keyOf(spec("HTTP", 80, "")),
	}
	got := groupConflicts(keys)
	want := []conflict{hostnameConflict, hostnameConflict, noConflict, protocolConflict, protocolConflict, noConflict, noConflict}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("listener %d (%v): %v, want %v", i, keys[i], got[i], want[i])
		}
	}

	claims := []listenerKey{
		keyOf(spec("HTTPS", 443, "a.example.com")),
		keyOf(spec("HTTPS", 443, "b.example.com")),
		keyOf(spec("HTTP", 443, "c.example.com")),
	}
	for _, c := range []struct {
		l    *gwv1.Listener
		idx  int
		want conflict
	}{
		{spec("TLS-Passthrough", 443, "b.example.com"), 2, protocolConflict}, // HTTP is worse than b's name
		{spec("HTTPS", 8443, "a.example.com"), -1, noConflict},
		{spec("UDP", 443, ""), -1, noConflict},
	} {
		i, why := firstConflict(claims, keyOf(c.l))
		if i != c.idx || why != c.want {
			t.Errorf("%s %v: claim %d %v, want %d %v", c.l.Protocol, c.l.Hostname, i, why, c.idx, c.want)
		}
	}
	i, why := firstConflict(claims[:2], keyOf(spec("TLS-Terminate", 443, "b.example.com")))
	if i != 1 || why != hostnameConflict {
		t.Errorf("TLS b.example.com against HTTPS a, b: claim %d %v, want 1 HostnameConflict", i, why)
	}
}

// A ListenerSet's listeners against its Gateway's, by the v1.7 rule: TLS
// shares the HTTPS port by hostname and UDP does not collide with TCP on
// the same port number, so they are only UnsupportedProtocol (until Portico
// serves them); TLS on the HTTPS listener's hostname and TCP on the HTTPS
// port are conflicts. Before the one rule, all four were ProtocolConflict.
func TestListenerSetDistinctnessByV17(t *testing.T) {
	https := *spec("HTTPS", 443, "a.example.com")
	https.Name = "https"
	https.TLS = &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}}
	gw := lsGateway(gwv1.NamespacesFromSame, httpListener("http", "gw.example.com", 80), https)
	named := func(name string, l *gwv1.Listener) gwv1.Listener {
		l.Name = gwv1.SectionName(name)
		return *l
	}
	ls := listenerSet("infra", "ls", time.Second,
		named("tls-other-host", spec("TLS-Passthrough", 443, "b.example.com")),
		named("tls-same-host", spec("TLS-Terminate", 443, "a.example.com")),
		named("udp-on-80", spec("UDP", 80, "")),
		named("tcp-on-443", spec("TCP", 443, "")),
		named("http-on-443", spec("HTTP", 443, "c.example.com")))
	g := buildLS(t, &resource.Snapshot{Gateways: []*gwv1.Gateway{gw}, ListenerSets: []*gwv1.ListenerSet{ls}})
	for _, l := range g.Gateways[0].Listeners {
		if got := reason(l.Conditions, "Conflicted"); got != "False/NoConflicts" {
			t.Errorf("Gateway listener %s: Conflicted = %s; a ListenerSet must not change it", l.Spec.Name, got)
		}
	}
	unsupported := [2]string{"False/UnsupportedProtocol", "False/NoConflicts"}
	want := map[string][2]string{
		"tls-other-host": unsupported,
		"udp-on-80":      unsupported,
		"tls-same-host":  {"False/HostnameConflict", "True/HostnameConflict"},
		"tcp-on-443":     {"False/ProtocolConflict", "True/ProtocolConflict"},
		"http-on-443":    {"False/ProtocolConflict", "True/ProtocolConflict"},
	}
	got := listenerReasons(findLS(t, g, "infra", "ls").Listeners)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("listener %s: Accepted, Conflicted = %v, want %v", name, got[name], w)
		}
	}
}

// Within one Gateway and across Gateways sharing a socket, hostnames are
// compared in their canonical form: "A.Example.com." is "a.example.com".
func TestCanonicalHostnamesConflict(t *testing.T) {
	gw := func(name string, age time.Duration, listeners ...gwv1.Listener) *gwv1.Gateway {
		g := lsGateway("", listeners...)
		g.Name = name
		g.CreationTimestamp.Time = t0.Add(age)
		return g
	}
	first := gw("first", 0, httpListener("a", "a.example.com", 8080))
	second := gw("second", time.Second, httpListener("a", "A.Example.com.", 8080), httpListener("b", "b.example.com", 8080))
	own := gw("own", 2*time.Second, httpListener("x", "x.example.com", 9090), httpListener("y", "X.example.com", 9090))
	s := &resource.Snapshot{Gateways: []*gwv1.Gateway{own, second, first}, Standalone: true}
	g := Build(s, Options{BindAddress: "127.0.0.1", SharedSockets: true})
	byName := map[string]*Gateway{}
	for _, x := range g.Gateways {
		byName[x.Object.Name] = x
	}
	want := map[string]map[string][2]string{
		"first":  {"a": {"True/Accepted", "False/NoConflicts"}},
		"second": {"a": {"False/PortUnavailable", "False/NoConflicts"}, "b": {"True/Accepted", "False/NoConflicts"}},
		"own":    {"x": {"True/Accepted", "True/HostnameConflict"}, "y": {"True/Accepted", "True/HostnameConflict"}},
	}
	for gwName, ls := range want {
		got := listenerReasons(byName[gwName].Listeners)
		for name, w := range ls {
			if got[name] != w {
				t.Errorf("Gateway %s listener %s: Accepted, Conflicted = %v, want %v", gwName, name, got[name], w)
			}
		}
	}
}

// Across Gateways sharing an address, a socket is (network, address, port):
// a UDP listener does not take the TCP socket of the same port number, and
// a TCP listener is refused there with the owner named.
func TestSharingConflictBySocket(t *testing.T) {
	a := &Gateway{Object: lsGateway(""), Addresses: []string{"127.0.0.1"}}
	a.Object.Name = "a"
	b := &Gateway{Object: lsGateway(""), Addresses: []string{"127.0.0.1"}}
	b.Object.Name = "b"
	tcp := keyOf(spec("TCP", 53, ""))
	sockets := map[socket][]socketClaim{
		{networkTCP, "127.0.0.1", 53}: {{tcp, &Listener{Gateway: a, Spec: spec("TCP", 53, "")}}},
	}
	if msg := sharingConflict(sockets, b, keyOf(spec("UDP", 53, ""))); msg != "" {
		t.Errorf("UDP 53 beside TCP 53: %q, want no conflict", msg)
	}
	if msg := sharingConflict(sockets, a, tcp); msg != "" {
		t.Errorf("a Gateway against its own listener: %q, want no conflict", msg)
	}
	want := "127.0.0.1:53 is already served with protocol TCP by Gateway infra/a; use another port or address"
	if msg := sharingConflict(sockets, b, tcp); msg != want {
		t.Errorf("TCP 53 of another Gateway: %q, want %q", msg, want)
	}
}

// ListenerSet precedence under the one rule: the Gateway's listeners, then
// ListenerSets oldest first, then by "namespace/name"; the earlier claim
// wins and the message names whose it is as far as the loser may know.
func TestListenerSetPrecedenceTable(t *testing.T) {
	tls := *spec("TLS-Passthrough", 80, "t.example.com")
	tls.Name = "tls"
	gw := lsGateway(gwv1.NamespacesFromAll, httpListener("gw", "gw.example.com", 80))
	sets := []*gwv1.ListenerSet{
		listenerSet("b", "later-name", time.Second, httpListener("b", "b.example.com", 80), tls),
		listenerSet("a", "first-name", time.Second, httpListener("b", "b.example.com", 80)),
		listenerSet("c", "newest", 3*time.Second, httpListener("c", "c.example.com", 80), httpListener("gw", "gw.example.com", 80)),
		listenerSet("d", "oldest", 0, httpListener("c", "c.example.com", 80)),
	}
	g := buildLS(t, &resource.Snapshot{Gateways: []*gwv1.Gateway{gw}, ListenerSets: sets})
	for _, c := range []struct {
		ns, set, listener, conflicted, msg string
	}{
		{"d", "oldest", "c", "False/NoConflicts", ""},
		{"a", "first-name", "b", "False/NoConflicts", ""},
		{"b", "later-name", "b", "True/HostnameConflict", "a listener of another ListenerSet"},
		{"b", "later-name", "tls", "True/ProtocolConflict", "port 80 is already used with protocol HTTP by listener gw of the parent Gateway infra/gw"},
		{"c", "newest", "c", "True/HostnameConflict", "a listener of another ListenerSet"},
		{"c", "newest", "gw", "True/HostnameConflict", "listener gw of the parent Gateway infra/gw"},
	} {
		var l *Listener
		for _, x := range findLS(t, g, c.ns, c.set).Listeners {
			if string(x.Spec.Name) == c.listener {
				l = x
			}
		}
		if got := reason(l.Conditions, "Conflicted"); got != c.conflicted {
			t.Errorf("%s/%s listener %s: Conflicted = %s, want %s", c.ns, c.set, c.listener, got, c.conflicted)
		}
		if cond := meta.FindStatusCondition(l.Conditions, "Conflicted"); !strings.Contains(cond.Message, c.msg) {
			t.Errorf("%s/%s listener %s: message %q does not say %q", c.ns, c.set, c.listener, cond.Message, c.msg)
		}
	}
}
