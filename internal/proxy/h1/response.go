package h1

import (
	"bytes"
	"errors"
)

// response is an upstream response head. Its strings point into the
// upstream connection's buffer.
type response struct {
	status        int
	minor         int
	fields        []field
	contentLength int64 // -1: none
	chunked       bool
	close         bool // the upstream closes after this response
	connection    []string
	headLen       int
}

var (
	errBadResponse      = errors.New("malformed response from upstream")
	errResponseTooLarge = errors.New("response head from upstream too large")
)

// parseResponse parses the complete response head b into r. Framing
// problems (two different lengths, an unknown transfer coding) are errors:
// the client gets 502 rather than a body cut at the wrong place.
func parseResponse(b []byte, r *response) error {
	*r = response{fields: r.fields[:0], connection: r.connection[:0], contentLength: -1, headLen: len(b)}
	line, rest, ok := cutLine(b)
	if !ok || len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' {
		return errBadResponse
	}
	switch line[7] {
	case '0':
		r.minor = 0
	case '1':
		r.minor = 1
	default:
		return errBadResponse
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return errBadResponse
		}
	}
	r.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if r.status < 100 || len(line) > 12 && line[12] != ' ' {
		return errBadResponse
	}
	for _, c := range line[12:] {
		if badValue[c] {
			return errBadResponse
		}
	}
	var te string
	var tes int
	for {
		line, rest, ok = cutLine(rest)
		if !ok {
			return errBadResponse
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' || len(r.fields) == maxFields {
			return errBadResponse
		}
		f, ok := parseField(line)
		if !ok {
			return errBadResponse
		}
		r.fields = append(r.fields, f)
		switch len(f.name) {
		case 10:
			if equalFold(f.name, "connection") {
				r.connection = append(r.connection, f.value)
			}
		case 14:
			if equalFold(f.name, "content-length") {
				n, ok := parseLength(f.value)
				if !ok || r.contentLength >= 0 && n != r.contentLength {
					return errBadResponse
				}
				r.contentLength = n
			}
		case 17:
			if equalFold(f.name, "transfer-encoding") {
				tes++
				te = f.value
			}
		}
	}
	if tes > 0 {
		if tes > 1 || !equalFold(te, "chunked") {
			return errBadResponse
		}
		r.chunked = true
		r.contentLength = -1 // RFC 9112 section 6.3: chunked wins
	}
	r.close = wantsClose(r.minor, r.connection)
	return nil
}

// readResponseHead reads the next response head from uc into r. got
// reports whether any byte of it arrived (a reused connection that fails
// before that may be retried).
func (uc *upConn) readResponseHead(r *response) (got bool, err error) {
	if uc.r == uc.w {
		uc.r, uc.w = 0, 0
	} else if uc.r > 0 {
		copy(uc.buf, uc.buf[uc.r:uc.w])
		uc.w -= uc.r
		uc.r = 0
	}
	scan := 0
	for {
		if uc.w > 0 {
			got = true
			end, next := headEnd(uc.buf[:uc.w], scan)
			if end > maxHead {
				return true, errResponseTooLarge
			}
			if end > 0 {
				if err := parseResponse(uc.buf[:end], r); err != nil {
					return true, err
				}
				uc.r = end
				return true, nil
			}
			scan = next
			if uc.w > maxHead {
				return true, errResponseTooLarge
			}
		}
		if err := uc.fill(false); err != nil {
			return got, err
		}
	}
}

// bodyless reports whether a response to method with status has no body.
func bodyless(method string, status int) bool {
	return method == "HEAD" || status < 200 || status == 204 || status == 304
}

// chunkLine is the longest chunk-size line (with extensions) accepted.
const chunkLine = 4 << 10

var errChunk = errors.New("malformed chunked encoding")

// chunked decodes a chunked body incrementally (RFC 9112 section 7.1):
// strict hex sizes (at most 15 digits), extensions allowed and ignored,
// CRLF everywhere, trailer fields validated like header fields.
type chunked struct {
	state    uint8
	left     int64 // data bytes left in the current chunk
	trailers int   // bytes of trailer section read
}

const (
	chSize uint8 = iota
	chData
	chDataEnd
	chTrailer
	chDone
)

// piece kinds returned by next.
const (
	pMore    = iota // need more input
	pData           // piece is chunk data
	pTrailer        // piece is one trailer field line, without CRLF
	pDone           // the body ended; n includes the final CRLF
)

// next decodes the next piece of src. n is the number of bytes of src it
// consumed (possibly with kind pMore, for a chunk header read whole).
func (d *chunked) next(src []byte) (kind int, piece []byte, n int, err error) {
	for {
		switch d.state {
		case chSize:
			i := bytes.IndexByte(src[n:], '\n')
			if i < 0 {
				if len(src)-n > chunkLine {
					return 0, nil, n, errChunk
				}
				return pMore, nil, n, nil
			}
			line := src[n : n+i]
			if len(line) == 0 || line[len(line)-1] != '\r' {
				return 0, nil, n, errChunk
			}
			size, ok := parseChunkSize(line[:len(line)-1])
			if !ok {
				return 0, nil, n, errChunk
			}
			n += i + 1
			if size == 0 {
				d.state = chTrailer
			} else {
				d.state, d.left = chData, size
			}
		case chData:
			if n == len(src) {
				return pMore, nil, n, nil
			}
			k := int64(len(src) - n)
			if k > d.left {
				k = d.left
			}
			piece = src[n : n+int(k)]
			d.left -= k
			if d.left == 0 {
				d.state = chDataEnd
			}
			return pData, piece, n + int(k), nil
		case chDataEnd:
			if len(src)-n < 2 {
				return pMore, nil, n, nil
			}
			if src[n] != '\r' || src[n+1] != '\n' {
				return 0, nil, n, errChunk
			}
			n += 2
			d.state = chSize
		case chTrailer:
			i := bytes.IndexByte(src[n:], '\n')
			if i < 0 {
				if len(src)-n > maxHead-d.trailers {
					return 0, nil, n, errChunk
				}
				return pMore, nil, n, nil
			}
			line := src[n : n+i]
			if len(line) == 0 || line[len(line)-1] != '\r' {
				return 0, nil, n, errChunk
			}
			line = line[:len(line)-1]
			n += i + 1
			d.trailers += i + 1
			if d.trailers > maxHead {
				return 0, nil, n, errChunk
			}
			if len(line) == 0 {
				d.state = chDone
				return pDone, nil, n, nil
			}
			if line[0] == ' ' || line[0] == '\t' {
				return 0, nil, n, errChunk
			}
			if _, ok := parseField(line); !ok {
				return 0, nil, n, errChunk
			}
			return pTrailer, line, n, nil
		case chDone:
			return pDone, nil, n, nil
		}
	}
}

// parseChunkSize parses "1*HEXDIG [ext]" where ext is BWS ";" and then no
// control characters other than HTAB.
func parseChunkSize(line []byte) (int64, bool) {
	var size int64
	i := 0
	for ; i < len(line) && isHex(line[i]); i++ {
		if i == 15 {
			return 0, false // would overflow int64 soon; no real body is that large
		}
		c := line[i]
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		size = size<<4 | int64(c)
	}
	if i == 0 {
		return 0, false
	}
	ext := line[i:]
	for len(ext) > 0 && (ext[0] == ' ' || ext[0] == '\t') {
		ext = ext[1:]
	}
	if len(ext) > 0 {
		if ext[0] != ';' {
			return 0, false
		}
		for _, c := range ext {
			if badValue[c] {
				return 0, false
			}
		}
	} else if i < len(line) {
		return 0, false // whitespace after the size, then nothing
	}
	return size, true
}
