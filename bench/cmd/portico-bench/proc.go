package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs tracks every process the driver started, so that each one (and
// only those) is stopped by PID at the end, on an error or on a signal.
type procs struct {
	mu   sync.Mutex
	live map[int]*proc
}

// proc is one started process: a process group leader (Setpgid), so that
// stopping it also stops the workers it forked (nginx), by its own PGID.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

var tracked = &procs{live: map[int]*proc{}}

// start runs argv with env added to the environment, stdout and stderr to
// logPath, in its own process group.
func (ps *procs) start(name, logPath string, env []string, argv ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	ps.mu.Lock()
	ps.live[cmd.Process.Pid] = p
	ps.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended (and how).
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM to the process group of p (its PGID is its PID), waits
// up to 5 s, then SIGKILLs the group.
func (ps *procs) stop(p *proc) {
	if p == nil {
		return
	}
	pgid := p.pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
		}
	}
	// Workers that outlived their master (should not happen) are in the
	// same group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	ps.mu.Lock()
	delete(ps.live, pgid)
	ps.mu.Unlock()
}

// stopAll stops every process still tracked.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	var all []*proc
	for _, p := range ps.live {
		all = append(all, p)
	}
	ps.mu.Unlock()
	for _, p := range all {
		ps.stop(p)
	}
}

// tree returns pid and all its descendants, from /proc.
func tree(pid int) []int {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(n)
		if err != nil {
			continue
		}
		children[st.ppid] = append(children[st.ppid], n)
	}
	out := []int{pid}
	for i := 0; i < len(out) && i < 10000; i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// procStat is what the driver reads from /proc/<pid>/stat.
type procStat struct {
	ppid         int
	utime, stime uint64 // clock ticks, all threads of the process
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// parseStat parses /proc/<pid>/stat (proc(5)): the command name is in
// parentheses and may hold spaces, so fields are counted after the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("stat: %d fields after the name", len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	ut, err2 := strconv.ParseUint(f[11], 10, 64)
	st, err3 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procStat{}, fmt.Errorf("stat: %w", err)
	}
	return procStat{ppid: ppid, utime: ut, stime: st}, nil
}

// cpuTicks is the utime+stime of pid and its descendants, in clock ticks.
func cpuTicks(pid int) uint64 {
	var sum uint64
	for _, p := range tree(pid) {
		if st, err := readStat(p); err == nil {
			sum += st.utime + st.stime
		}
	}
	return sum
}

// clockTick is USER_HZ (sysconf(_SC_CLK_TCK)), 100 on Linux unless getconf
// says otherwise.
func clockTick() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && v > 0 {
			return float64(v)
		}
	}
	return 100
}

// pin sets the CPU affinity of pid and all its threads and descendants
// (taskset -a -p).
func pin(pid int, cpus string) error {
	for _, p := range tree(pid) {
		if out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(p)).CombinedOutput(); err != nil {
			return fmt.Errorf("taskset %s %d: %v: %s", cpus, p, err, out)
		}
	}
	return nil
}
