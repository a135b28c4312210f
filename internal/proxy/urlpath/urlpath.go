package urlpath

import "errors"

// ErrPath is the error of every path Normalize refuses; the wrapped
// message says why.
var ErrPath = errors.New("invalid request path")

type pathError string

func (e pathError) Error() string { return "invalid request path: " + string(e) }
func (e pathError) Unwrap() error { return ErrPath }

var (
	errNotAbsolute = pathError("it does not start with /")
	errAboveRoot   = pathError("a .. segment climbs above the root")
	errEscape      = pathError("invalid percent-encoding")
	errControl     = pathError("control character or encoded NUL")
	errBackslash   = pathError("backslash")
	errDotParam    = pathError("dot segment with ; parameters")
)

// Byte classes of a path.
const (
	cEncode    = iota // kept only percent-encoded
	cKeep             // kept as it is
	cDot              // '.': kept, but may form a dot segment
	cSlash            // '/'
	cPercent          // '%'
	cSemicolon        // ';': kept, ends the part of a segment a dot test reads
	cControl          // refused
	cBackslash        // refused
)

var class = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = cControl
	}
	t[0x7f] = cControl
	for _, c := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~!$&'()*+,=:@[]" {
		t[c] = cKeep
	}
	t['.'], t['/'], t['%'], t[';'], t['\\'] = cDot, cSlash, cPercent, cSemicolon, cBackslash
	return t
}()

// unreserved is RFC 3986's unreserved set: decoded when percent-encoded.
var unreserved = func() (t [256]bool) {
	for _, c := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~" {
		t[c] = true
	}
	return t
}()

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

const upperHex = "0123456789ABCDEF"

// Normalize returns the normal form of the escaped path p (see the package
// documentation), p itself when it already is one.
func Normalize(p string) (string, error) {
	if IsNormal(p) {
		return p, nil
	}
	return normalize(p)
}

// IsNormal reports whether p is its own normal form: Normalize(p) returns
// p without an error. It allocates nothing.
func IsNormal(p string) bool {
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	seg := 1 // start of the current segment
	for i := 1; i < len(p); i++ {
		switch class[p[i]] {
		case cKeep:
		case cDot:
			// A dot segment ends at '/' or the end: checked there.
		case cSlash:
			if isDots(p[seg:i]) || i == seg {
				return false
			}
			seg = i + 1
		case cSemicolon:
			if isDots(p[seg:i]) {
				return false
			}
		case cPercent:
			if i+2 >= len(p) {
				return false
			}
			h, ok1 := unhex(p[i+1])
			l, ok2 := unhex(p[i+2])
			v := h<<4 | l
			if !ok1 || !ok2 || v == 0 || unreserved[v] || p[i+1] >= 'a' || p[i+2] >= 'a' {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return !isDots(p[seg:])
}

// isDots reports whether s is "." or "..".
func isDots(s string) bool {
	return s == "." || s == ".."
}

// normalize builds the normal form of p, or refuses it.
func normalize(p string) (string, error) {
	if len(p) == 0 || p[0] != '/' {
		return "", errNotAbsolute
	}
	// Pass 1: canonical bytes and escapes.
	b := make([]byte, 0, len(p)+8)
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch class[c] {
		case cControl:
			return "", errControl
		case cBackslash:
			return "", errBackslash
		case cPercent:
			if i+2 >= len(p) {
				return "", errEscape
			}
			h, ok1 := unhex(p[i+1])
			l, ok2 := unhex(p[i+2])
			if !ok1 || !ok2 {
				return "", errEscape
			}
			i += 2
			v := h<<4 | l
			switch {
			case v == 0:
				return "", errControl
			case unreserved[v]:
				b = append(b, v)
			default:
				b = append(b, '%', upperHex[h], upperHex[l])
			}
		case cEncode:
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		default:
			b = append(b, c)
		}
	}
	// Pass 2: merge empty segments and remove dot segments, in place.
	// out is b[:n] and always ends with '/' until the last segment; it
	// never overtakes the reading position i. A ".." scans back for the
	// previous '/', so no stack is needed.
	n := 1 // out starts with "/"
	for i := 1; i <= len(b); {
		j := i
		for j < len(b) && b[j] != '/' {
			j++
		}
		s := b[i:j]
		last := j == len(b)
		if k := indexSemicolon(s); k >= 0 && isDots(string(s[:k])) {
			return "", errDotParam
		}
		switch string(s) {
		case "", ".":
			// Merged or dropped; the trailing "/" (if last) is already
			// out, after the previous segment.
		case "..":
			if n == 1 {
				return "", errAboveRoot
			}
			// Drop the last segment of out and its '/', keep the '/'
			// before it: "/a/b/" becomes "/a/".
			k := n - 1
			if b[k] == '/' { // out ends with "/" (after a segment)
				k--
			}
			for b[k] != '/' {
				k--
			}
			n = k + 1
		default:
			n += copy(b[n:], s)
			if !last {
				b[n] = '/'
				n++
			}
		}
		i = j + 1
		if last {
			break
		}
	}
	return string(b[:n]), nil
}

func indexSemicolon(s []byte) int {
	for i, c := range s {
		if c == ';' {
			return i
		}
	}
	return -1
}
