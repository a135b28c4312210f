package hostname

import (
	"slices"
	"testing"
)

func TestIntersect(t *testing.T) {
	tests := []struct {
		listener, route, want string
		ok                    bool
	}{
		{"", "a.example.com", "a.example.com", true},
		{"a.example.com", "", "a.example.com", true},
		{"", "", "", true},
		{"a.example.com", "a.example.com", "a.example.com", true},
		{"*.example.com", "a.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", "", false},
		{"a.example.com", "*.example.com", "a.example.com", true},
		{"*.example.com", "*.a.example.com", "*.a.example.com", true},
		{"*.a.example.com", "*.example.com", "*.a.example.com", true},
		{"*.example.com", "*.example.com", "*.example.com", true},
		{"*.example.com", "*.example.net", "", false},
		{"a.example.com", "b.example.com", "", false},
		{"*.com", "*.example.com", "*.example.com", true},
		{"*.example.com", "aexample.com", "", false},
	}
	for _, tt := range tests {
		got, ok := Intersect(tt.listener, tt.route)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Intersect(%q, %q) = %q, %v; want %q, %v", tt.listener, tt.route, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Name
	}{
		{"", Name{Any, ""}},
		{"*", Name{Any, ""}},
		{"A.Example.COM.", Name{Exact, "a.example.com"}},
		{"*.Example.com", Name{Wildcard, ".example.com"}},
		{"*.example.com.", Name{Wildcard, ".example.com"}},
		{"*foo.example.com", Name{Exact, "*foo.example.com"}},
	}
	for _, tt := range tests {
		if got := Parse(tt.in); got != tt.want {
			t.Errorf("Parse(%q) = %+v; want %+v", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.COM", "example.com"},
		{"example.com.", "example.com"},
		{"example.com:8080", "example.com"},
		{"Example.com.:80", "example.com"},
		{"[::1]:80", "[::1]"},
		{"[::1]", "[::1]"},
		{"[::1", "[::1"},
		{"::1", "::1"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := CanonicalHost(tt.in); got != tt.want {
			t.Errorf("CanonicalHost(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if a := testing.AllocsPerRun(100, func() { CanonicalHost("example.com.:80") }); a != 0 {
		t.Errorf("CanonicalHost of a lower-case host allocates %v times", a)
	}
}

func TestComparePrecedence(t *testing.T) {
	in := []string{"", "*.com", "*.example.com", "b.example.com", "*.a.example.com", "example.com", "a.example.com"}
	want := []string{"a.example.com", "b.example.com", "example.com", "*.a.example.com", "*.example.com", "*.com", ""}
	got := slices.Clone(in)
	slices.SortFunc(got, func(a, b string) int { return ComparePrecedence(Parse(a), Parse(b)) })
	if !slices.Equal(got, want) {
		t.Errorf("sorted by precedence: %q; want %q", got, want)
	}
	if ComparePrecedence(Parse("*"), Parse("")) != 0 {
		t.Error(`"*" and "" must be equal in precedence`)
	}
}

func TestCompareListeners(t *testing.T) {
	in := []string{"", "*.aaaaaaaa.com", "*.b.c.com", "z.com", "a.example.com"}
	want := []string{"a.example.com", "z.com", "*.b.c.com", "*.aaaaaaaa.com", ""}
	got := slices.Clone(in)
	slices.SortFunc(got, CompareListeners)
	if !slices.Equal(got, want) {
		t.Errorf("sorted listeners: %q; want %q", got, want)
	}
}

func TestWildcardKeys(t *testing.T) {
	got := slices.Collect(WildcardKeys("a.b.example.com"))
	want := []string{".b.example.com", ".example.com", ".com"}
	if !slices.Equal(got, want) {
		t.Errorf("WildcardKeys = %q; want %q", got, want)
	}
	got = slices.Collect(WildcardKeys(".example.com"))
	if want := []string{".com"}; !slices.Equal(got, want) {
		t.Errorf("WildcardKeys of a wildcard key = %q; want %q", got, want)
	}
}
