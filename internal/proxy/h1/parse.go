package h1

import (
	"bytes"
	"unsafe"
)

// MaxHead is the head size limit of both engines (the net/http engine
// sets its MaxHeaderBytes from it).
const MaxHead = 64 << 10

// Limits of what the parser accepts.
const (
	// maxHead bounds a request or response head (start line and fields):
	// a larger request head is answered 431, a larger response head 502.
	maxHead = MaxHead
	// maxFields bounds the number of header fields of one head (431).
	maxFields = 256
	// maxLeadingCRLF is how many empty lines may precede a request line
	// (RFC 9112 section 2.2: "SHOULD ignore at least one").
	maxLeadingCRLF = 4
)

// field is one header field. Both strings point into the connection's read
// buffer (or at configuration strings) and are only valid until the next
// request is read: they must never be kept.
type field struct{ name, value string }

// b2s views b as a string without copying. The string is valid as long as
// b's bytes are not overwritten: see field.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// tchar is RFC 9110's token character set (field names, methods).
var tchar = alnumAnd("!#$%&'*+-.^_`|~")

// alnumAnd is the set of ASCII letters and digits plus the bytes of extra.
func alnumAnd(extra string) (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range extra {
		t[c] = true
	}
	return t
}

// badValue marks the bytes a field value may not contain: CTLs other than
// HTAB (NUL, CR and LF among them) and DEL. obs-text (0x80-0xff) is allowed.
var badValue = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t'
	}
	t[0x7f] = true
	return t
}()

// fastPath marks the bytes of a request path that url.URL.EscapedPath
// returns unchanged, provided every '%' starts a valid escape: unreserved,
// sub-delims, ':', '@', '/', '[', ']' and '%'. A path with any other byte is
// served by the fallback path, where net/url decides.
var fastPath = alnumAnd("-._~!$&'()*+,;=:@/[]%")

// fastQuery marks the bytes of a query the fast path forwards as sent:
// what net/url accepts in RawQuery and httputil.ReverseProxy does not
// re-encode (no ';', '%' checked separately).
var fastQuery = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	t[';'] = false
	t['#'] = false
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validEscapes reports whether every '%' in s starts "%XX".
func validEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

// headEnd finds the end of a head in buf, which starts at its first line.
// It returns the length of the head including its empty line, or 0 when
// the head is incomplete. from is where the previous call stopped
// looking; the new value is returned for the next call. A line not ended
// by CRLF (bare LF) ends the search early: parsing then rejects it.
func headEnd(buf []byte, from int) (end, next int) {
	for {
		i := bytes.IndexByte(buf[from:], '\n')
		if i < 0 {
			return 0, len(buf)
		}
		nl := from + i
		// An empty line is "\r\n" right after the previous line's "\n",
		// or a bare "\n" there (rejected later, but it ends the head).
		if nl >= 1 && buf[nl-1] == '\n' || nl >= 2 && buf[nl-1] == '\r' && buf[nl-2] == '\n' {
			return nl + 1, nl + 1
		}
		from = nl + 1
	}
}

// cutLine returns the first line of b (without CRLF) and the rest. ok is
// false when the line is not ended by CRLF, or holds a CR elsewhere.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 1 || b[i-1] != '\r' {
		return nil, nil, false
	}
	return b[:i-1], b[i+1:], true
}

// parseField parses "name: value" (RFC 9112 section 5): a token name, no
// whitespace before the colon, optional whitespace around the value, no
// control characters. Lines starting with whitespace (obs-fold) are
// refused by the caller.
func parseField(line []byte) (field, bool) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return field{}, false
	}
	for _, c := range line[:colon] {
		if !tchar[c] {
			return field{}, false
		}
	}
	v := line[colon+1:]
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	for _, c := range v {
		if badValue[c] {
			return field{}, false
		}
	}
	return field{name: b2s(line[:colon]), value: b2s(v)}, true
}

// equalFold reports whether s equals the lower-case ASCII word lower,
// ignoring ASCII case.
func equalFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds token (given
// in lower case), ignoring case and optional whitespace.
func hasToken(v, token string) bool {
	for v != "" {
		var t string
		if i := indexByteString(v, ','); i >= 0 {
			t, v = v[:i], v[i+1:]
		} else {
			t, v = v, ""
		}
		if equalFold(trimOWS(t), token) {
			return true
		}
	}
	return false
}

func indexByteString(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseLength parses a Content-Length value: 1 to 18 digits, nothing else.
func parseLength(v string) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// wantsClose applies RFC 9112 section 9.3 to a message's Connection values:
// HTTP/1.1 stays open unless "close"; HTTP/1.0 only with "keep-alive".
func wantsClose(minor int, connection []string) bool {
	closeConn := minor == 0
	for _, v := range connection {
		if hasToken(v, "close") {
			return true
		}
		if minor == 0 && hasToken(v, "keep-alive") {
			closeConn = false
		}
	}
	return closeConn
}
