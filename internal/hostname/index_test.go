package hostname

import (
	"strings"
	"testing"
)

func build(names ...string) Index[string] {
	var b Builder[string]
	for _, n := range names {
		b.Add(n, n)
	}
	return b.Index()
}

func TestIndexLookup(t *testing.T) {
	ix := build("a.example.com", "*.example.com", "*.b.example.com", "*.com", "")
	tests := []struct{ host, want string }{
		{"a.example.com", "a.example.com"},     // exact beats wildcard
		{"c.example.com", "*.example.com"},     // wildcard
		{"x.c.example.com", "*.example.com"},   // wildcard covers several labels
		{"x.b.example.com", "*.b.example.com"}, // longest suffix first
		{"b.example.com", "*.example.com"},     // "*.b.example.com" needs a label
		{"example.com", "*.com"},               // "*.example.com" does not cover it
		{"example.net", ""},                    // default
		{"com", ""},                            // no label in front of ".com"
		{".example.com", "*.com"},              // empty first label is no label
		{"a.example.com.", ""},                 // Lookup wants canonical names
	}
	for _, tt := range tests {
		got, ok := ix.Lookup(tt.host)
		if !ok || got != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.host, got, ok, tt.want)
		}
	}
	none := build("a.example.com")
	if v, ok := none.Lookup("b.example.com"); ok {
		t.Errorf("Lookup without default = %q, true; want false", v)
	}
	if a := testing.AllocsPerRun(100, func() { ix.Lookup("x.c.example.com") }); a != 0 {
		t.Errorf("Lookup allocates %v times", a)
	}
}

func TestIndexLookupSingleLabel(t *testing.T) {
	ix := build("a.example.com", "*.example.com")
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"a.example.com", "a.example.com", true},
		{"c.example.com", "*.example.com", true},
		{"x.c.example.com", "", false}, // "*" is one label in a certificate
		{"example.com", "", false},
		{".example.com", "", false},
	}
	for _, tt := range tests {
		got, ok := ix.LookupSingleLabel(tt.name)
		if ok != tt.ok || got != tt.want {
			t.Errorf("LookupSingleLabel(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBuilderKeepsFirst(t *testing.T) {
	var b Builder[int]
	for i, h := range []string{"a.example.com", "A.example.com.", "*.example.com", "*.EXAMPLE.com", "", "*"} {
		added := b.Add(h, i)
		if want := i%2 == 0; added != want {
			t.Errorf("Add(%q) = %v; want %v", h, added, want)
		}
	}
	ix := b.Index()
	for host, want := range map[string]int{"a.example.com": 0, "b.example.com": 2, "other": 4} {
		if got, _ := ix.Lookup(host); got != want {
			t.Errorf("Lookup(%q) = %d; want %d (first added)", host, got, want)
		}
	}
}

// scan is the plain reading of the rules that Index must agree with: exact
// name, else the covering wildcard with the longest suffix (Matches), else
// the default.
func scan(names []string, host string) (string, bool) {
	best, found := "", false
	for _, n := range names {
		switch p := Parse(n); p.Kind {
		case Exact:
			if p.Key == host {
				return n, true
			}
		case Wildcard:
			if Matches("*"+p.Key, host) && (!found || len(p.Key) > len(Parse(best).Key)) {
				best, found = n, true
			}
		}
	}
	if found {
		return best, true
	}
	for _, n := range names {
		if Parse(n).Kind == Any {
			return n, true
		}
	}
	return "", false
}

// names turns fuzz bytes into hostnames over a few labels, so that they
// collide and cover each other often. A 0xff byte ends a name.
func names(data []byte) []string {
	labels := []string{"a", "b", "ex", "com", "*", "", "A", "b."}
	var out []string
	var cur []string
	for _, c := range data {
		if c == 0xff {
			out = append(out, strings.Join(cur, "."))
			cur = nil
			continue
		}
		cur = append(cur, labels[int(c)%len(labels)])
	}
	return append(out, strings.Join(cur, "."))
}

func FuzzIndex(f *testing.F) {
	f.Add([]byte{0, 2, 3, 0xff, 4, 2, 3, 0xff, 4, 3, 0xff, 0xff, 1, 0, 2, 3})
	f.Add([]byte{4, 1, 2, 3, 0xff, 4, 2, 3, 0xff, 0, 1, 2, 3})
	f.Add([]byte{6, 2, 0xff, 4, 7, 0xff, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		all := names(data)
		hosts, configured := all[len(all)-1:], all[:len(all)-1]
		// Every configured name, made concrete, is a host to try too.
		for _, n := range configured {
			hosts = append(hosts, strings.ReplaceAll(n, "*", "x"), "y."+n)
		}
		var b Builder[string]
		for _, n := range configured {
			b.Add(n, n)
		}
		ix := b.Index()
		for _, h := range hosts {
			h = Canonical(h)
			got, ok := ix.Lookup(h)
			want, wok := scan(configured, h)
			if ok != wok || (ok && Parse(got) != Parse(want)) {
				t.Fatalf("names %q, host %q: Lookup = %q, %v; scan = %q, %v", configured, h, got, ok, want, wok)
			}
		}
	})
}
