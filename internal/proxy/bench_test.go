package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"portico.dev/portico/internal/ir"
)

// The per-request hot path: one route (Host bench.local, PathPrefix /app)
// to one backend with two endpoints round robin, each a minimal in-process
// HTTP/1.1 upstream that answers a fixed 100-byte body without allocating.
// -benchmem counts every goroutine of the process, so the client and the
// upstreams are hand-written to allocate nothing per request: what remains
// is Portico's (net/http server, router, ReverseProxy, upstream transport).

const benchBody = "portico benchmark upstream body, one hundred bytes long......................................xxxx\n"

// rawUpstream is a keep-alive HTTP/1.1 server that reads request heads (no
// bodies) and answers each with the same bytes.
func rawUpstream(b *testing.B) net.Addr {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(benchBody)) + "\r\n\r\n" + benchBody)
	var wg sync.WaitGroup
	conns := map[net.Conn]struct{}{}
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReaderSize(c, 8<<10)
				for {
					if err := skipHead(br); err != nil {
						return
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr()
}

// skipHead reads one request or response head, up to its empty line.
func skipHead(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 && (len(line) == 1 || line[0] == '\r') {
			return nil
		}
	}
}

// benchProxy serves the benchmark route on a loopback port and returns
// the Proxy and its address.
// benchEngine is the engine the benchmarks measure: the default, or the
// one PORTICO_HTTP_ENGINE names, as `portico run` would pick it (the
// package itself reads no environment).
func benchEngine(b *testing.B) Engine {
	e, err := EngineByName(os.Getenv("PORTICO_HTTP_ENGINE"))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchProxy(b *testing.B) (*Proxy, string) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	p := New(Options{Engine: benchEngine(b), Listen: func(ctx context.Context, network, a string) (net.Listener, error) {
		if a == addr {
			return ln, nil
		}
		return (&net.ListenConfig{}).Listen(ctx, network, a)
	}})
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	if ack := p.Apply(benchConfig(b, addr)); ack.Error != "" || len(ack.ListenerErrors) > 0 {
		b.Fatalf("Apply: %+v", ack)
	}
	return p, addr
}

func benchConfig(b *testing.B, addr string) *ir.Config {
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	be := ir.Backend{Name: "ns/upstream:80", Weight: 1, Protocol: ir.BackendHTTP,
		Endpoints: []ir.Endpoint{endpoint(rawUpstream(b)), endpoint(rawUpstream(b))}}
	redirect := ir.HTTPRule{Index: 1, Matches: []ir.HTTPMatch{{Path: ir.PathMatch{Type: ir.PathPrefix, Value: "/old"}}},
		Filters: ir.HTTPFilters{Redirect: &ir.Redirect{StatusCode: 301, Path: &ir.PathModifier{Type: ir.PrefixMatch, Value: "/new"}}}}
	rt := ir.HTTPRoute{Name: "ns/bench", Rules: []ir.HTTPRule{
		{Matches: []ir.HTTPMatch{{Path: ir.PathMatch{Type: ir.PathPrefix, Value: "/app"}}}, Backends: []ir.Backend{be}},
		redirect,
	}}
	vh := ir.VirtualHost{Name: "ns/gw/bench.local", Hostname: "bench.local", Routes: []ir.HTTPRoute{rt}}
	return &ir.Config{Version: 1, Listeners: []ir.Listener{{Name: addr, Address: "127.0.0.1", Port: int32(n), Protocol: ir.ProtocolHTTP, VirtualHosts: []ir.VirtualHost{vh}}}}
}

// rawClient is one keep-alive connection that sends a fixed request and
// reads the answer without allocating.
type rawClient struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte
	buf []byte
}

func dialRaw(b *testing.B, addr, path string) *rawClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &rawClient{c: c, br: bufio.NewReaderSize(c, 8<<10),
		req: []byte("GET " + path + " HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: bench\r\n\r\n"), buf: make([]byte, 4<<10)}
}

// do sends the request and reads one response, returning its status code.
func (rc *rawClient) do() (int, error) {
	if _, err := rc.c.Write(rc.req); err != nil {
		return 0, err
	}
	status, length := 0, -1
	for first := true; ; first = false {
		line, err := rc.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if first {
			if len(line) < 12 {
				return 0, fmt.Errorf("bad status line %q", line)
			}
			status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
			continue
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 15 && bytes.EqualFold(line[:15], []byte("Content-Length:")) {
			length = 0
			for _, ch := range bytes.TrimSpace(line[15:]) {
				length = length*10 + int(ch-'0')
			}
		}
	}
	if length < 0 {
		return status, fmt.Errorf("no Content-Length")
	}
	for length > 0 {
		n, err := rc.br.Read(rc.buf[:min(length, len(rc.buf))])
		if err != nil {
			return status, err
		}
		length -= n
	}
	return status, nil
}

// BenchmarkHotPath sends requests to a running Proxy over real loopback
// keep-alive connections: everything a request costs, the kernel
// included. ns/op is wall time per request.
func BenchmarkHotPath(b *testing.B) {
	_, addr := benchProxy(b)
	for _, c := range []struct {
		name, path string
		want       int
	}{
		{"proxied", "/app/hello", 200},
		{"redirect", "/old/x", 301}, // routing and a filter, no upstream
	} {
		b.Run("loopback/"+c.name, func(b *testing.B) {
			rc := dialRaw(b, addr, c.path)
			if code, err := rc.do(); err != nil || code != c.want {
				b.Fatalf("first request: %d, %v", code, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rc.do(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("loopback/proxied/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		var mu sync.Mutex
		b.RunParallel(func(pb *testing.PB) {
			mu.Lock()
			rc := dialRaw(b, addr, "/app/hello")
			mu.Unlock()
			for pb.Next() {
				if code, err := rc.do(); err != nil || code != 200 {
					b.Errorf("%d, %v", code, err)
					return
				}
			}
		})
	})
}

// BenchmarkHandler calls the generation's handler directly with an
// httptest.ResponseRecorder: no client connection and no net/http server,
// so allocs/op are those of routing, filters, ReverseProxy and the
// upstream round trip (httptest.NewRecorder adds a few of its own).
func BenchmarkHandler(b *testing.B) {
	p, addr := benchProxy(b)
	p.mu.Lock()
	h := p.sockets[addr].gen.Load().handler
	p.mu.Unlock()
	for _, c := range []struct {
		name, path string
		want       int
	}{
		{"proxied", "/app/hello", 200},
		{"redirect", "/old/x", 301},
		{"notfound", "/nothing", 404},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "http://bench.local"+c.path, nil)
			req.RemoteAddr = "127.0.0.1:40000"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.want {
				b.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if c.want == 200 && !strings.HasPrefix(rec.Body.String(), "portico benchmark") {
				b.Fatalf("body %q", rec.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				_, _ = io.Copy(io.Discard, rec.Body)
			}
		})
	}
}

// h2Client is one cleartext HTTP/2 connection (prior knowledge) sending
// a fixed bodyless request and reading frames by hand, without allocating:
// the header block is encoded once, frames are read into one buffer.
type h2Client struct {
	c      net.Conn
	br     *bufio.Reader
	fr     *http2.Framer // writes only
	first  []byte        // the first request's header block
	block  []byte        // every later one's
	next   uint32
	frame  []byte
	recved int64 // DATA bytes since the last connection WINDOW_UPDATE
}

func dialH2(b *testing.B, addr, path string) *h2Client {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	// Two blocks from one encoder, as a browser or h2load sends them: the
	// first adds the fields to the dynamic table, later ones refer to it.
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	var firstLen int
	for i := range 2 {
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "bench.local"}, {":path", path}, {"user-agent", "bench"}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		if i == 0 {
			firstLen = hb.Len()
		}
	}
	blocks := hb.Bytes()
	hc := &h2Client{c: c, br: bufio.NewReaderSize(c, 16<<10), first: blocks[:firstLen], block: blocks[firstLen:], next: 1, frame: make([]byte, 16<<10)}
	hc.fr = http2.NewFramer(c, nil)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		b.Fatal(err)
	}
	if err := hc.fr.WriteSettings(); err != nil {
		b.Fatal(err)
	}
	// A large connection window, topped up as answers arrive.
	if err := hc.fr.WriteWindowUpdate(0, 1<<30); err != nil {
		b.Fatal(err)
	}
	return hc
}

// send opens a stream with the request; read reads until that stream ends
// and returns its status byte class ('2' for 2xx).
func (hc *h2Client) send() (uint32, error) {
	id, block := hc.next, hc.block
	if id == 1 {
		block = hc.first
	}
	hc.next += 2
	return id, hc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true})
}

func (hc *h2Client) readUntilEnd(open map[uint32]bool) error {
	var hdr [9]byte
	for len(open) > 0 {
		if _, err := io.ReadFull(hc.br, hdr[:]); err != nil {
			return err
		}
		n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		typ, flags := http2.FrameType(hdr[3]), http2.Flags(hdr[4])
		id := uint32(hdr[5]&0x7f)<<24 | uint32(hdr[6])<<16 | uint32(hdr[7])<<8 | uint32(hdr[8])
		if n > len(hc.frame) {
			return fmt.Errorf("frame of %d bytes", n)
		}
		if _, err := io.ReadFull(hc.br, hc.frame[:n]); err != nil {
			return err
		}
		switch typ {
		case http2.FrameSettings:
			if flags&http2.FlagSettingsAck == 0 {
				if err := hc.fr.WriteSettingsAck(); err != nil {
					return err
				}
			}
		case http2.FrameRSTStream, http2.FrameGoAway:
			return fmt.Errorf("%v on stream %d", typ, id)
		case http2.FrameData:
			if hc.recved += int64(n); hc.recved > 1<<20 {
				if err := hc.fr.WriteWindowUpdate(0, uint32(hc.recved)); err != nil {
					return err
				}
				hc.recved = 0
			}
		}
		if (typ == http2.FrameData || typ == http2.FrameHeaders) && flags&http2.FlagDataEndStream != 0 {
			delete(open, id)
		}
	}
	return nil
}

// BenchmarkHotPathH2 is BenchmarkHotPath over cleartext HTTP/2 (the
// engine's HTTP/2 server, prior knowledge): one stream at a time, and
// eight in flight on the connection (the answers then share writes).
func BenchmarkHotPathH2(b *testing.B) {
	_, addr := benchProxy(b)
	for _, inflight := range []int{1, 8} {
		b.Run(fmt.Sprintf("loopback/proxied/streams=%d", inflight), func(b *testing.B) {
			hc := dialH2(b, addr, "/app/hello")
			open := make(map[uint32]bool, inflight)
			round := func() error {
				for range inflight {
					id, err := hc.send()
					if err != nil {
						return err
					}
					open[id] = true
				}
				return hc.readUntilEnd(open)
			}
			if err := round(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := round(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*inflight), "ns/request")
		})
	}
}
