package health

import (
	"errors"
	"io"
	"syscall"
)

// ResetBeforeAnswer reports whether err, from an exchange on a new
// connection that got no byte of an answer, says the endpoint reset or
// closed it: the endpoint is failing as surely as when its connect is
// refused, and an idempotent request may go to another endpoint. (Whether
// the endpoint read any of the request cannot be known, hence idempotent
// requests only.)
func ResetBeforeAnswer(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
