package filter

import (
	"net/http/httptest"
	"testing"

	"portico.dev/portico/internal/ir"
)

func TestReplacePrefix(t *testing.T) {
	cases := []struct {
		path, prefix, repl, want string
		ok                       bool
	}{
		{"/prefix/one/two", "/prefix/one", "/one", "/one/two", true},
		{"/strip-prefix/three", "/strip-prefix", "/", "/three", true},
		{"/strip-prefix", "/strip-prefix", "/", "/", true},
		{"/prefix/rewrite-path-and-modify-headers/one", "/prefix/rewrite-path-and-modify-headers", "/prefix", "/prefix/one", true},
		{"/prefix/x", "/prefix", "/", "/x", true},
		{"/foo/", "/foo", "/bar", "/bar/", true},
		{"/foo/bar", "/foo/", "/baz/", "/baz/bar", true},
		{"/", "/", "/x", "/x", true},
		{"/a/b", "/", "/x", "/x/a/b", true},
		{"/a/b", "/", "/", "/a/b", true},
		{"/foobar", "/foo", "/x", "", false},
		{"/other", "/foo", "/x", "", false},
	}
	for _, c := range cases {
		got, ok := replacePrefix(c.path, c.prefix, c.repl)
		if got != c.want || ok != c.ok {
			t.Errorf("replacePrefix(%q, %q, %q) = %q, %v; want %q, %v", c.path, c.prefix, c.repl, got, ok, c.want, c.ok)
		}
	}
}

// TestRewrite follows conformance tests httproute-rewrite-path.go and
// httproute-rewrite-host.go.
func TestRewrite(t *testing.T) {
	pfx := func(v string) *ir.PathModifier { return &ir.PathModifier{Type: ir.PrefixMatch, Value: v} }
	full := func(v string) *ir.PathModifier { return &ir.PathModifier{Type: ir.FullPath, Value: v} }
	cases := []struct {
		name                 string
		rw                   ir.Rewrite
		target, matched      string
		wantHost, wantTarget string
	}{
		{"prefix", ir.Rewrite{Path: pfx("/one")}, "/prefix/one/two", "/prefix/one", "gw", "/one/two"},
		{"strip prefix", ir.Rewrite{Path: pfx("/")}, "/strip-prefix/three", "/strip-prefix", "gw", "/three"},
		{"strip whole path", ir.Rewrite{Path: pfx("/")}, "/strip-prefix", "/strip-prefix", "gw", "/"},
		{"full path", ir.Rewrite{Path: full("/one")}, "/full/one/two", "/full/one", "gw", "/one"},
		{"query kept", ir.Rewrite{Path: pfx("/one")}, "/prefix/one/two?a=b", "/prefix/one", "gw", "/one/two?a=b"},
		{"escaped kept", ir.Rewrite{Path: pfx("/one")}, "/prefix/a%2Fb", "/prefix", "gw", "/one/a%2Fb"},
		{"prefix without PathPrefix match", ir.Rewrite{Path: pfx("/one")}, "/exact", "", "gw", "/exact"},
		{"hostname", ir.Rewrite{Hostname: "one.example.org"}, "/rewrite-host", "/", "one.example.org", "/rewrite-host"},
		{"hostname and path", ir.Rewrite{Hostname: "example.org", Path: full("/x")}, "/y", "/", "example.org", "/x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := matched(newReq("GET", "gw", c.target), c.matched)
			orig := r.URL
			var got seen
			Rewrite(&c.rw)(&got).ServeHTTP(httptest.NewRecorder(), r)
			if got.r.Host != c.wantHost || got.r.URL.RequestURI() != c.wantTarget {
				t.Errorf("got %s %s, want %s %s", got.r.Host, got.r.URL.RequestURI(), c.wantHost, c.wantTarget)
			}
			if orig.RequestURI() != c.target {
				t.Errorf("original URL modified: %s", orig.RequestURI())
			}
		})
	}
}
