package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHostPolicy(t *testing.T) {
	for _, tc := range []struct {
		admin string
		extra []string
		host  string
		want  bool
	}{
		{"127.0.0.1:9901", nil, "localhost", true},
		{"127.0.0.1:9901", nil, "LOCALHOST:9901", true},
		{"127.0.0.1:9901", nil, "localhost.", true},
		{"127.0.0.1:9901", nil, "127.0.0.1:9901", true},
		{"127.0.0.1:9901", nil, "127.8.9.10", true},
		{"127.0.0.1:9901", nil, "[::1]:9901", true},
		{"127.0.0.1:9901", nil, "::1", true},
		{"127.0.0.1:9901", nil, "", true},
		{"127.0.0.1:9901", nil, "evil.example.com", false},
		{"127.0.0.1:9901", nil, "evil.example.com:9901", false},
		{"127.0.0.1:9901", nil, "localhost.evil.example.com", false},
		{"127.0.0.1:9901", nil, "10.0.0.5:9901", false},
		{"10.0.0.5:9901", nil, "10.0.0.5:9901", true},
		{"10.0.0.5:9901", nil, "10.0.0.6:9901", false},
		{"0.0.0.0:9901", nil, "10.0.0.6:9901", true},
		{"0.0.0.0:9901", nil, "evil.example.com", false},
		{"[::]:9901", nil, "[fd00::1]:9901", true},
		{"127.0.0.1:9901", []string{"portico.internal", "10.1.2.3"}, "Portico.Internal:9901", true},
		{"127.0.0.1:9901", []string{"portico.internal", "10.1.2.3"}, "10.1.2.3", true},
		{"127.0.0.1:9901", []string{"*"}, "anything.example.com", true},
	} {
		if got := NewHostPolicy(tc.admin, tc.extra).Allows(tc.host); got != tc.want {
			t.Errorf("admin %s, extra %q: Allows(%q) = %v, want %v", tc.admin, tc.extra, tc.host, got, tc.want)
		}
	}
}

func TestWithHostCheckAnswers403(t *testing.T) {
	h := WithHostCheck(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }),
		NewHostPolicy("127.0.0.1:9901", nil))
	for host, want := range map[string]int{"127.0.0.1:9901": 200, "rebind.example.com": 403} {
		req := httptest.NewRequest("GET", "/config", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: got %d, want %d (%s)", host, rec.Code, want, rec.Body)
		}
	}
}
