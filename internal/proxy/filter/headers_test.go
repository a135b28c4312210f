package filter

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"portico.dev/portico/internal/ir"
)

// TestRequestHeaders follows conformance test httproute-request-header-modifier
// and the header part of httproute-rewrite-path.
func TestRequestHeaders(t *testing.T) {
	m := &ir.HeaderModifier{
		Set:    []ir.Header{{Name: "x-header-set", Value: "set-overwrites-values"}},
		Add:    []ir.Header{{Name: "X-Header-Add", Value: "header-val-1"}, {Name: "x-header-add-append", Value: "header-val-2"}},
		Remove: []string{"x-header-REMOVE"},
	}
	r := newReq("GET", "gw", "/")
	r.Header.Set("X-Header-Remove", "remove-val")
	r.Header.Set("X-Header-Add-Append", "append-val-1")
	r.Header.Add("X-Header-Set", "set-val")
	r.Header.Add("X-Header-Set", "set-val-2")
	r.Header.Set("Other", "kept")
	var got seen
	RequestHeaders(m)(&got).ServeHTTP(httptest.NewRecorder(), r)
	want := http.Header{
		"X-Header-Set":        {"set-overwrites-values"},
		"X-Header-Add":        {"header-val-1"},
		"X-Header-Add-Append": {"append-val-1", "header-val-2"},
		"Other":               {"kept"},
	}
	if d := cmp.Diff(want, got.r.Header); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
}

func TestRequestHeadersHost(t *testing.T) {
	var got seen
	m := &ir.HeaderModifier{Set: []ir.Header{{Name: "host", Value: "upstream.example"}}}
	RequestHeaders(m)(&got).ServeHTTP(httptest.NewRecorder(), newReq("GET", "gw", "/"))
	if got.r.Host != "upstream.example" {
		t.Errorf("Host = %q", got.r.Host)
	}
}

func TestResponseHeaders(t *testing.T) {
	m := &ir.HeaderModifier{
		Set:    []ir.Header{{Name: "x-header-set", Value: "set-overwrites-values"}},
		Add:    []ir.Header{{Name: "X-Header-Add", Value: "header-val-1"}, {Name: "x-header-add-append", Value: "header-val-2"}},
		Remove: []string{"x-header-remove"},
	}
	want := http.Header{
		"X-Header-Set":        {"set-overwrites-values"},
		"X-Header-Add":        {"header-val-1"},
		"X-Header-Add-Append": {"append-val-1", "header-val-2"},
		"Content-Type":        {"text/plain"},
	}
	backend := func(status int, write bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Header-Set", "set-val")
			h.Set("X-Header-Add-Append", "append-val-1")
			h.Set("X-Header-Remove", "remove-val")
			h.Set("Content-Type", "text/plain")
			if status != 0 {
				w.WriteHeader(status)
			}
			if write {
				w.Write([]byte("body"))
			}
		})
	}
	cases := []struct {
		name   string
		h      http.Handler
		status int
	}{
		{"backend 200 via WriteHeader", backend(200, true), 200},
		{"backend implicit 200 via Write", backend(0, true), 200},
		{"proxy error 503", backend(503, false), 503},
		{"flush first", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			backend(0, false).ServeHTTP(w, r)
			w.(http.Flusher).Flush()
		}), 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			ResponseHeaders(m)(c.h).ServeHTTP(w, newReq("GET", "gw", "/"))
			if w.Code != c.status {
				t.Errorf("status %d, want %d", w.Code, c.status)
			}
			if d := cmp.Diff(want, w.Result().Header); d != "" {
				t.Errorf("headers (-want +got):\n%s", d)
			}
		})
	}
}

func TestEditWriterSkipsInformational(t *testing.T) {
	calls := 0
	w := httptest.NewRecorder()
	ew := newEditWriter(w, func(h http.Header, status int) { calls++; h.Set("X-Status", http.StatusText(status)) })
	ew.WriteHeader(http.StatusEarlyHints)
	ew.WriteHeader(http.StatusCreated)
	ew.Write([]byte("x"))
	if calls != 1 || w.Header().Get("X-Status") != "Created" {
		t.Errorf("calls=%d X-Status=%q", calls, w.Header().Get("X-Status"))
	}
	if ew.Unwrap() != w {
		t.Error("Unwrap does not return the underlying writer")
	}
}
