package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

func retryRule(path string, attempts int, codes []int, be ir.Backend) ir.HTTPRule {
	r := prefixRule(path, be)
	r.Retry = &ir.Retry{Attempts: attempts, Codes: codes, Backoff: ir.Duration(time.Millisecond)}
	return r
}

// failFirst answers code to the first n attempts and 200 afterwards.
func failFirst(n int64, code int) func(int64, http.ResponseWriter, *http.Request) {
	return func(i int64, w http.ResponseWriter, r *http.Request) {
		if i <= n {
			w.WriteHeader(code)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	}
}

func TestRetryOnStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		attempts    int
		codes       []int
		failures    int64
		failCode    int
		want        int
		wantBackend int64
	}{
		{"succeeds after 2 retries", 3, []int{500}, 2, 500, 200, 3},
		{"gives up after attempts", 3, []int{500}, 4, 500, 500, 4},
		{"other codes are not retried", 3, []int{500}, 2, 503, 503, 1},
		{"502 listed", 2, []int{500, 502, 503, 504}, 1, 502, 200, 2},
		{"no retry policy attempts 0", 0, []int{500}, 1, 500, 500, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			s, n := counting(t, failFirst(tc.failures, tc.failCode))
			url := h.serve(vhost("", route("r", retryRule("/", tc.attempts, tc.codes, to("s", s)))))
			if code, _ := get(t, url+"/", "x"); code != tc.want {
				t.Errorf("got %d, want %d", code, tc.want)
			}
			if got := n.Load(); got != tc.wantBackend {
				t.Errorf("backend saw %d attempts, want %d", got, tc.wantBackend)
			}
		})
	}
}

func TestRetryReplaysBody(t *testing.T) {
	h := newHarness(t)
	s, n := counting(t, failFirst(1, 500))
	url := h.serve(vhost("", route("r", retryRule("/", 2, []int{500}, to("s", s)))))

	resp, err := client.Post(url+"/", "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "payload" || n.Load() != 2 {
		t.Fatalf("got %d %q after %d attempts", resp.StatusCode, body, n.Load())
	}
}

func TestRetryOnConnectionReset(t *testing.T) {
	h := newHarness(t)
	s, n := counting(t, func(i int64, w http.ResponseWriter, r *http.Request) {
		if i <= 2 {
			reset(t, w)
			return
		}
		w.WriteHeader(200)
	})
	url := h.serve(vhost("", route("r",
		retryRule("/retry", 3, nil, to("s", s)),
		prefixRule("/once", to("s", s)),
	)))
	if code, _ := get(t, url+"/retry", "x"); code != 200 || n.Load() != 3 {
		t.Fatalf("got %d after %d attempts, want 200 after 3", code, n.Load())
	}
	n.Store(0)
	if code, _ := get(t, url+"/once", "x"); code != 502 {
		t.Fatalf("without retry: got %d, want 502", code)
	}
}

// A retry goes to the next endpoint: a refused endpoint next to a healthy
// one costs one retry, never an error.
func TestRetryMovesToAnotherEndpoint(t *testing.T) {
	h := newHarness(t)
	good := echoServer(t, "good")
	dead := echoServer(t, "dead")
	be := to("svc", dead, good)
	dead.Close()
	url := h.serve(vhost("", route("r", retryRule("/", 100, nil, be))))
	for i := range 10 {
		if code, e := get(t, url+"/", "x"); code != 200 || e.Backend != "good" {
			t.Fatalf("request %d: got %d from %q", i, code, e.Backend)
		}
	}
}

func TestRetryWithTimeouts(t *testing.T) {
	h := newHarness(t)
	// Every attempt after the first waits 300ms, then the third succeeds.
	slowRetries := func(i int64, w http.ResponseWriter, r *http.Request) {
		if i > 1 {
			time.Sleep(300 * time.Millisecond)
		}
		if i <= 2 {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	}
	t.Run("retries outlasting the request timeout answer 504", func(t *testing.T) {
		s, _ := counting(t, slowRetries)
		rule := retryRule("/", 5, []int{500}, to("s", s))
		rule.Timeouts.Request = ir.Duration(500 * time.Millisecond)
		url := h.serve(vhost("", route("r", rule)))
		if code, _ := get(t, url+"/", "x"); code != 504 {
			t.Fatalf("got %d, want 504", code)
		}
	})
	t.Run("a timed-out attempt is retried", func(t *testing.T) {
		s, n := counting(t, func(i int64, w http.ResponseWriter, r *http.Request) {
			if i == 1 {
				slow(w, r)
				return
			}
			w.WriteHeader(200)
		})
		rule := retryRule("/", 2, []int{500}, to("s", s))
		rule.Timeouts.BackendRequest = ir.Duration(200 * time.Millisecond)
		url := h.serve(vhost("", route("r", rule)))
		if code, _ := get(t, url+"/?delay=2s", "x"); code != 200 || n.Load() != 2 {
			t.Fatalf("got %d after %d attempts, want 200 after 2", code, n.Load())
		}
	})
}
