package h2

import "hash/maphash"

// fieldCache remembers how recent response fields were encoded. The
// encoder keeps no dynamic table (see writer.init), so a field's encoding
// depends on the field alone; Huffman-coding the same server,
// content-type and content-length fields on every response was 5% of
// the HTTP/2 fast path's CPU. Direct-mapped: a field evicts whatever
// shared its slot, and entries reuse their buffers, so a field that
// changes every response (a date, a request ID) costs its encoding and
// a copy, without allocating.
type fieldCache struct {
	seed  maphash.Seed
	slots [fieldCacheSlots]cachedField
}

const (
	fieldCacheSlots = 64
	// Longer fields are encoded each time: they are rarely repeated and
	// would pin large buffers.
	maxCachedField = 256
)

// cachedField is one slot: buf holds the name, the value, then their
// encoding.
type cachedField struct {
	nameLen, valueLen int
	buf               []byte
}

func newFieldCache() *fieldCache { return &fieldCache{seed: maphash.MakeSeed()} }

// slot returns the slot of name: value and whether it holds that field.
func (fc *fieldCache) slot(name, value string) (*cachedField, bool) {
	h := maphash.String(fc.seed, name) ^ maphash.String(fc.seed, value)*31
	e := &fc.slots[h%fieldCacheSlots]
	hit := e.buf != nil && e.nameLen == len(name) && e.valueLen == len(value) &&
		string(e.buf[:e.nameLen]) == name && string(e.buf[e.nameLen:e.nameLen+e.valueLen]) == value
	return e, hit
}

// encoding is the cached encoding of the slot's field.
func (e *cachedField) encoding() []byte { return e.buf[e.nameLen+e.valueLen:] }

// set makes the slot hold name: value, encoded as enc.
func (e *cachedField) set(name, value string, enc []byte) {
	e.nameLen, e.valueLen = len(name), len(value)
	e.buf = append(append(append(e.buf[:0], name...), value...), enc...)
}
