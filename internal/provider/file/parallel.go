package file

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// forEach calls f(0) .. f(n-1) on up to GOMAXPROCS goroutines and returns
// when all have returned. Decoding a document is pure and CPU-bound (the
// CRD schema and CEL checks cost about a millisecond per route), so a first
// load of thousands of objects uses every core; f must only write state of
// its own index.
func forEach(n int, f func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}
