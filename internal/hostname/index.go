package hostname

import "strings"

// Index maps configured hostnames to values and finds the value for a host:
// the exact name first, then the wildcard with the longest suffix, then the
// default (the value of "any host"). It is built once with a Builder and is
// then read-only and safe for concurrent use. Lookups do not allocate.
type Index[T any] struct {
	exact  map[string]T
	wild   map[string]T // by suffix with its dot: ".example.com"
	def    T
	hasDef bool
}

// Lookup returns the value for host, which must be canonical (Canonical or
// CanonicalHost). It does one map lookup per label of host.
func (ix *Index[T]) Lookup(host string) (T, bool) {
	if v, ok := ix.exact[host]; ok {
		return v, true
	}
	if len(ix.wild) > 0 {
		// The first dot after at least one character gives the longest
		// suffix; "*" stands for at least one label.
		for i := 1; i < len(host); i++ {
			if host[i] == '.' {
				if v, ok := ix.wild[host[i:]]; ok {
					return v, true
				}
			}
		}
	}
	return ix.def, ix.hasDef
}

// LookupSingleLabel is Lookup with the certificate rule for wildcards (RFC
// 6125 section 6.4.3): "*" stands for exactly one label, so "*.example.com"
// covers "a.example.com" but not "a.b.example.com".
func (ix *Index[T]) LookupSingleLabel(name string) (T, bool) {
	if v, ok := ix.exact[name]; ok {
		return v, true
	}
	// The first label must be non-empty: ".example.com" has none for "*".
	if i := strings.IndexByte(name, '.'); i > 0 {
		if v, ok := ix.wild[name[i:]]; ok {
			return v, true
		}
	}
	return ix.def, ix.hasDef
}

// Builder fills an Index. The first value added for a name is kept.
type Builder[T any] struct {
	ix Index[T]
}

// Add parses h (see Parse) and adds v for it, unless the name already has a
// value: it then reports false and keeps the first.
func (b *Builder[T]) Add(h string, v T) bool {
	return b.AddName(Parse(h), v)
}

// AddName is Add for a parsed name.
func (b *Builder[T]) AddName(n Name, v T) bool {
	switch n.Kind {
	case Exact:
		return add(&b.ix.exact, n.Key, v)
	case Wildcard:
		return add(&b.ix.wild, n.Key, v)
	default:
		if b.ix.hasDef {
			return false
		}
		b.ix.def, b.ix.hasDef = v, true
		return true
	}
}

func add[T any](m *map[string]T, key string, v T) bool {
	if _, dup := (*m)[key]; dup {
		return false
	}
	if *m == nil {
		*m = map[string]T{}
	}
	(*m)[key] = v
	return true
}

// Index returns the index built so far. The Builder must not be used after.
func (b *Builder[T]) Index() Index[T] {
	return b.ix
}
