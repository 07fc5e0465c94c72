// Package launch starts the traced command behind a gate, and checks a process for -p.
//
// Go cannot run code between fork and exec, so the child is this binary re-executed in a hidden
// gate mode ("/proc/self/exe __gate PATH ARGV…") with the read end of a pipe as fd 3. The gate
// blocks on that pipe and execs the command only when the tracer writes one byte: after every probe
// is attached and the child's pid is in the BPF filter map. If the tracer dies or gives up, the gate
// reads EOF and exits without running the command.
package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// gateArg is argv[1] of the re-executed binary in gate mode.
const gateArg = "__gate"

// GateFD is the descriptor the gate reads its release byte from (the first of exec.Cmd.ExtraFiles).
// GateFD is the gate's end of the release pipe: it is closed by the exec, never seen by the command.
const GateFD = 3

// init pins a gate's main goroutine to the process's main thread: an execve from another thread
// changes the caller's tid to the leader's mid-call, which splits the traced call in two.
func init() {
	if len(os.Args) > 1 && os.Args[1] == gateArg {
		runtime.LockOSThread()
	}
}

// MaybeRunGate must be called first thing in main: if this process is a gate, it waits for the
// release byte and execs the command, and never returns.
func MaybeRunGate() {
	if len(os.Args) < 2 || os.Args[1] != gateArg {
		return
	}
	os.Exit(runGate(os.Args[2:]))
}

// runGate waits on fd 3 and execs args[0] with argv args[1:]. It returns only on failure, with the
// exit status the gate should end with.
func runGate(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "iotrace: gate: missing command")
		return 2
	}
	var b [1]byte
	for {
		n, err := unix.Read(GateFD, b[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "iotrace: gate: read release pipe: %v\n", err)
			return 1
		}
		if n == 0 {
			// The tracer closed the pipe without releasing us: it failed or was killed.
			return 1
		}
		break
	}
	// The command must not inherit the pipe.
	unix.CloseOnExec(GateFD)
	err := unix.Exec(args[0], args[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "iotrace: exec %s: %v\n", args[0], err)
	// The statuses a shell uses for "not found" and "found but cannot run".
	if errors.Is(err, unix.ENOENT) {
		return 127
	}
	return 126
}

// NotFoundError reports that the command is not in PATH (or, given with a slash, does not exist).
type NotFoundError struct {
	Name string
}

func (e *NotFoundError) Error() string { return e.Name + ": command not found" }

// CannotRunError reports a command that exists but cannot be run (not executable, a directory):
// a shell exits 126 for it.
type CannotRunError struct {
	Name string
	Why  string
	Err  error
}

func (e *CannotRunError) Error() string { return e.Name + ": " + e.Why }
func (e *CannotRunError) Unwrap() error { return e.Err }

// Options describes the command to start.
type Options struct {
	Argv []string // argv[0] is resolved with exec.LookPath unless it contains a slash
	Env  []string // nil = os.Environ()
	Dir  string   // "" = the tracer's working directory
	// Stdin, Stdout and Stderr are passed to the command as they are; nil inherits the tracer's.
	Stdin, Stdout, Stderr *os.File
}

// Target is a started command: a gate child until Release, then the command itself (same PID).
type Target struct {
	PID int
	// Path is the file the gate will exec (relative to Options.Dir when not absolute).
	Path string

	cmd *exec.Cmd

	mu      sync.Mutex // Abort may come from a signal handler while Release runs
	release *os.File   // write end of the gate pipe; nil once released or aborted

	waitOnce   sync.Once
	waitStatus int
	waitErr    error
}

// Start starts the gate child. It has not exec'd the command yet: call Release after attaching, or
// Abort. The child stays in the tracer's process group, so it can read the terminal, and a SIGINT
// from the terminal reaches it as well as the tracer. Signals the tracer ignores (signal.Ignore)
// stay ignored in the command; signals it handles (signal.Notify) are reset to their defaults.
func Start(opts Options) (*Target, error) {
	if len(opts.Argv) == 0 {
		return nil, errors.New("start target: no command given")
	}
	path, err := resolve(opts.Argv[0], opts.Dir)
	if err != nil {
		return nil, err
	}

	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create gate pipe: %w", err)
	}
	defer r.Close() // the child has its own copy once started

	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       append([]string{os.Args[0], gateArg, path}, opts.Argv...),
		Env:        opts.Env,
		Dir:        opts.Dir,
		Stdin:      orDefault(opts.Stdin, os.Stdin),
		Stdout:     orDefault(opts.Stdout, os.Stdout),
		Stderr:     orDefault(opts.Stderr, os.Stderr),
		ExtraFiles: []*os.File{r},
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start gate for %s: %w", opts.Argv[0], err)
	}
	exe := path
	if opts.Dir != "" && !filepath.IsAbs(exe) {
		exe = filepath.Join(opts.Dir, exe)
	}
	return &Target{PID: cmd.Process.Pid, Path: exe, cmd: cmd, release: w}, nil
}

// orDefault keeps exec.Cmd from connecting a nil stream to /dev/null.
func orDefault(f, def *os.File) *os.File {
	if f == nil {
		return def
	}
	return f
}

// resolve finds the file the gate will exec, the way a shell would. A name with a slash is exec'd
// as given (relative to dir, where the gate runs); any other is searched in the tracer's PATH.
func resolve(name, dir string) (string, error) {
	hasSlash := strings.Contains(name, "/")
	check := name
	if hasSlash && dir != "" && !filepath.IsAbs(name) {
		check = filepath.Join(dir, name)
	}
	if st, serr := os.Stat(check); hasSlash && serr == nil && st.IsDir() {
		return "", &CannotRunError{Name: name, Why: "is a directory", Err: syscall.EISDIR}
	}
	path, err := exec.LookPath(check)
	switch {
	case err == nil:
	case errors.Is(err, exec.ErrDot):
		// Found through a relative PATH entry, as a shell would run it; pin it before the gate
		// changes directory.
		if path, err = filepath.Abs(path); err != nil {
			return "", fmt.Errorf("resolve %s: %w", name, err)
		}
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return "", &NotFoundError{Name: name}
	case errors.Is(err, fs.ErrPermission):
		return "", &CannotRunError{Name: name, Why: "permission denied (not executable)", Err: err}
	default:
		return "", fmt.Errorf("resolve %s: %w", name, err)
	}
	if hasSlash {
		return name, nil
	}
	return path, nil
}

// Release lets the gate exec the command. Call it after every probe is attached and PID is in the
// filter map.
func (t *Target) Release() error {
	t.mu.Lock()
	w := t.release
	t.release = nil
	t.mu.Unlock()
	if w == nil {
		return errors.New("release target: already released or aborted")
	}
	_, err := w.Write([]byte{1})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// EPIPE: the gate is already gone; Wait reports how it ended.
		return fmt.Errorf("release target %d: %w", t.PID, err)
	}
	return nil
}

// Abort kills the child and reaps it. It is meant for a gate that was never released (attach
// failed); after Release it kills the command itself.
func (t *Target) Abort() {
	t.mu.Lock()
	if t.release != nil {
		t.release.Close()
		t.release = nil
	}
	t.mu.Unlock()
	// The error is os.ErrProcessDone when it has already been reaped: nothing left to do.
	_ = t.cmd.Process.Kill()
	_, _ = t.Wait()
}

// Wait waits for the command to end and returns its status as a shell reports it: the exit code,
// or 128+N when killed by signal N. It may be called more than once.
func (t *Target) Wait() (status int, err error) {
	t.waitOnce.Do(func() {
		err := t.cmd.Wait()
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.waitErr = fmt.Errorf("wait for target %d: %w", t.PID, err)
			return
		}
		t.waitStatus = shellStatus(t.cmd.ProcessState)
	})
	return t.waitStatus, t.waitErr
}

func shellStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// Signal sends sig to the target (and only to it, not to its children). The target shares the
// tracer's process group, so a Ctrl-C at the terminal already reaches it without forwarding; the
// CLI decides whether to forward anything else.
func (t *Target) Signal(sig os.Signal) error {
	if err := t.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal target %d: %w", t.PID, err)
	}
	return nil
}
