package urlpath

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/admin", "/admin"},
		{"/admin/", "/admin/"},
		{"/a/b/c", "/a/b/c"},
		{"/public/../admin/x", "/admin/x"},
		{"/public/%2e%2e/admin", "/admin"},
		{"/public/%2E%2E/admin", "/admin"},
		{"/public/.%2e/admin", "/admin"},
		{"//admin", "/admin"},
		{"///admin//x//", "/admin/x/"},
		{"/./admin", "/admin"},
		{"/%61dmin", "/admin"},
		{"/%41%44%4d%49%4E", "/ADMIN"},
		{"/%7e%2D%5f%2E", "/~-_."},
		{"/a%2fb", "/a%2Fb"},
		{"/a%2Fb", "/a%2Fb"},
		{"/a%5cb", "/a%5Cb"},
		{"/a/%2F/b", "/a/%2F/b"},
		{"/%2e%2e%2fadmin", "/..%2Fadmin"},
		{"/a;b=c/d", "/a;b=c/d"},
		{"/admin;x", "/admin;x"},
		{"/a/.", "/a/"},
		{"/a/..", "/"},
		{"/a/b/..", "/a/"},
		{"/a/b/../", "/a/"},
		{"/a/./b/../../c", "/c"},
		{"/a//../b", "/b"},
		{"/.", "/"},
		{"/..a/.b/...", "/..a/.b/..."},
		{"/a b", "/a%20b"},
		{`/a"b<c>{d}|e^f` + "`", "/a%22b%3Cc%3E%7Bd%7D%7Ce%5Ef%60"},
		{"/é", "/%C3%A9"},
		{"/%c3%a9", "/%C3%A9"},
		{"/a#b", "/a%23b"},
		{"/[::1]:@!$&'()*+,=", "/[::1]:@!$&'()*+,="},
		{"/%01", "/%01"},
	} {
		got, err := Normalize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if again, err := Normalize(got); err != nil || again != got {
			t.Errorf("Normalize(%q) = %q, %v; not idempotent", got, again, err)
		}
		if IsNormal(tc.in) != (tc.in == tc.want) {
			t.Errorf("IsNormal(%q) = %v", tc.in, !(tc.in == tc.want))
		}
	}
}

func TestNormalizeRefuses(t *testing.T) {
	for _, in := range []string{
		"",
		"admin",
		"*",
		"http://h/x",
		"/..",
		"/../admin",
		"/a/../../admin",
		"/%2e%2e/admin",
		"/a%",
		"/a%2",
		"/a%zz",
		"/a%2g",
		"/a%00b",
		"/a\x00b",
		"/a\rb",
		"/a\nb",
		"/a\tb",
		"/a\x7fb",
		`/a\b`,
		`/public\..\admin`,
		"/..;/admin",
		"/public/..;/admin",
		"/public/..;x=1/admin",
		"/public/.;/admin",
		"/public/%2e%2e;/admin",
		"/public/%2e;x",
	} {
		got, err := Normalize(in)
		if err == nil || !errors.Is(err, ErrPath) {
			t.Errorf("Normalize(%q) = %q, %v; want an ErrPath", in, got, err)
		}
		if IsNormal(in) {
			t.Errorf("IsNormal(%q) = true", in)
		}
	}
}

func TestNormalizeDoesNotAllocate(t *testing.T) {
	p := "/api/v1/users/1234;v=2/orders%2Fitems/~me/[x]"
	if n := testing.AllocsPerRun(100, func() {
		if q, err := Normalize(p); err != nil || q != p {
			t.Fatal(q, err)
		}
	}); n != 0 {
		t.Fatalf("Normalize of a normal path allocated %v times", n)
	}
}

func BenchmarkNormalize(b *testing.B) {
	for _, p := range []string{"/", "/api/v1/users/1234/orders", "/static/js/app.0123456789abcdef.min.js"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Normalize(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("dirty", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Normalize("/public/%2e%2e//admin/./x"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "//x", "/%2e%2E/", "/a%2fb", "/..;/", "/a;b/./c/..", "/é", `/a\b`, "/%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		n, err := Normalize(p)
		if err != nil {
			if !errors.Is(err, ErrPath) {
				t.Fatalf("Normalize(%q): error %v is not an ErrPath", p, err)
			}
			if IsNormal(p) {
				t.Fatalf("IsNormal(%q) but Normalize refuses it", p)
			}
			return
		}
		if IsNormal(p) != (n == p) {
			t.Fatalf("IsNormal(%q) = %v, Normalize = %q", p, IsNormal(p), n)
		}
		if !IsNormal(n) {
			t.Fatalf("Normalize(%q) = %q, which IsNormal refuses", p, n)
		}
		if again, err := Normalize(n); err != nil || again != n {
			t.Fatalf("Normalize(%q) = %q, then %q, %v", p, n, again, err)
		}
		if n[0] != '/' || strings.Contains(n, "//") {
			t.Fatalf("Normalize(%q) = %q", p, n)
		}
		for _, seg := range strings.Split(n[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("Normalize(%q) = %q: dot segment", p, n)
			}
		}
		for i := 0; i < len(n); i++ {
			c := n[i]
			if c < 0x21 || c >= 0x7f || c == '\\' {
				t.Fatalf("Normalize(%q) = %q: raw byte %#x", p, n, c)
			}
			if c == '%' {
				v, _ := unhex(n[i+1])
				l, _ := unhex(n[i+2])
				if unreserved[v<<4|l] || strings.ContainsAny(n[i+1:i+3], "abcdef") {
					t.Fatalf("Normalize(%q) = %q: escape %s", p, n, n[i:i+3])
				}
			}
		}
	})
}
