package echo

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCommandFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"-h"}, 0, "Usage: portico echo"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"--listen", "127.0.0.1:notaport"}, 1, "listen on 127.0.0.1:notaport"},
		{[]string{"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"}, 1, "needs TLSCertFile and TLSKeyFile"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Command(tt.args, &stdout, &stderr); code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr.String())
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestCommandServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- command(ctx, []string{"--listen", "127.0.0.1:0", "--name", "echo-v2", "--namespace", "ns", "--service", "svc"}, &stdout, &stderr)
	}()

	addr := regexp.MustCompile(`listening on http://(\S+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil; {
		if time.Now().After(deadline) {
			t.Fatalf("no listening line on stdout within 10s; stdout %q stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
		m = addr.FindStringSubmatch(stdout.String())
	}
	resp, err := http.Get("http://" + m[1] + "/x")
	if err != nil {
		t.Fatal(err)
	}
	e := decodeEcho(t, resp)
	if e.Pod != "echo-v2" || e.Namespace != "ns" || e.Service != "svc" {
		t.Errorf("echo names = %q/%q/%q, want echo-v2/ns/svc", e.Pod, e.Namespace, e.Service)
	}
	if !strings.Contains(stderr.String(), "Echoing back request made to /x") {
		t.Errorf("stderr lacks the per-request log line:\n%s", stderr.String())
	}

	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d after cancel, want 0", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("command did not return within 10s of cancel")
	}
}
