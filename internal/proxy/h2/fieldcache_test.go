package h2

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// Blocks built through the cache decode to the fields given, in order,
// whatever mix of repeated, changing, colliding, long and upper-case
// fields they hold; and they are the bytes the bare encoder produces.
func TestFieldCacheEncodings(t *testing.T) {
	var w writer
	w.initEncoder()
	var plain writer // every field through the bare encoder
	plain.initEncoder()
	dec := hpack.NewDecoder(4096, nil)
	long := strings.Repeat("v", maxCachedField)
	for i := range 300 {
		fields := [][2]string{
			{"server", "nginx"},
			{"Content-Type", "text/plain"},
			{"content-length", fmt.Sprint(100 + i%3)},
			{"date", fmt.Sprintf("Sun, 22 Nov 2026 21:%02d:%02d GMT", i/60, i%60)},
			{"x-request-id", fmt.Sprintf("id-%d", i)}, // never repeats
			{fmt.Sprintf("x-field-%d", i%97), "same"}, // many names: collisions
			{"x-long", long},
		}
		w.beginHeaders(200 + i%2)
		plain.hbuf.b = plain.hbuf.b[:0]
		plain.henc.WriteField(hpack.HeaderField{Name: ":status", Value: fmt.Sprint(200 + i%2)})
		for _, f := range fields {
			w.field(f[0], f[1])
			plain.henc.WriteField(hpack.HeaderField{Name: strings.ToLower(f[0]), Value: f[1]})
		}
		if string(w.hbuf.b) != string(plain.hbuf.b) {
			t.Fatalf("block %d: cached encoding differs from the encoder's", i)
		}
		got, err := dec.DecodeFull(w.hbuf.b)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		want := append([][2]string{{":status", fmt.Sprint(200 + i%2)}}, fields...)
		if len(got) != len(want) {
			t.Fatalf("block %d: %d fields, want %d", i, len(got), len(want))
		}
		for j, f := range got {
			if f.Name != strings.ToLower(want[j][0]) || f.Value != want[j][1] {
				t.Fatalf("block %d field %d: %s: %s, want %s: %s", i, j, f.Name, f.Value, want[j][0], want[j][1])
			}
		}
	}
}

// BenchmarkResponseHead builds a typical proxied answer's header block,
// through the cache and through the bare encoder.
func BenchmarkResponseHead(b *testing.B) {
	fields := [][2]string{{"server", "nginx"}, {"date", "Sun, 22 Nov 2026 21:05:00 GMT"}, {"content-type", "text/plain"}, {"content-length", "100"}}
	var w writer
	w.initEncoder()
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			w.beginHeaders(200)
			for _, f := range fields {
				w.field(f[0], f[1])
			}
		}
	})
	b.Run("encoder", func(b *testing.B) {
		for b.Loop() {
			w.hbuf.b = w.hbuf.b[:0]
			_ = w.henc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			for _, f := range fields {
				_ = w.henc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
		}
	})
}
