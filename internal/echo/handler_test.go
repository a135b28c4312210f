package echo

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testOptions() Options {
	return Options{
		Name:      "echo-v1-abc",
		Namespace: "demo",
		Service:   "echo-v1",
		Ingress:   "gw",
		HTTPPort:  "3000",
		Logger:    slog.New(slog.DiscardHandler),
	}
}

func newTestServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(opts))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the body of %s: %v", req.URL, err)
	}
	return resp, body
}

func TestEchoReportsTheRequest(t *testing.T) {
	srv := newTestServer(t, testOptions())
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/a//b?x=1&y=2", strings.NewReader("ignored"))
	req.Host = "example.com"
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")

	resp, body := get(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want exactly application/json (the suite parses only that)", ct)
	}
	var got Echo
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not echo JSON: %v\n%s", err, body)
	}
	want := Echo{
		Path: "/a//b?x=1&y=2", Host: "example.com", Method: "POST", Proto: "HTTP/1.1",
		HTTPPort: "3000", Namespace: "demo", Ingress: "gw", Service: "echo-v1", Pod: "echo-v1-abc",
	}
	if diff := cmp.Diff(want.Path, got.Path); diff != "" {
		t.Errorf("path (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one", "two"}, got.Headers["X-Multi"]); diff != "" {
		t.Errorf("headers[X-Multi] (-want +got):\n%s", diff)
	}
	got.Headers = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("echo (-want +got):\n%s", diff)
	}
}

func TestEchoJSONFieldNames(t *testing.T) {
	srv := newTestServer(t, testOptions())
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	_, body := get(t, req)
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"path", "host", "method", "proto", "headers", "httpPort", "namespace", "ingress", "service", "pod"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("echo JSON lacks %q: %s", k, body)
		}
	}
	if _, ok := raw["tls"]; ok {
		t.Errorf("plain HTTP echo has a tls field: %s", body)
	}
}

func TestEchoSetHeader(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   http.Header
	}{
		{"none", nil, http.Header{}},
		{"empty", []string{""}, http.Header{}},
		{"one", []string{"X-Foo:bar"}, http.Header{"X-Foo": {"bar"}}},
		{"several with spaces", []string{"X-Foo: bar , X-Baz:qux"}, http.Header{"X-Foo": {"bar"}, "X-Baz": {"qux"}}},
		{"repeated name joins", []string{"X-Foo:a,X-Foo:b"}, http.Header{"X-Foo": {"a,b"}}},
		{"case kept", []string{"x-lower:v"}, http.Header{"x-lower": {"v"}}},
		{"two header lines", []string{"X-A:1", "X-B:2"}, http.Header{"X-A": {"1"}, "X-B": {"2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := http.Header{}
			setEchoHeaders(got, tt.values)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEchoSetHeaderOverHTTP(t *testing.T) {
	srv := newTestServer(t, testOptions())
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.Header.Set("X-Echo-Set-Header", "X-Header-Set:set-overwrites-values,X-Other:1")
	resp, _ := get(t, req)
	if got := resp.Header.Get("X-Header-Set"); got != "set-overwrites-values" {
		t.Errorf("X-Header-Set = %q", got)
	}
	if got := resp.Header.Get("X-Other"); got != "1" {
		t.Errorf("X-Other = %q", got)
	}
}

func TestDelay(t *testing.T) {
	srv := newTestServer(t, testOptions())
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/slow?delay=200ms", nil)
	resp, _ := get(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("answered after %v, want at least 200ms", d)
	}

	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/slow?delay=soon", nil)
	if resp, body := get(t, req); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad delay: status = %d, want 400; body %s", resp.StatusCode, body)
	}
}

func TestStatusAndHealth(t *testing.T) {
	srv := newTestServer(t, testOptions())
	tests := []struct {
		path     string
		want     int
		wantBody string
	}{
		{"/status/204", 204, ""},
		{"/status/503", 503, ""},
		{"/status/418?x=y", 418, ""},
		{"/status/42", 400, ""},
		{"/status/abc", 400, ""},
		{"/health", 200, "OK"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
		resp, body := get(t, req)
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s: status = %d, want %d", tt.path, resp.StatusCode, tt.want)
		}
		if tt.wantBody != "" && string(body) != tt.wantBody {
			t.Errorf("GET %s: body = %q, want %q", tt.path, body, tt.wantBody)
		}
	}
}

func TestLogsEveryEchoedRequest(t *testing.T) {
	var logs strings.Builder
	opts := testOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
	srv := newTestServer(t, opts)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/mirror?q=1", nil)
	get(t, req)
	if want := "Echoing back request made to /mirror?q=1 to client (127.0.0.1:"; !strings.Contains(logs.String(), want) {
		t.Errorf("log %q lacks %q", logs.String(), want)
	}
}

// syncWriter makes a writer safe for the concurrent handler goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  interface{ Write([]byte) (int, error) }
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
