package readiness

import (
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// epollET is EPOLLET as the uint32 epoll_event wants it (the syscall
// package declares it negative).
const epollET = 1 << 31

// poller is the process's epoll instance and the Waiters by fd. Its fd is
// itself registered with Go's poller, so the goroutine that drains it
// parks like any reader until some socket has news.
type poller struct {
	epfd    int
	waiters sync.Map // int32 fd -> *Waiter
}

var shared struct {
	once sync.Once
	p    *poller
}

func get() *poller {
	shared.once.Do(func() {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		if err := syscall.SetNonblock(epfd, true); err != nil {
			syscall.Close(epfd)
			return
		}
		f := os.NewFile(uintptr(epfd), "portico-readiness")
		rc, err := f.SyscallConn()
		if err != nil {
			f.Close()
			return
		}
		p := &poller{epfd: epfd}
		go p.run(f, rc)
		go p.reap()
		shared.p = p
	})
	return shared.p
}

// run drains the epoll instance for the life of the process: each event
// notifies its socket's Waiter, in the order the kernel reports them.
func (p *poller) run(f *os.File, rc syscall.RawConn) {
	defer f.Close()
	events := make([]syscall.EpollEvent, 256)
	var n int
	// One closure for the life of the loop: a fresh one per wakeup would
	// cost two allocations (it and n escape into RawConn.Read).
	wait := func(uintptr) bool {
		var err error
		n, err = syscall.EpollWait(p.epfd, events, 0)
		if err != nil { // EINTR: try again when the poller says so
			n = 0
		}
		return n > 0
	}
	for {
		if err := rc.Read(wait); err != nil {
			return
		}
		for _, ev := range events[:n] {
			if w, ok := p.waiters.Load(ev.Fd); ok {
				w.(*Waiter).notify(ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0)
			}
		}
	}
}

// reap enforces WaitIdle deadlines, for the life of the process.
func (p *poller) reap() {
	for now := range time.Tick(reapEvery) {
		n := now.UnixNano()
		coarse.Store(n)
		p.waiters.Range(func(_, w any) bool {
			w.(*Waiter).expire(n)
			w.(*Waiter).check(n)
			return true
		})
	}
}

// Register starts watching nc's socket, or returns nil when it cannot.
func Register(nc net.Conn) *Waiter { return RegisterHooks(nc, Hooks{}, true) }

// RegisterHooks is Register with hooks. Without data, only the peer's
// hang-up is watched (one event per connection, never one per arrival):
// Wait must then not be used, and Arm is enforced all the same.
func RegisterHooks(nc net.Conn, h Hooks, data bool) *Waiter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := get()
	if p == nil {
		return nil
	}
	var w *Waiter
	err = rc.Control(func(fd uintptr) {
		w = newWaiter(p, int32(fd), h)
		p.waiters.Store(w.fd, w)
		mask := uint32(syscall.EPOLLRDHUP | epollET)
		if data {
			mask |= syscall.EPOLLIN
		}
		ev := syscall.EpollEvent{Events: mask, Fd: w.fd}
		if syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev) != nil {
			p.waiters.CompareAndDelete(w.fd, w)
			w = nil
		}
	})
	if err != nil {
		return nil
	}
	return w
}
