package router

// pathIndex finds, among a group's entries (sorted by cmpEntry), the first
// that matches a request without scanning them all, so matching cost does not
// grow with the number of routes on one host. The order cmpEntry defines is
// kept exactly: every Exact entry precedes every RegularExpression entry,
// which precede every PathPrefix entry; prefixes are ordered by length, and a
// request has at most one prefix of each length. So the first match is the
// first matching Exact entry for the path, else the first matching regex,
// else the first matching entry of the longest prefix of the path that has
// entries. Within one key, entries keep their sorted order.
type pathIndex struct {
	exact  map[string][]*entry
	regex  []*entry
	prefix map[string][]*entry // by PathPrefix value without trailing "/"
}

// indexThreshold is the group size from which an index beats a linear scan.
const indexThreshold = 16

// newPathIndex indexes sorted entries; nil for groups small enough to scan.
func newPathIndex(sorted []*entry) *pathIndex {
	if len(sorted) < indexThreshold {
		return nil
	}
	ix := &pathIndex{exact: map[string][]*entry{}, prefix: map[string][]*entry{}}
	for _, e := range sorted {
		switch e.kind {
		case pathExact:
			ix.exact[e.path] = append(ix.exact[e.path], e)
		case pathRegex:
			ix.regex = append(ix.regex, e)
		case pathPrefix:
			ix.prefix[e.path] = append(ix.prefix[e.path], e)
		}
	}
	return ix
}

func (ix *pathIndex) find(q *query) *entry {
	if e := first(ix.exact[q.path], q); e != nil {
		return e
	}
	if e := first(ix.regex, q); e != nil {
		return e
	}
	// The prefixes of a path, longest first: the path itself, then the path
	// cut before each "/" (hasPathPrefix), down to "" (PathPrefix "/").
	p := q.path
	if e := first(ix.prefix[p], q); e != nil {
		return e
	}
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != '/' {
			continue
		}
		if e := first(ix.prefix[p[:i]], q); e != nil {
			return e
		}
	}
	return nil
}

func first(es []*entry, q *query) *entry {
	for _, e := range es {
		if e.match(q) {
			return e
		}
	}
	return nil
}
