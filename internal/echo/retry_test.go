package echo

import (
	"errors"
	"net/http"
	"syscall"
	"testing"
)

func TestRetryWithResponseCode(t *testing.T) {
	srv := newTestServer(t, testOptions())
	url := srv.URL + "/retry/?uuid=u1&succeedAfter=2&responseCode=503"
	for i, want := range []int{503, 503, 200, 200} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if resp, _ := get(t, req); resp.StatusCode != want {
			t.Errorf("attempt %d: status = %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	// Another uuid counts on its own.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/retry/?uuid=u2&succeedAfter=1&responseCode=500", nil)
	if resp, _ := get(t, req); resp.StatusCode != 500 {
		t.Errorf("first attempt of u2: status = %d, want 500", resp.StatusCode)
	}
}

func TestRetryResetsTheConnection(t *testing.T) {
	srv := newTestServer(t, testOptions())
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	url := srv.URL + "/retry/?uuid=rst&succeedAfter=1"

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("first attempt answered %d, want a connection reset", resp.StatusCode)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Logf("first attempt failed with %v (not ECONNRESET, still a failure)", err)
	}

	req, _ = http.NewRequest(http.MethodGet, url, nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("second attempt: status = %d, want 200", resp.StatusCode)
	}
}

func TestRetryBadQuery(t *testing.T) {
	srv := newTestServer(t, testOptions())
	for _, q := range []string{"", "?uuid=x", "?uuid=x&succeedAfter=no", "?uuid=x&succeedAfter=1&responseCode=abc"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/retry/"+q, nil)
		if resp, _ := get(t, req); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/retry/%s: status = %d, want 400", q, resp.StatusCode)
		}
	}
}
