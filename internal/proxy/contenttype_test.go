package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// A proxy passes a response on as the backend sent it: no Content-Type is
// made up for a body that had none, and one that was sent is kept.
func TestContentTypeIsNotSniffed(t *testing.T) {
	h := newHarness(t)
	untyped := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		_, _ = w.Write([]byte("<html>looks like HTML</html>"))
	}))
	t.Cleanup(untyped.Close)
	typed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-custom")
		_, _ = w.Write([]byte("<html>looks like HTML</html>"))
	}))
	t.Cleanup(typed.Close)
	url := h.serve(vhost("", route("r",
		prefixRule("/untyped", to("untyped", untyped)),
		prefixRule("/typed", to("typed", typed)),
	)))
	client := &http.Client{}
	resp, _ := do(t, client, "GET", url+"/untyped", "x")
	if ct, ok := resp.Header["Content-Type"]; ok {
		t.Errorf("the proxy added Content-Type %q to a response that had none", ct)
	}
	resp, _ = do(t, client, "GET", url+"/typed", "x")
	if got := resp.Header.Get("Content-Type"); got != "application/x-custom" {
		t.Errorf("Content-Type = %q, want the backend's application/x-custom", got)
	}
}
