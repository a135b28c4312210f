// Package testclient holds the clients tests need that net/http lacks.
// HTTP1 and H2C send requests whose target is written exactly as
// given, for tests of what a server does with targets a well-behaved
// client would never send ("//admin", "/a/../b", absolute-form, raw
// backslashes): net/http's clients clean or refuse them.
package testclient

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Answer is what came back: a status and a body, or Reset when an HTTP/2
// stream was reset instead.
type Answer struct {
	Status int
	Body   []byte
	Reset  bool
}

// HTTP1 sends "GET target HTTP/1.1" with Host host to addr on a new
// connection and reads the answer.
func HTTP1(addr, target, host string) (Answer, error) {
	conn, err := dial(addr)
	if err != nil {
		return Answer{}, err
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host); err != nil {
		return Answer{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return Answer{}, fmt.Errorf("GET %q: %w", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return Answer{Status: resp.StatusCode, Body: body}, err
}

// H2C sends a GET with :path target and :authority authority over
// cleartext HTTP/2 with prior knowledge, on a new connection, and reads
// the answer.
func H2C(addr, target, authority string) (Answer, error) {
	conn, err := dial(addr)
	if err != nil {
		return Answer{}, err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		return Answer{}, err
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		return Answer{}, err
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", authority}, {":path", target}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		return Answer{}, err
	}
	dec := hpack.NewDecoder(4096, nil)
	var a Answer
	var body bytes.Buffer
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return a, fmt.Errorf(":path %q: reading frames: %w", target, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.RSTStreamFrame:
			a.Reset = true
			return a, nil
		case *http2.GoAwayFrame:
			return a, fmt.Errorf(":path %q: GOAWAY %v", target, f.ErrCode)
		case *http2.HeadersFrame:
			fields, err := dec.DecodeFull(f.HeaderBlockFragment())
			if err != nil {
				return a, err
			}
			for _, hf := range fields {
				if hf.Name == ":status" {
					a.Status, _ = strconv.Atoi(hf.Value)
				}
			}
			if f.StreamEnded() {
				return a, nil
			}
		case *http2.DataFrame:
			body.Write(f.Data())
			if f.StreamEnded() {
				a.Body = body.Bytes()
				return a, nil
			}
		}
	}
}

// dial connects to addr; the whole exchange must be over within 10 s.
func dial(addr string) (net.Conn, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn, nil
}
