package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"portico.dev/portico/internal/ir"
)

// TestSNITableRules pins how a ClientHello's server name picks the virtual
// host (exact, longest wildcard, the one without hostname, else the first)
// and the certificate (exact SAN, one-label wildcard SAN, else the first).
func TestSNITableRules(t *testing.T) {
	pool := x509.NewCertPool()
	exact := selfSigned(t, pool, "exact", "a.example.com")
	wild := selfSigned(t, pool, "wild", "*.example.com", "example.com")
	deep := selfSigned(t, pool, "deep", "*.b.example.com")
	other := selfSigned(t, pool, "other", "Other.example.net", "*.Example.NET")
	dup := selfSigned(t, pool, "dup", "other.example.net")
	l := &ir.Listener{VirtualHosts: []ir.VirtualHost{
		tlsVHost("a.example.com", []ir.Certificate{exact}),
		tlsVHost("A.Example.com.", []ir.Certificate{wild}), // same name: the first keeps it
		tlsVHost("*.example.com", []ir.Certificate{wild}),
		tlsVHost("*.b.example.com", []ir.Certificate{deep}),
		tlsVHost("*.net", []ir.Certificate{deep, other, dup}),
	}}
	tbl, err := newSNITable(l)
	if err != nil {
		t.Fatal(err)
	}
	vhosts := map[string]int{
		"a.example.com":     0,
		"A.EXAMPLE.COM.":    0, // case and trailing dot do not matter
		"x.example.com":     2,
		"x.y.example.com":   2, // a listener wildcard covers several labels
		"x.b.example.com":   3, // longest wildcard first
		"b.example.com":     2,
		"example.com":       0, // no VirtualHost accepts it: the first one
		"other.example.net": 4,
		"":                  0, // no SNI
	}
	for name, want := range vhosts {
		if got, wantV := tbl.forName(name), tbl.forName(l.VirtualHosts[want].Hostname); got != wantV {
			t.Errorf("forName(%q) is not virtual host %d (%q)", name, want, l.VirtualHosts[want].Hostname)
		}
	}
	certs := []struct {
		vhost      int
		name, want string
	}{
		{4, "other.example.net", "Other.example.net"}, // exact SAN, case-insensitive, first certificate naming it
		{4, "x.example.net", "Other.example.net"},     // one-label wildcard SAN
		{4, "x.y.example.net", "*.b.example.com"},     // a SAN wildcard is one label: the first certificate
		{4, "", "*.b.example.com"},                    // no SNI: the first certificate
		{2, "example.com", "*.example.com"},
	}
	for _, c := range certs {
		v := tbl.forName(l.VirtualHosts[c.vhost].Hostname)
		got, err := v.certificate(&tls.ClientHelloInfo{ServerName: c.name})
		if err != nil {
			t.Fatal(err)
		}
		if n := got.Leaf.DNSNames[0]; n != c.want {
			t.Errorf("virtual host %d, server name %q: certificate %q, want %q", c.vhost, c.name, n, c.want)
		}
	}
}
