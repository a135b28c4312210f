// Package readiness tells a goroutine when a socket it reads has data, so
// that its read finds the data instead of failing with EAGAIN first.
//
// Go's network poller reads before it waits: a keep-alive connection
// waiting for its next request costs a read that finds nothing, then a
// park, on every request; and the goroutines one poll wakes run newest
// first (the runtime collects them on a LIFO list), which widens the
// latency tail. This package keeps an epoll instance of its own, in
// edge-triggered mode, registered once per socket: a Waiter learns of
// each arrival, Wait returns at once when data came since the last Wait,
// and waiters woken by one poll are woken in the order the kernel
// reports them.
//
// It is a hint, never the only way to read: Wait may return when there
// is nothing to read (data that arrived was already consumed), and the
// read that follows then waits in Go's poller as usual, under the
// connection's deadline. So a caller keeps its read deadlines.
//
// A hint may come early, never late: a token left by data that a read
// already consumed (the read found it before the wait) makes the next
// Wait return at once, and that read then waits in Go's poller. Under
// load the next arrival usually precedes the next wait and the two fall
// back in step; in strict ping-pong they may stay out of step, which
// costs the EAGAIN read this package saves, never a missed arrival.
//
// Input: a net.Conn backed by a socket (*net.TCPConn). Output: a Waiter,
// or nil where the platform or the connection does not allow it (then
// every Wait returns at once). The package reads no environment: its users
// leave it out when configured to (proxy.Options.DisableReadiness, which
// the CLI sets from PORTICO_READINESS=off).
//
// Hooks (RegisterHooks) let a connection act when its peer hangs up
// (EPOLLRDHUP, EPOLLHUP, EPOLLERR; a registration without data watches
// only that, for TLS connections whose reads do not wait here) and when
// a deadline set with Arm passes. Arm costs no timer: the reaper that
// enforces WaitIdle deadlines checks it on its 250 ms sweep, and Arm
// reads the reaper's clock, not the time. Hooks run on the poller's and
// the reaper's goroutines and must not block.
//
// A Waiter is never removed from epoll explicitly: closing the socket
// removes it, and removing an fd that might already be closed and reused
// by another connection would silence that one. Events for fds without a
// Waiter are ignored.
package readiness
