package box

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a child process whose output goes to a log file. It is stopped
// by its PID only: SIGTERM, a grace period, then SIGKILL. The kernel kills it
// too if the process that started it dies (Pdeathsig), so a test binary
// killed by its timeout leaves nothing behind.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// StartProcess starts name with args and env (added to the current
// environment), appending stdout and stderr to logPath.
func StartProcess(name, logPath string, env []string, bin string, args ...string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited, with its wait error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM, waits up to grace for the process to exit, then sends
// SIGKILL and waits for it. It returns how long the stop took.
func (p *Process) Stop(grace time.Duration) time.Duration {
	start := time.Now()
	select {
	case <-p.done:
		return 0
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(start)
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return time.Since(start)
}

// ExitError describes why a process exited, for messages.
func (p *Process) ExitError() string {
	if ok, err := p.Exited(); ok {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.String()
		}
		if err != nil {
			return err.Error()
		}
		return "exited with status 0"
	}
	return "running"
}
