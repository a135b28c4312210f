package h2

import (
	"errors"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerBlock is a decoded header block: a HEADERS frame and its
// CONTINUATION frames. Its fields are the decoder's storage, valid until
// the next block is read: whoever keeps them copies them.
type headerBlock struct {
	*http2.HeadersFrame // stream, END_STREAM, priority (its fragment is spent)

	fields    []hpack.HeaderField // pseudo-header fields first
	npseudo   int
	truncated bool // over maxHeaderList: the fields stop there
}

func (b *headerBlock) pseudo() []hpack.HeaderField  { return b.fields[:b.npseudo] }
func (b *headerBlock) regular() []hpack.HeaderField { return b.fields[b.npseudo:] }

// blockReader decodes header blocks with the connection's HPACK decoder
// into storage reused from block to block. It checks what x/net's
// Framer.ReadMetaHeaders checks, with the same errors, but allocates
// neither a frame nor a field slice per request.
type blockReader struct {
	dec     *hpack.Decoder
	b       headerBlock
	remain  uint32 // header list budget left (RFC 9113 section 6.5.2)
	invalid error  // the first malformed field, which ends emitting
}

func (r *blockReader) init() {
	r.dec = hpack.NewDecoder(4096, r.emit)
	r.dec.SetMaxStringLength(maxHeaderList)
}

var errPseudoAfterRegular = errors.New("pseudo-header field after a regular field")

// emit takes one decoded field. Fields past the first malformed one, or
// past the budget, are decoded (the HPACK state must stay in step) but
// not kept.
func (r *blockReader) emit(hf hpack.HeaderField) {
	if !httpguts.ValidHeaderFieldValue(hf.Value) {
		r.stop(errMalformed("invalid value of field " + hf.Name))
		return
	}
	if strings.HasPrefix(hf.Name, ":") {
		if len(r.b.fields) > r.b.npseudo {
			r.stop(errPseudoAfterRegular)
			return
		}
	} else if !validFieldName(hf.Name) {
		r.stop(errMalformed("invalid field name " + hf.Name))
		return
	}
	if size := hf.Size(); size <= r.remain {
		r.remain -= size
	} else {
		r.b.truncated = true
		r.remain = 0
		r.dec.SetEmitEnabled(false)
		return
	}
	r.b.fields = append(r.b.fields, hf)
	if hf.Name[0] == ':' {
		r.b.npseudo++
	}
}

func (r *blockReader) stop(err error) {
	r.invalid = err
	r.dec.SetEmitEnabled(false)
}

// read decodes the block that f starts, reading its CONTINUATION frames
// from fr (the framer guarantees they follow, on the same stream). As
// x/net does, a fragment after a malformed field or after the budget ran
// out closes the connection rather than being decoded for nothing
// (CVE-2024-27316, "CONTINUATION flood").
func (r *blockReader) read(fr *http2.Framer, f *http2.HeadersFrame) (*headerBlock, error) {
	r.b = headerBlock{HeadersFrame: f, fields: r.b.fields[:0]}
	r.remain, r.invalid = maxHeaderList, nil
	r.dec.SetEmitEnabled(true)
	frag, ended := f.HeaderBlockFragment(), f.HeadersEnded()
	for first := true; ; first = false {
		if !first && (r.b.truncated || r.invalid != nil) {
			return nil, http2.ConnectionError(http2.ErrCodeProtocol)
		}
		if _, err := r.dec.Write(frag); err != nil {
			return nil, http2.ConnectionError(http2.ErrCodeCompression)
		}
		if ended {
			break
		}
		next, err := fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		cf := next.(*http2.ContinuationFrame) // guaranteed by the framer's frame order check
		frag, ended = cf.HeaderBlockFragment(), cf.HeadersEnded()
	}
	if err := r.dec.Close(); err != nil {
		return nil, http2.ConnectionError(http2.ErrCodeCompression)
	}
	if r.invalid != nil {
		return nil, http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeProtocol, Cause: r.invalid}
	}
	return &r.b, nil
}

// validFieldName reports whether name is a token in lower case, as RFC
// 9113 section 8.2.1 requires of field names on the wire.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !tchar[c] || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}
