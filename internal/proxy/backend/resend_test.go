package backend

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

type closeCount struct {
	io.Reader
	closed int
}

func (c *closeCount) Close() error { c.closed++; return nil }

// A body no transport read goes to the next endpoint whole, and is not
// closed by a transport that gives up on it; once read from, it cannot be
// sent again, and closing it closes the client's body.
func TestResendUnreadBody(t *testing.T) {
	orig := &closeCount{Reader: strings.NewReader("payload")}
	req, _ := http.NewRequest(http.MethodPost, "http://a/", nil)
	req.Body = &unreadBody{rc: orig}
	_ = req.Body.Close() // http.Transport after a failed connect
	if orig.closed != 0 {
		t.Fatal("an unread body was closed")
	}
	r, ok := resend(req)
	if !ok || r.Body != req.Body || r.URL == req.URL {
		t.Fatalf("resend of an unread body: %v, same body %v, same URL %v", ok, r != nil && r.Body == req.Body, r != nil && r.URL == req.URL)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != "payload" {
		t.Fatalf("body sent to the next endpoint: %q", b)
	}
	_ = r.Body.Close()
	if orig.closed != 1 {
		t.Fatalf("closed %d times after a read, want 1", orig.closed)
	}
	if _, ok := resend(r); ok {
		t.Fatal("a body already read was sent again")
	}
}

func TestResendUsesGetBody(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://a/", strings.NewReader("payload"))
	_, _ = io.ReadAll(req.Body)
	r, ok := resend(req)
	if !ok {
		t.Fatal("no resend with GetBody")
	}
	if b, _ := io.ReadAll(r.Body); string(b) != "payload" {
		t.Fatalf("body %q", b)
	}
	req.GetBody = nil
	req.Body = io.NopCloser(strings.NewReader("x"))
	if _, ok := resend(req); ok {
		t.Fatal("resend of a body that cannot be had again")
	}
}
