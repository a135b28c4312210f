package proxy

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

func TestProxiesToBackend(t *testing.T) {
	h := newHarness(t)
	a := echoServer(t, "a")
	url := h.serve(vhost("", route("r", prefixRule("/", to("a", a)))))

	code, e := get(t, url+"/foo?x=1", "example.com")
	if code != 200 || e.Backend != "a" || e.Path != "/foo?x=1" || e.Host != "example.com" {
		t.Fatalf("got %d %+v", code, e)
	}
}

func TestWeightsSplitTraffic(t *testing.T) {
	h := newHarness(t)
	a, b := echoServer(t, "a"), echoServer(t, "b")
	ba, bb := to("a", a), to("b", b)
	ba.Weight, bb.Weight = 1, 3
	bz := to("zero", echoServer(t, "zero"))
	bz.Weight = 0
	url := h.serve(vhost("", route("r", prefixRule("/", ba, bb, bz))))

	const n = 1000
	count := map[string]int{}
	for range n {
		_, e := get(t, url+"/", "example.com")
		count[e.Backend]++
	}
	// Binomial(1000, 0.25): sd ~13.7; 5 sd is ~68.
	if got := count["a"]; math.Abs(float64(got)-n/4) > 70 {
		t.Errorf("backend a got %d of %d, want about %d (%v)", got, n, n/4, count)
	}
	if count["zero"] != 0 || count["a"]+count["b"] != n {
		t.Errorf("counts %v", count)
	}
}

func TestRoundRobinOverEndpoints(t *testing.T) {
	h := newHarness(t)
	s1, s2, s3 := echoServer(t, "1"), echoServer(t, "2"), echoServer(t, "3")
	url := h.serve(vhost("", route("r", prefixRule("/", to("svc", s1, s2, s3)))))

	var seq []string
	for range 9 {
		_, e := get(t, url+"/", "example.com")
		seq = append(seq, e.Backend)
	}
	for i := 3; i < len(seq); i++ {
		if seq[i] != seq[i-3] {
			t.Fatalf("not round robin: %v", seq)
		}
	}
	if seq[0] == seq[1] || seq[1] == seq[2] || seq[0] == seq[2] {
		t.Fatalf("not round robin: %v", seq)
	}
}

func TestInvalidBackendAnswers500ForItsShare(t *testing.T) {
	h := newHarness(t)
	good := to("good", echoServer(t, "good"))
	bad := ir.Backend{Name: "ns/missing:80", Weight: 1, Invalid: "service ns/missing not found"}
	url := h.serve(vhost("", route("r",
		prefixRule("/all-bad", bad),
		prefixRule("/half", good, bad),
	)))

	if code, _ := get(t, url+"/all-bad", "x"); code != 500 {
		t.Errorf("all invalid: got %d, want 500", code)
	}
	codes := map[int]int{}
	for range 200 {
		code, _ := get(t, url+"/half", "x")
		codes[code]++
	}
	if codes[500] < 60 || codes[200] < 60 || codes[500]+codes[200] != 200 {
		t.Errorf("half invalid: got %v, want about 100 each of 200 and 500", codes)
	}
}

func TestNoEndpointsAnswers503(t *testing.T) {
	h := newHarness(t)
	url := h.serve(vhost("", route("r", prefixRule("/", ir.Backend{Name: "ns/empty:80", Weight: 1}))))
	resp, body := do(t, client, "GET", url+"/", "x")
	if resp.StatusCode != 503 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || body != "no healthy upstream\n" {
		t.Fatalf("got %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestNoBackendsAnswers500(t *testing.T) {
	h := newHarness(t)
	url := h.serve(vhost("", route("r", prefixRule("/"))))
	if code, _ := get(t, url+"/", "x"); code != 500 {
		t.Fatalf("got %d, want 500", code)
	}
}

func TestConnectionRefusedAnswers502(t *testing.T) {
	h := newHarness(t)
	dead := echoServer(t, "dead")
	be := to("dead", dead)
	dead.Close()
	url := h.serve(vhost("", route("r", prefixRule("/", be))))
	if code, _ := get(t, url+"/", "x"); code != 502 {
		t.Fatalf("got %d, want 502", code)
	}
}

// slow answers after the delay given in ?delay=.
func slow(w http.ResponseWriter, r *http.Request) {
	if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(200)
}

func TestRequestTimeout(t *testing.T) {
	h := newHarness(t)
	s, _ := counting(t, func(_ int64, w http.ResponseWriter, r *http.Request) { slow(w, r) })
	timed := prefixRule("/request-timeout", to("s", s))
	timed.Timeouts.Request = ir.Duration(200 * time.Millisecond)
	url := h.serve(vhost("", route("r", timed, prefixRule("/no-timeout", to("s", s)))))

	for _, tc := range []struct {
		path string
		want int
	}{
		{"/request-timeout", 200},
		{"/request-timeout?delay=1s", 504},
		{"/no-timeout?delay=300ms", 200},
	} {
		start := time.Now()
		if code, _ := get(t, url+tc.path, "x"); code != tc.want {
			t.Errorf("%s: got %d, want %d", tc.path, code, tc.want)
		}
		if tc.want == 504 && time.Since(start) > 800*time.Millisecond {
			t.Errorf("%s: took %v, want about 200ms", tc.path, time.Since(start))
		}
	}
}

func TestBackendRequestTimeout(t *testing.T) {
	h := newHarness(t)
	s, _ := counting(t, func(_ int64, w http.ResponseWriter, r *http.Request) { slow(w, r) })
	timed := prefixRule("/backend-timeout", to("s", s))
	timed.Timeouts.BackendRequest = ir.Duration(200 * time.Millisecond)
	url := h.serve(vhost("", route("r", timed)))

	if code, _ := get(t, url+"/backend-timeout", "x"); code != 200 {
		t.Errorf("fast: got %d, want 200", code)
	}
	resp, body := do(t, client, "GET", url+"/backend-timeout?delay=1s", "x")
	if resp.StatusCode != 504 || body != "upstream request timeout\n" {
		t.Errorf("slow: got %d %q, want 504", resp.StatusCode, body)
	}
}
