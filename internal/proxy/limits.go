package proxy

import "syscall"

// Connection limit per socket when Options.MaxConnections is 0: half the
// file descriptors the process may open (a proxied connection holds two,
// the client's and the upstream's), less a reserve for the admin API,
// logs and configuration files, between minMaxConnections and
// maxDefaultConnections. Go raises the soft RLIMIT_NOFILE to the hard
// limit at start (package os, Linux, since Go 1.19), so the limit read
// here is the hard one.
const (
	fdReserve             = 256
	minMaxConnections     = 64
	maxDefaultConnections = 50_000
)

// DefaultMaxConnections is the per-socket connection limit used when
// Options.MaxConnections is 0.
func DefaultMaxConnections() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return maxDefaultConnections
	}
	return connLimitFor(rl.Cur)
}

// connLimitFor is the default limit for a soft RLIMIT_NOFILE of nofile.
func connLimitFor(nofile uint64) int {
	if nofile <= fdReserve {
		return minMaxConnections
	}
	return int(min(max((nofile-fdReserve)/2, minMaxConnections), maxDefaultConnections))
}
