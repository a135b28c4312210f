package h2

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The block reader reuses its field storage from block to block: a
// parsed stream must keep its fields when the next block is decoded.
func TestBlockStorageReused(t *testing.T) {
	var wire bytes.Buffer
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	fr := http2.NewFramer(&wire, nil)
	for id := uint32(1); id <= 3; id += 2 {
		hb.Reset()
		for _, f := range reqFields("GET", fmt.Sprintf("/s%d", id), "x-a", fmt.Sprintf("a%d", id), "x-b", fmt.Sprintf("b%d", id)) {
			if err := enc.WriteField(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
			t.Fatal(err)
		}
	}
	rd := http2.NewFramer(nil, &wire)
	var br blockReader
	br.init()
	var streams []*stream
	for range 2 {
		f, err := rd.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		b, err := br.read(rd, f.(*http2.HeadersFrame))
		if err != nil {
			t.Fatal(err)
		}
		s := &stream{declared: -1}
		if err := s.parse(b); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	for i, s := range streams {
		id := 2*i + 1
		if got, want := s.req.HeaderValues("x-a"), fmt.Sprintf("a%d", id); len(got) != 1 || got[0] != want {
			t.Errorf("stream %d: x-a %q, want %q", id, got, want)
		}
		if got, want := s.req.path, fmt.Sprintf("/s%d", id); got != want {
			t.Errorf("stream %d: path %q, want %q", id, got, want)
		}
	}
}
