package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds on every wait, generous for a loaded two-core machine.
const (
	readyTimeout  = 30 * time.Second
	reloadTimeout = 15 * time.Second
	stopTimeout   = 10 * time.Second
	pollInterval  = 50 * time.Millisecond
)

// portico is one running `portico run` subprocess.
type portico struct {
	t      *testing.T
	dir    string // the --config directory
	admin  string // admin address, host:port
	cmd    *exec.Cmd
	output *syncBuffer // stdout and stderr, interleaved
	exited chan struct{}
	err    error // from Wait, valid once exited is closed
}

// startPortico runs `portico run` on dir (with extra flags, if any), waits
// until /readyz answers 200, and stops the process by PID when the test
// ends.
func startPortico(t *testing.T, dir string, extra ...string) *portico {
	t.Helper()
	p := &portico{t: t, dir: dir, admin: freeAddr(t)}
	p.start(append([]string{"run",
		"--config", dir,
		"--admin-address", p.admin,
		"--bind-address", "127.0.0.1"}, extra...)...)
	p.waitReady()
	return p
}

// start runs the portico binary with args, its output going to p.output,
// and stops it by PID when the test ends.
func (p *portico) start(args ...string) {
	p.t.Helper()
	p.output, p.exited = &syncBuffer{}, make(chan struct{})
	p.cmd = exec.Command(porticoBin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.cmd, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	p.t.Cleanup(p.stop)
}

// stop sends SIGTERM to the process, then SIGKILL if it has not exited
// within stopTimeout, and dumps its output when the test failed.
func (p *portico) stop() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			p.t.Errorf("portico (pid %d) did not exit within %v of SIGTERM; killing it", p.cmd.Process.Pid, stopTimeout)
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	if p.t.Failed() {
		p.t.Logf("portico output (pid %d, %v):\n%s", p.cmd.Process.Pid, p.err, tail(p.output.String(), 16<<10))
	}
}

func (p *portico) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("portico exited (%v); output:\n%s", p.err, tail(p.output.String(), 8<<10))
	default:
		return nil
	}
}

func (p *portico) waitReady() {
	p.t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	eventually(p.t, readyTimeout, "portico to answer 200 on /readyz", func() error {
		if err := p.alive(); err != nil {
			return stopPolling{err}
		}
		resp, err := client.Get("http://" + p.admin + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /readyz: %d %s", resp.StatusCode, body)
		}
		return nil
	})
}

// adminGet fetches path from the admin API and returns its body; the status
// must be 200.
func (p *portico) adminGet(path string) ([]byte, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + p.admin + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	return body, nil
}

// runCLI runs the binary with args (bounded) and returns stdout, stderr and
// the exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, porticoBin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("run portico %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// writeFile writes name under dir atomically (a temporary file renamed into
// place), so that the watcher never reads a half-written file.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func freeAddr(t *testing.T) string {
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}

// stopPolling wraps an error that makes eventually give up at once.
type stopPolling struct{ err error }

func (s stopPolling) Error() string { return s.err.Error() }

// eventually calls f every pollInterval until it returns nil, and fails the
// test with the last error when timeout passes first.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		var stop stopPolling
		if errors.As(err, &stop) {
			t.Fatalf("waiting for %s: %v", what, stop.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not within %v; last error: %v", what, timeout, err)
		}
		time.Sleep(pollInterval)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

// prettyJSON indents b for failure messages; b is returned as is when it is
// not JSON.
func prettyJSON(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}
