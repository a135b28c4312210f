package crdvalidation

import (
	"crypto/sha256"
	"sync"
)

// cacheSize bounds the results remembered: two generations of at most this
// many entries (about 100 bytes each).
const cacheSize = 1 << 15

// results remembers the outcome of Validate per document content, so that a
// reload re-parsing a changed file validates only the documents that
// changed. Validation is a pure function of the content, and the error
// values are never modified once returned.
var results = &resultCache{cur: map[[32]byte]error{}}

type resultCache struct {
	mu        sync.Mutex
	cur, prev map[[32]byte]error
}

func cacheKey(apiVersion, kind string, js []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(apiVersion))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(js)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *resultCache) get(k [32]byte) (error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err, ok := c.cur[k]; ok {
		return err, true
	}
	err, ok := c.prev[k]
	if ok {
		c.putLocked(k, err)
	}
	return err, ok
}

func (c *resultCache) put(k [32]byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, err)
}

// putLocked adds to the current generation, which becomes the previous one
// when full: what was not used during a whole generation is forgotten.
func (c *resultCache) putLocked(k [32]byte, err error) {
	if len(c.cur) >= cacheSize {
		c.prev, c.cur = c.cur, make(map[[32]byte]error, len(c.cur))
	}
	c.cur[k] = err
}
