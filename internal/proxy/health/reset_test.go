package health

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestResetBeforeAnswer(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
	for err, want := range map[error]bool{
		opErr(syscall.ECONNRESET): true,
		opErr(syscall.EPIPE):      true,
		io.EOF:                    true,
		fmt.Errorf("reading: %w", io.ErrUnexpectedEOF): true,
		os.ErrDeadlineExceeded:                         false,
		opErr(syscall.ECONNREFUSED):                    false, // a connect error, handled as such
		errors.New("malformed response"):               false,
	} {
		if got := ResetBeforeAnswer(err); got != want {
			t.Errorf("ResetBeforeAnswer(%v) = %v, want %v", err, got, want)
		}
	}
}
