package session

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/launch"
	"github.com/iotrace/iotrace/internal/probe"
)

// waitSignals are the signals a traced run handles itself. SIGPIPE is among them so that a
// closed stdout makes a write fail (the renderer is dropped, the recording goes on) instead of
// killing iotrace; SIGQUIT so that Ctrl-\ stops tracing without a goroutine dump.
var waitSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE}

// InterruptedError is a run stopped by a signal before tracing began: the command never ran.
type InterruptedError struct{ Sig os.Signal }

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted (%s) before tracing began: the command was not run", e.Sig)
}

// pendingStop returns a signal that came while the run was being set up and asks it to stop.
func pendingStop(sigs <-chan os.Signal) os.Signal {
	for {
		select {
		case sig := <-sigs:
			if sig != syscall.SIGPIPE {
				return sig
			}
		default:
			return nil
		}
	}
}

// early catches the signals a run handles from the moment iotrace starts (CatchSignals), so
// that one sent while the command line is still being parsed ends the run cleanly too.
var early chan os.Signal

// CatchSignals starts catching the signals a traced run handles; call it first thing in a
// process that is going to trace.
func CatchSignals() {
	early = make(chan os.Signal, 4)
	signal.Notify(early, waitSignals...)
}

// signals returns the channel of the run's signals, and a function that stops catching them.
func signals() (chan os.Signal, func()) {
	if early != nil {
		return early, func() { signal.Stop(early) }
	}
	c := make(chan os.Signal, 4)
	signal.Notify(c, waitSignals...)
	return c, func() { signal.Stop(c) }
}

// termGrace is how long a target that was sent SIGTERM or SIGHUP may take to exit before
// iotrace stops tracing it and leaves it running.
const termGrace = 3 * time.Second

// waiter waits for the end of a run: the target's exit and then its descendants', or the user
// asking to stop — strace -f's habits, with a second Ctrl-C that always gets out.
type waiter struct {
	set  *probe.Set
	sigs <-chan os.Signal
	info io.Writer
	name string // the target, for messages
	ints int    // Ctrl-Cs so far
}

// target waits for a launched command and returns its exit status.
func (w *waiter) target(t *launch.Target) (int, error) {
	done := make(chan struct{})
	var status int
	var err error
	go func() {
		status, err = t.Wait()
		close(done)
	}()
	var grace <-chan time.Time
	for {
		select {
		case <-done:
			if err != nil {
				return 0, err
			}
			return w.descendants(status)
		case <-grace:
			fmt.Fprintf(w.info, "iotrace: %s (pid %d) did not exit within %s of the signal: stopped tracing; it goes on running, untraced\n",
				w.name, t.PID, termGrace)
			return 128 + int(syscall.SIGTERM), nil
		case sig := <-w.sigs:
			switch sig {
			case syscall.SIGPIPE:
				// a write to a closed stdout failed: the renderer that made it is dropped
			case syscall.SIGINT:
				// the terminal sent it to the whole foreground group, the command included
				if w.ints++; w.ints == 1 {
					fmt.Fprintf(w.info, "iotrace: interrupt: waiting for %s to exit (Ctrl-C again stops tracing and leaves it running)\n", w.name)
					continue
				}
				fmt.Fprintf(w.info, "iotrace: stopped tracing; %s (pid %d) goes on running, untraced\n", w.name, t.PID)
				return 128 + int(syscall.SIGINT), nil
			case syscall.SIGQUIT:
				fmt.Fprintf(w.info, "iotrace: quit: stopped tracing; %s (pid %d) goes on running, untraced\n", w.name, t.PID)
				return 128 + int(syscall.SIGQUIT), nil
			case syscall.SIGTERM, syscall.SIGHUP:
				if grace != nil {
					// asked twice: stop now
					fmt.Fprintf(w.info, "iotrace: stopped tracing; %s (pid %d) goes on running, untraced\n", w.name, t.PID)
					return 128 + int(sig.(syscall.Signal)), nil
				}
				// aimed at iotrace (or at the session, for a hangup): the command gets it too
				_ = t.Signal(sig)
				grace = time.After(termGrace)
			}
		}
	}
}

// attached waits for an attached process to exit, or for the user to detach.
func (w *waiter) attached(pid int) (int, error) {
	exited := make(chan struct{})
	if pidfd, err := unix.PidfdOpen(pid, 0); err == nil {
		go func() {
			defer unix.Close(pidfd)
			fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
			for {
				if _, err := unix.Poll(fds, -1); err == nil || !errors.Is(err, unix.EINTR) {
					close(exited)
					return
				}
			}
		}()
	} // without pidfd (kernels before 5.3) only a signal detaches
	for {
		select {
		case <-exited:
			return w.descendants(0)
		case sig := <-w.sigs:
			if sig == syscall.SIGPIPE {
				continue
			}
			// Ctrl-C, TERM, HUP, QUIT: detach; the process goes on as it was
			fmt.Fprintf(w.info, "iotrace: detached from %s\n", w.name)
			return 0, nil
		}
	}
}

// descendants keeps tracing while processes of the traced tree outlive its root (a daemon that
// forked away), as strace -f does; status is what iotrace exits with at the end.
func (w *waiter) descendants(status int) (int, error) {
	said := false
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		left, err := w.set.Traced()
		if err != nil {
			return status, err
		}
		if len(left) == 0 {
			return status, nil
		}
		if !said {
			fmt.Fprintf(w.info, "iotrace: %s ended; still tracing what it left running: %s (Ctrl-C stops tracing and leaves them running)\n",
				w.name, describePIDs(left))
			said = true
		}
		select {
		case <-tick.C:
		case sig := <-w.sigs:
			if sig == syscall.SIGPIPE {
				continue
			}
			fmt.Fprintf(w.info, "iotrace: stopped tracing; %s go on running, untraced\n", describePIDs(left))
			return status, nil
		}
	}
}

// describePIDs is "pid 123 (sshd), pid 456 (sh)".
func describePIDs(pids []int) string {
	slices.Sort(pids)
	var parts []string
	for _, pid := range pids {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if c := strings.TrimSpace(string(comm)); c != "" {
			parts = append(parts, fmt.Sprintf("pid %d (%s)", pid, c))
		} else {
			parts = append(parts, fmt.Sprintf("pid %d", pid))
		}
	}
	return strings.Join(parts, ", ")
}
