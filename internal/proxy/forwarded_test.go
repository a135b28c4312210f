package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestForwardedAndHopByHopHeaders(t *testing.T) {
	h := newHarness(t)
	url := h.serve(vhost("", route("r", prefixRule("/", to("echo", echoServer(t, "echo"))))))

	code, e := get(t, url+"/", "example.com:8080",
		"X-Forwarded-For", "10.0.0.1",
		"X-Forwarded-Proto", "spoofed",
		"Connection", "X-Drop-Me",
		"X-Drop-Me", "1",
		"Keep-Alive", "timeout=5",
		"Proxy-Connection", "keep-alive",
		"X-Keep", "yes",
	)
	if code != 200 {
		t.Fatalf("got %d", code)
	}
	want := map[string]string{
		"X-Forwarded-For":   "10.0.0.1, 127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Host":  "example.com:8080",
		"X-Keep":            "yes",
	}
	for k, v := range want {
		if got := e.Header.Get(k); got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"X-Drop-Me", "Keep-Alive", "Proxy-Connection"} {
		if v, ok := e.Header[k]; ok {
			t.Errorf("hop-by-hop %s reached the backend: %q", k, v)
		}
	}
	if e.Host != "example.com:8080" {
		t.Errorf("Host: got %q, want it unmodified", e.Host)
	}
}

func TestHopByHopResponseHeadersRemoved(t *testing.T) {
	h := newHarness(t)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Resp-Hop")
		w.Header().Set("X-Resp-Hop", "1")
		w.Header().Set("X-Resp-Keep", "1")
	}))
	t.Cleanup(s.Close)
	url := h.serve(vhost("", route("r", prefixRule("/", to("s", s)))))
	resp, _ := do(t, client, "GET", url+"/", "x")
	if resp.Header.Get("X-Resp-Hop") != "" || resp.Header.Get("X-Resp-Keep") != "1" {
		t.Fatalf("response headers %v", resp.Header)
	}
}
