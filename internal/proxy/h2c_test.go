package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"portico.dev/portico/internal/ir"
)

func h2cClient() *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestH2CPriorKnowledgeFromClient(t *testing.T) {
	h := newHarness(t)
	url := h.serve(vhost("", route("r", prefixRule("/", to("echo", echoServer(t, "echo"))))))
	resp, body := do(t, h2cClient(), "GET", url+"/h2c", "example.com")
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Proto)
	}
	if !strings.Contains(body, `"proto":"HTTP/1.1"`) || !strings.Contains(body, `"host":"example.com"`) {
		t.Errorf("backend saw %s, want HTTP/1.1 with Host example.com", body)
	}
}

func TestH2CUpgradeFromClient(t *testing.T) {
	h := newHarness(t)
	url := h.serve(vhost("", route("r", prefixRule("/", to("echo", echoServer(t, "echo"))))))

	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// An empty SETTINGS payload, base64url: "".
	io.WriteString(conn, "GET /upgraded HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("got %d, want 101", resp.StatusCode)
	}
	io.WriteString(conn, http2.ClientPreface)
	fr := http2.NewFramer(conn, br)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// The upgraded request is stream 1; read its answer.
	dec := hpack.NewDecoder(4096, nil)
	var status string
	var body bytes.Buffer
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading frames: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			fields, _ := dec.DecodeFull(f.HeaderBlockFragment())
			for _, hf := range fields {
				if hf.Name == ":status" {
					status = hf.Value
				}
			}
			if f.StreamEnded() {
				goto done
			}
		case *http2.DataFrame:
			body.Write(f.Data())
			if f.StreamEnded() {
				goto done
			}
		}
	}
done:
	if status != "200" || !strings.Contains(body.String(), `"path":"/upgraded"`) {
		t.Fatalf("got status %q body %s", status, body.String())
	}
}

func TestH2CToBackend(t *testing.T) {
	h := newHarness(t)
	s := httptest.NewUnstartedServer(echoHandler("h2c"))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	t.Cleanup(s.Close)
	be := to("h2c", s)
	be.Protocol = ir.BackendH2C
	url := h.serve(vhost("", route("r", prefixRule("/", be))))

	for range 3 { // and again on the pooled connection
		code, e := get(t, url+"/grpc-ish", "example.com")
		if code != 200 || e.Proto != "HTTP/2.0" || e.Host != "example.com" {
			t.Fatalf("got %d %+v, want the backend to see HTTP/2.0", code, e)
		}
	}
}

// gRPC's shape: h2c end to end, a streamed body and trailers.
func TestH2CTrailersPassThrough(t *testing.T) {
	h := newHarness(t)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "Grpc-Status")
		w.Header().Set("Content-Type", "application/grpc")
		io.WriteString(w, "chunk")
		w.(http.Flusher).Flush()
		w.Header().Set("Grpc-Status", "0")
	}))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	t.Cleanup(s.Close)
	be := to("grpc", s)
	be.Protocol = ir.BackendH2C
	url := h.serve(vhost("", route("r", prefixRule("/", be))))

	req, _ := http.NewRequest("POST", url+"/pkg.Service/Method", strings.NewReader("msg"))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	resp, err := h2cClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || string(body) != "chunk" || resp.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("got %s %q trailers %v", resp.Proto, body, resp.Trailer)
	}
}
