package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portico.dev/portico/internal/testcert"
)

// h2specStrict adds h2spec's strict cases (-S), the ones that check SHOULD
// level requirements too. Off by default: the suite under test is the
// non-strict one. Try it with
//
//	go test -count=1 -run TestH2Spec -v ./test/e2e/ -args -h2spec.strict
var h2specStrict = flag.Bool("h2spec.strict", false, "TestH2Spec: run h2spec with -S (strict cases too)")

const (
	// h2specCaseTimeout is h2spec's -o: how many seconds one case waits
	// for the frame it expects. Most cases finish in milliseconds; the
	// bound only matters when the server stays silent.
	h2specCaseTimeout = 2
	// h2specRunTimeout bounds one whole h2spec run (145 cases, 146 with
	// -S). A healthy run takes 4 to 12 seconds; a server that never
	// answers costs at least h2specCaseTimeout per case.
	h2specRunTimeout = 2 * time.Minute
	// h2specMinCases guards against a run that silently tested little:
	// the non-strict suite of v2.2.1 has 145 cases.
	h2specMinCases = 140
)

// TestH2Spec runs h2spec (github.com/summerwind/h2spec, pinned by the
// module test/h2spec) against the built binary over real sockets: an HTTPS
// listener where h2 is negotiated by ALPN (h2spec -t -k) and a cleartext
// HTTP listener with HTTP/2 prior knowledge (h2c), for each HTTP engine.
// Every failing h2spec case is an error that names the case by the id
// h2spec takes on its command line (http2/6.5.3/2), its description, and
// what h2spec expected and got.
func TestH2Spec(t *testing.T) {
	h2spec := buildH2Spec(t)
	b := startBackend(t, "echo-h2spec")
	ca := testcert.NewCA(t, "portico h2spec CA")
	cert := ca.Server(t, "h2spec.example.com")

	// h1 is the default engine (PORTICO_HTTP_ENGINE unset); nethttp is the
	// net/http one, the baseline. Both are named explicitly so that the
	// environment of whoever runs the tests cannot swap them.
	for _, engine := range []string{"h1", "nethttp"} {
		t.Run(engine, func(t *testing.T) {
			t.Setenv("PORTICO_HTTP_ENGINE", engine)
			httpPort, httpsPort := freePort(t), freePort(t)
			dir := t.TempDir()
			// No hostnames anywhere: h2spec sends :authority
			// 127.0.0.1:PORT and, over TLS, no SNI (the host is an IP),
			// so the listener's only certificate is the one served.
			writeFile(t, dir, "all.yaml", join(
				gatewayYAML("gw",
					listener{Name: "http", Protocol: "HTTP", Port: httpPort},
					listener{Name: "https", Protocol: "HTTPS", Port: httpsPort, CertSecrets: []string{"cert"}},
				),
				tlsSecretYAML("cert", cert.CertPEM, cert.KeyPEM),
				serviceYAML(b, ""),
				routeYAML("root", "gw", nil, "/", nil, to(b.Name)),
			))
			p := startPortico(t, dir)
			waitH2Serving(t, httpPort, httpsPort, ca.Pool(), b.Name)

			for _, l := range []struct {
				name string
				port int
				tls  bool
			}{
				{"tls", httpsPort, true},
				{"h2c", httpPort, false},
			} {
				t.Run(l.name, func(t *testing.T) {
					runH2Spec(t, h2spec, engine, l.name, l.port, l.tls)
					if err := p.alive(); err != nil {
						t.Fatalf("after h2spec: %v", err)
					}
				})
			}
		})
	}
}

// buildH2Spec builds h2spec from the module test/h2spec into the test's
// temporary directory. The Go build cache makes a rebuild a relink.
func buildH2Spec(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "h2spec")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-C", filepath.Join(moduleRoot(t), "test", "h2spec"),
		"-buildvcs=false", "-o", bin, "github.com/summerwind/h2spec/cmd/h2spec")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out.String())
	}
	t.Logf("built h2spec in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// waitH2Serving waits until both listeners answer GET / from pod over
// HTTP/2, with the :authority h2spec will send (127.0.0.1:PORT).
func waitH2Serving(t *testing.T, httpPort, httpsPort int, roots *x509.CertPool, pod string) {
	t.Helper()
	h2cTransport := &http.Transport{Protocols: new(http.Protocols)}
	h2cTransport.Protocols.SetUnencryptedHTTP2(true)
	tlsTransport := &http.Transport{
		// The certificate is for a name, not the IP: verify it for that
		// name (which also sends it as SNI; h2spec sends none).
		TLSClientConfig:   &tls.Config{ServerName: "h2spec.example.com", RootCAs: roots},
		ForceAttemptHTTP2: true,
		DialContext:       (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer h2cTransport.CloseIdleConnections()
	defer tlsTransport.CloseIdleConnections()
	for _, c := range []struct {
		url       string
		transport *http.Transport
	}{
		{"http://127.0.0.1:" + strconv.Itoa(httpPort) + "/", h2cTransport},
		{"https://127.0.0.1:" + strconv.Itoa(httpsPort) + "/", tlsTransport},
	} {
		client := &http.Client{Timeout: 10 * time.Second, Transport: c.transport}
		eventually(t, readyTimeout, "an HTTP/2 answer from "+c.url, func() error {
			req, _ := http.NewRequest(http.MethodGet, c.url, nil)
			ans, err := do(client, req)
			if err != nil {
				return err
			}
			if err := expectPod(ans, pod); err != nil {
				return err
			}
			if ans.Proto != "HTTP/2.0" {
				return stopPolling{fmt.Errorf("GET %s: answered over %s, want HTTP/2.0", c.url, ans.Proto)}
			}
			return nil
		})
	}
}

// runH2Spec runs h2spec against 127.0.0.1:port and reports every failing
// case as an error.
func runH2Spec(t *testing.T, bin, engine, listener string, port int, useTLS bool) {
	report := filepath.Join(t.TempDir(), "h2spec.xml")
	args := []string{
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-P", "/",
		"-o", strconv.Itoa(h2specCaseTimeout), "-j", report,
	}
	if useTLS {
		args = append(args, "-t", "-k")
	}
	if *h2specStrict {
		args = append(args, "-S")
	}
	ctx, cancel := context.WithTimeout(context.Background(), h2specRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	elapsed := time.Since(start).Round(time.Millisecond)
	output := strings.ReplaceAll(out.String(), "\r", "\n")
	if ctx.Err() != nil {
		t.Fatalf("h2spec %s did not finish within %v; output:\n%s", strings.Join(args, " "), h2specRunTimeout, tail(output, 8<<10))
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		t.Fatalf("h2spec %s: %v", strings.Join(args, " "), runErr)
	}

	// h2spec exits at once, with no report, when it cannot connect.
	cases, err := readH2SpecReport(report)
	if err != nil {
		t.Fatalf("h2spec %s (%v): %v; output:\n%s", strings.Join(args, " "), runErr, err, tail(output, 8<<10))
	}
	var passed, skipped, failed, resets []h2specCase
	for _, c := range cases {
		switch {
		case c.Result == "passed":
			passed = append(passed, c)
		case c.Result == "skipped":
			skipped = append(skipped, c)
		case isH2SpecReset(c):
			resets = append(resets, c)
		default:
			failed = append(failed, c)
		}
	}
	t.Logf("h2spec %s: %d cases in %v: %d passed, %d skipped, %d failed",
		strings.Join(args, " "), len(cases), elapsed, len(passed)+len(resets), len(skipped), len(failed))
	for _, c := range skipped {
		t.Logf("skipped: %s %s", c.ID, c.Desc)
	}
	for _, c := range resets {
		t.Logf("passed: %s %s: h2spec reported %q, which is the %q it expected (see isH2SpecReset)",
			c.ID, c.Desc, c.Actual, "Connection closed")
	}
	deviations := h2specDeviationsFor(engine, listener)
	for _, c := range failed {
		if d, ok := deviations[c.ID]; ok && strings.Contains(c.Actual, d.actual) {
			t.Logf("known deviation: %s %s: %s (h2spec got %q)", c.ID, c.Desc, d.why, c.Actual)
			delete(deviations, c.ID)
			continue
		}
		t.Errorf("h2spec %s (%s) %s\n  expected: %s\n    actual: %s",
			c.ID, c.Group, c.Desc, strings.Join(c.Expected, "\n            "), c.Actual)
	}
	for id, d := range deviations {
		t.Errorf("h2spec %s no longer fails as the known deviation says (%s): remove it from h2specDeviations", id, d.why)
	}

	// Cross-checks, so that a truncated report cannot pass.
	if m := h2specSummary.FindStringSubmatch(output); m == nil {
		t.Errorf("no summary line in h2spec's output:\n%s", tail(output, 8<<10))
	} else if total, _ := strconv.Atoi(m[1]); total != len(cases) {
		t.Errorf("h2spec says %s, but its report has %d cases", m[0], len(cases))
	}
	if len(cases) < h2specMinCases {
		t.Errorf("h2spec ran %d cases, want at least %d", len(cases), h2specMinCases)
	}
	if (runErr == nil) != (len(failed)+len(resets) == 0) {
		t.Errorf("h2spec exit status %v does not agree with %d failed cases in its report", runErr, len(failed)+len(resets))
	}
	if len(failed) > 0 {
		// The failures section also states each case's requirement.
		if i := strings.Index(output, "Failures:"); i >= 0 {
			t.Logf("h2spec's failure report:\n%s", tail(output[i:], 16<<10))
		}
	}
}

// h2specDeviation is an h2spec case that fails for a reason no server on
// that socket can fix, or that the net/http engine (the baseline, not ours)
// has by design. A listed case must fail with actual text containing
// actual: a change either way is an error.
type h2specDeviation struct {
	engines, listeners []string // nil: all
	id, actual, why    string
}

var h2specDeviations = []h2specDeviation{
	{listeners: []string{"h2c"}, id: "http2/3.5/2", actual: "looked like an HTTP/1.1 header",
		why: "the cleartext port serves HTTP/1.1 too: bytes that are not the HTTP/2 preface are an HTTP/1.1 request, answered 400 before the close"},
	{engines: []string{"nethttp"}, id: "http2/4.2/3", actual: "DATA Frame",
		why: "h2spec sends a 17,576-byte HEADERS frame whatever the server advertised; net/http advertises MAX_FRAME_SIZE 1 MiB, so the frame is legal (h2spec issues #102, #142)"},
	{engines: []string{"nethttp"}, id: "http2/6.5.3/1", actual: "Connection closed",
		why: "net/http hangs up on a SETTINGS frame with duplicate entries"},
	{engines: []string{"nethttp"}, id: "http2/8.1.2.2/1", actual: "DATA Frame",
		why: "net/http answers a connection-specific field with 400 instead of a stream error"},
	{engines: []string{"nethttp"}, id: "http2/8.1.2.2/2", actual: "DATA Frame",
		why: `net/http answers TE other than "trailers" with 400 instead of a stream error`},
}

// h2specDeviationsFor returns the deviations of engine and listener by case
// id.
func h2specDeviationsFor(engine, listener string) map[string]h2specDeviation {
	out := map[string]h2specDeviation{}
	for _, d := range h2specDeviations {
		if (d.engines == nil || slices.Contains(d.engines, engine)) && (d.listeners == nil || slices.Contains(d.listeners, listener)) {
			out[d.id] = d
		}
	}
	return out
}

// isH2SpecReset reports whether c failed only because h2spec did not
// recognise a reset connection as closed. h2spec means to count ECONNRESET
// as "Connection closed" (spec.Conn.WaitEvent), but it compares the
// *net.OpError's Err with syscall.ECONNRESET, and Go wraps that errno in an
// *os.SyscallError, so the comparison never matches. A server that closes a
// connection while the client's last frames are unread resets it (the
// kernel sends RST, not FIN), so whether such a case "fails" is a race.
// Only a case that expected a close, and got a reset, qualifies.
func isH2SpecReset(c h2specCase) bool {
	return c.Result != "passed" && c.Result != "skipped" &&
		slices.Contains(c.Expected, "Connection closed") &&
		strings.HasPrefix(c.Actual, "Error: ") &&
		strings.HasSuffix(c.Actual, ": connection reset by peer")
}

// h2specSummary matches h2spec's last line, e.g.
// "146 tests, 145 passed, 1 skipped, 0 failed".
var h2specSummary = regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`)

// h2specCase is one test case of an h2spec JUnit report.
type h2specCase struct {
	ID       string // as h2spec takes it on its command line: http2/6.5.3/2
	Group    string // 6.5.3. SETTINGS Synchronization
	Desc     string
	Result   string // passed, skipped, failed or error
	Expected []string
	Actual   string
}

// junitInner matches the elements whose content h2spec writes unescaped
// (innerxml): the message of an error may hold '<' or '&'.
var junitInner = regexp.MustCompile(`(?s)<(failure|error|skipped)>(.*?)</(?:failure|error|skipped)>`)

// visibleControls writes the control bytes of b other than newline and tab
// as \xNN: XML cannot hold them, and h2spec's texts do (PING data).
func visibleControls(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			out = fmt.Appendf(out, "\\x%02x", c)
			continue
		}
		out = append(out, c)
	}
	return out
}

// readH2SpecReport parses the JUnit XML report h2spec wrote with -j.
//
// h2spec v2.2.1 writes one testsuite per group of cases (package is the
// group's id, e.g. http2/6.5.3) and one testcase per case run, in order,
// so the case's number within its group is its position (when the whole
// suite runs, as here: the report has no case numbers). A failing case
// is an <error> whose text is h2spec's expectations, one a line, then the
// actual outcome on the last line (a <failure> would be "Expect:\n...\n
// Actual:\n...", which v2.2.1 never writes because of a type switch bug).
func readH2SpecReport(path string) ([]h2specCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the JUnit report: %w", err)
	}
	data = junitInner.ReplaceAllFunc(data, func(m []byte) []byte {
		sub := junitInner.FindSubmatch(m)
		var esc bytes.Buffer
		_ = xml.EscapeText(&esc, visibleControls(sub[2]))
		return []byte("<" + string(sub[1]) + ">" + esc.String() + "</" + string(sub[1]) + ">")
	})
	var report struct {
		Suites []struct {
			Name    string `xml:"name,attr"`
			Package string `xml:"package,attr"`
			Cases   []struct {
				Desc    string  `xml:"classname,attr"`
				Failure *string `xml:"failure"`
				Error   *string `xml:"error"`
				Skipped *string `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &report); err != nil {
		return nil, fmt.Errorf("parse the JUnit report: %w", err)
	}
	var cases []h2specCase
	for _, s := range report.Suites {
		for i, tc := range s.Cases {
			c := h2specCase{
				ID:     fmt.Sprintf("%s/%d", s.Package, i+1),
				Group:  s.Name,
				Desc:   tc.Desc,
				Result: "passed",
			}
			switch {
			case tc.Skipped != nil:
				c.Result = "skipped"
			case tc.Failure != nil:
				c.Result = "failed"
				exp, act, ok := strings.Cut(strings.TrimPrefix(*tc.Failure, "Expect:\n"), "\nActual:\n")
				if !ok {
					act = *tc.Failure
				}
				c.Expected, c.Actual = strings.Split(exp, "\n"), act
			case tc.Error != nil:
				c.Result = "error"
				lines := strings.Split(strings.TrimRight(*tc.Error, "\n"), "\n")
				c.Actual = lines[len(lines)-1]
				if len(lines) > 1 {
					c.Expected = lines[:len(lines)-1]
				} else {
					c.Expected = []string{"(not stated: h2spec reported an error, not a TestError)"}
				}
			}
			cases = append(cases, c)
		}
	}
	return cases, nil
}

// TestReadH2SpecReport checks the report parser on a report shaped like
// h2spec's, with the unescaped error text it writes.
func TestReadH2SpecReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.xml")
	report := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="1. Starting HTTP/2" package="generic/1" id="1" tests="0" skipped="0" failures="0" errors="0"></testsuite>
  <testsuite name="3.5. HTTP/2 Connection Preface" package="http2/3.5" id="3.5" tests="2" skipped="0" failures="0" errors="1">
    <testcase package="http2/3.5" classname="Sends client connection preface" time="0.0002"></testcase>
    <testcase package="http2/3.5" classname="Sends invalid connection preface" time="0.0006">
      <error>Connection closed
Error: got <HTTP/1.1 400> & closed</error>
    </testcase>
  </testsuite>
  <testsuite name="7. Error Codes" package="http2/7" id="7" tests="3" skipped="1" failures="1" errors="1">
    <testcase package="http2/7" classname="Sends a GOAWAY frame with unknown error code" time="0.0010">
      <error>Connection closed
PING Frame (length:8, flags:0x01, stream_id:0, opaque_data:h2spec` + "\x00\x00" + `)
Error: read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer</error>
    </testcase>
    <testcase package="http2/7" classname="Skipped one" time="0.0000">
      <skipped></skipped>
    </testcase>
    <testcase package="http2/7" classname="Old style" time="0.0000">
      <failure>Expect:
A
B
Actual:
C</failure>
    </testcase>
  </testsuite>
</testsuites>
`
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	cases, err := readH2SpecReport(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []h2specCase{
		{ID: "http2/3.5/1", Group: "3.5. HTTP/2 Connection Preface", Desc: "Sends client connection preface", Result: "passed"},
		{ID: "http2/3.5/2", Group: "3.5. HTTP/2 Connection Preface", Desc: "Sends invalid connection preface", Result: "error",
			Expected: []string{"Connection closed"}, Actual: "Error: got <HTTP/1.1 400> & closed"},
		{ID: "http2/7/1", Group: "7. Error Codes", Desc: "Sends a GOAWAY frame with unknown error code", Result: "error",
			Expected: []string{"Connection closed", "PING Frame (length:8, flags:0x01, stream_id:0, opaque_data:h2spec\\x00\\x00)"},
			Actual:   "Error: read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer"},
		{ID: "http2/7/2", Group: "7. Error Codes", Desc: "Skipped one", Result: "skipped"},
		{ID: "http2/7/3", Group: "7. Error Codes", Desc: "Old style", Result: "failed", Expected: []string{"A", "B"}, Actual: "C"},
	}
	if diff := cmp.Diff(want, cases); diff != "" {
		t.Errorf("readH2SpecReport (-want +got):\n%s", diff)
	}
	for i, wantReset := range []bool{false, false, true, false, false} {
		if i < len(cases) && isH2SpecReset(cases[i]) != wantReset {
			t.Errorf("isH2SpecReset(%s) = %v, want %v", cases[i].ID, !wantReset, wantReset)
		}
	}
}
