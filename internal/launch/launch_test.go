package launch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMain lets Start re-execute the test binary as the gate.
func TestMain(m *testing.M) {
	MaybeRunGate()
	os.Exit(m.Run())
}

func startReleased(t *testing.T, opts Options) *Target {
	t.Helper()
	tg, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(tg.Abort)
	if err := tg.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	return tg
}

func TestWaitStatus(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   int
	}{
		{"exit 0", "exit 0", 0},
		{"exit 3", "exit 3", 3},
		{"killed by SIGTERM", "kill -TERM $$", 128 + int(syscall.SIGTERM)},
		{"killed by SIGKILL", "kill -KILL $$", 128 + int(syscall.SIGKILL)},
		{"pipe fd not leaked", "test ! -e /proc/$$/fd/3", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := startReleased(t, Options{Argv: []string{"/bin/sh", "-c", tt.script}})
			got, err := tg.Wait()
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestOptionsReachCommand(t *testing.T) {
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tg := startReleased(t, Options{
		Argv:   []string{"sh", "-c", `echo "$IOTRACE_TEST_VAR $(pwd) $0"`, "zero"},
		Env:    []string{"IOTRACE_TEST_VAR=hello", "PATH=/usr/bin:/bin"},
		Dir:    dir,
		Stdout: out,
	})
	if status, err := tg.Wait(); err != nil || status != 0 {
		t.Fatalf("Wait = %d, %v; want 0, nil", status, err)
	}
	got, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if want := "hello " + dir + " zero\n"; string(got) != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     Options
		notFound string // expected NotFoundError.Name, or "" for another error
		is       error
	}{
		{name: "no argv", opts: Options{}},
		{name: "not in PATH", opts: Options{Argv: []string{"iotrace-no-such-command"}}, notFound: "iotrace-no-such-command"},
		{name: "missing path", opts: Options{Argv: []string{"/nonexistent/cmd"}}, notFound: "/nonexistent/cmd"},
		{name: "relative to Dir, missing", opts: Options{Argv: []string{"./nope"}, Dir: dir}, notFound: "./nope"},
		{name: "not executable", opts: Options{Argv: []string{"./noexec"}, Dir: dir}, is: fs.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := Start(tt.opts)
			if err == nil {
				tg.Abort()
				t.Fatal("Start succeeded, want an error")
			}
			var nf *NotFoundError
			if tt.notFound != "" {
				if !errors.As(err, &nf) {
					t.Fatalf("err = %v (%T), want *NotFoundError", err, err)
				}
				if want := tt.notFound + ": command not found"; err.Error() != want {
					t.Errorf("message = %q, want %q", err, want)
				}
				return
			}
			if errors.As(err, &nf) {
				t.Errorf("err = %v, want something other than *NotFoundError", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want it to match %v", err, tt.is)
			}
		})
	}
}

func TestRelativeCommandRunsInDir(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tg := startReleased(t, Options{Argv: []string{"./script"}, Dir: dir})
	if status, err := tg.Wait(); err != nil || status != 7 {
		t.Fatalf("Wait = %d, %v; want 7, nil", status, err)
	}
}

func TestGateHoldsUntilRelease(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ran")
	tg, err := Start(Options{Argv: []string{"/bin/sh", "-c", "echo ran > " + file}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(tg.Abort)

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	// Still the gate (this test binary), and the command has not run.
	if exe, err := os.Readlink(filepathProc(tg.PID, "exe")); err != nil || exe != self {
		t.Errorf("/proc/%d/exe = %q, %v; want the gate %q", tg.PID, exe, err, self)
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("command ran before Release (stat: %v)", err)
	}

	if err := tg.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if status, err := tg.Wait(); err != nil || status != 0 {
		t.Fatalf("Wait = %d, %v; want 0, nil", status, err)
	}
	if got, err := os.ReadFile(file); err != nil || string(got) != "ran\n" {
		t.Errorf("file = %q, %v; want \"ran\\n\"", got, err)
	}
	if err := tg.Release(); err == nil {
		t.Error("second Release succeeded, want an error")
	}
}

func TestGateExecFailure(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	errOut, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errOut.Close()
	tg, err := Start(Options{Argv: []string{script}, Stderr: errOut})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(tg.Abort)
	// Gone between resolution and exec: the gate reports it as a shell would.
	if err := os.Remove(script); err != nil {
		t.Fatal(err)
	}
	if err := tg.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if status, err := tg.Wait(); err != nil || status != 127 {
		t.Fatalf("Wait = %d, %v; want 127, nil", status, err)
	}
	msg, _ := os.ReadFile(errOut.Name())
	if want := "exec " + script + ": no such file or directory"; !strings.Contains(string(msg), want) {
		t.Errorf("stderr = %q, want it to contain %q", msg, want)
	}
}

func TestGateExitsOnEOF(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ran")
	tg, err := Start(Options{Argv: []string{"/bin/sh", "-c", "echo ran > " + file}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(tg.Abort)
	// What the gate sees when the tracer dies before releasing it.
	tg.release.Close()
	tg.release = nil
	if status, err := tg.Wait(); err != nil || status != 1 {
		t.Fatalf("Wait = %d, %v; want 1, nil", status, err)
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("command ran without Release (stat: %v)", err)
	}
}

func TestAbortReaps(t *testing.T) {
	tg, err := Start(Options{Argv: []string{"/bin/sh", "-c", "exit 0"}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	tg.Abort()
	// Reaped: no child left to wait for, and no /proc entry (a zombie would keep one).
	var ws unix.WaitStatus
	if _, err := unix.Wait4(tg.PID, &ws, unix.WNOHANG, nil); !errors.Is(err, unix.ECHILD) {
		t.Errorf("wait4 after Abort: %v, want ECHILD", err)
	}
	if _, err := os.Stat(filepathProc(tg.PID, "")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("/proc/%d still exists after Abort (stat: %v)", tg.PID, err)
	}
	if status, err := tg.Wait(); err != nil || status != 128+int(syscall.SIGKILL) {
		t.Errorf("Wait after Abort = %d, %v; want %d, nil", status, err, 128+int(syscall.SIGKILL))
	}
}

func TestSignal(t *testing.T) {
	tg := startReleased(t, Options{Argv: []string{"/bin/sh", "-c", "exec sleep 30"}})
	if err := tg.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	if status, err := tg.Wait(); err != nil || status != 128+int(syscall.SIGTERM) {
		t.Fatalf("Wait = %d, %v; want %d, nil", status, err, 128+int(syscall.SIGTERM))
	}
	if err := tg.Signal(syscall.SIGTERM); err == nil {
		t.Error("Signal after Wait succeeded, want an error")
	}
}

func TestRunGateFailures(t *testing.T) {
	// runGate is exercised in-process only where it returns before exec.
	if got := runGate(nil); got != 2 {
		t.Errorf("runGate(nil) = %d, want 2", got)
	}
	if got := runGate([]string{"/bin/true"}); got != 2 {
		t.Errorf("runGate without argv = %d, want 2", got)
	}
}

func filepathProc(pid int, name string) string {
	return filepath.Join(procRoot, strconv.Itoa(pid), name)
}
