package backend

import (
	"math/rand/v2"
	"net/http"
)

// Weighted is one backend handler of a rule with its weight.
type Weighted struct {
	Weight  int32
	Handler http.Handler
}

// Split returns a handler that sends each request to one of ws, chosen at
// random in proportion to the weights (an invalid backend keeps its weight
// and so answers 500 for exactly its share). Weight 0 gets nothing; a rule
// with no weight at all answers 500.
func Split(ws []Weighted) http.Handler {
	s := &split{}
	for _, w := range ws {
		if w.Weight <= 0 {
			continue
		}
		s.total += uint64(w.Weight)
		s.upTo = append(s.upTo, s.total)
		s.handlers = append(s.handlers, w.Handler)
	}
	switch len(s.handlers) {
	case 0:
		return statusNoBackends
	case 1:
		return s.handlers[0]
	}
	return s
}

type split struct {
	upTo     []uint64 // cumulative weights
	handlers []http.Handler
	total    uint64
}

func (s *split) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := rand.Uint64N(s.total)
	i := 0
	for n >= s.upTo[i] { // rules have few backends; a scan beats a search
		i++
	}
	s.handlers[i].ServeHTTP(w, r)
}
