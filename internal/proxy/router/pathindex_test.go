package router

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"

	"portico.dev/portico/internal/ir"
)

// TestPathIndexAgreesWithScan checks the index against the plain scan it
// replaces on random, heavily overlapping route sets and requests: both must
// pick the same entry every time.
func TestPathIndexAgreesWithScan(t *testing.T) {
	segs := []string{"a", "b", "ab", "c"}
	randPath := func(r *rand.Rand, max int) string {
		p := ""
		for range r.IntN(max) + 1 {
			p += "/" + segs[r.IntN(len(segs))]
		}
		if r.IntN(4) == 0 {
			p += "/"
		}
		return p
	}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		route := &ir.HTTPRoute{Name: "ns/r"}
		rule := &ir.HTTPRule{}
		var entries []*entry
		for i := range indexThreshold + r.IntN(60) {
			m := ir.HTTPMatch{Path: ir.PathMatch{Type: ir.PathPrefix, Value: randPath(r, 3)}}
			switch r.IntN(5) {
			case 0:
				m.Path.Type = ir.PathExact
			case 1:
				m.Path = ir.PathMatch{Type: ir.PathRegex, Value: "/a.*"}
			case 2:
				m.Path.Value = "/"
			}
			if r.IntN(3) == 0 {
				m.Method = "POST"
			}
			if r.IntN(3) == 0 {
				m.Headers = []ir.HeaderMatch{{Type: ir.MatchExact, Name: "X-Canary", Value: "1"}}
			}
			e, err := newEntry(route, rule, &m, 0)
			if err != nil {
				t.Fatal(err)
			}
			e.routeIdx, e.ruleIdx = i/3, i%3
			entries = append(entries, e)
		}
		slices.SortStableFunc(entries, cmpEntry)
		ix := newPathIndex(entries)
		if ix == nil {
			t.Fatalf("seed %d: no index for %d entries", seed, len(entries))
		}
		for range 200 {
			q := query{method: "GET", path: randPath(r, 4), header: http.Header{}}
			if r.IntN(2) == 0 {
				q.method = "POST"
			}
			if r.IntN(2) == 0 {
				q.header.Set("X-Canary", "1")
			}
			if got, want := ix.find(&q), first(entries, &q); got != want {
				t.Fatalf("seed %d, %s %s %v: index chose %+v, scan %+v", seed, q.method, q.path, q.header, got, want)
			}
		}
	}
}
