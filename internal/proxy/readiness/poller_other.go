//go:build !linux

package readiness

import (
	"net"
	"sync"
)

// poller exists only on Linux; elsewhere Register returns nil and every
// read waits in Go's poller.
type poller struct{ waiters sync.Map }

// Register returns nil: readiness hints need epoll.
func Register(net.Conn) *Waiter { return nil }

// RegisterHooks returns nil: readiness hints need epoll.
func RegisterHooks(net.Conn, Hooks, bool) *Waiter { return nil }
