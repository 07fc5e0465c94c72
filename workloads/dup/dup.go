// Package dup is the descriptor-duplication workload: the article's dup of
// stdout and dup2 redirection, a shared file offset between duplicates,
// FD_CLOEXEC staying with one descriptor across an exec, and dup2 silently
// closing the descriptor it replaces.
package dup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// Workload returns the dup workload.
func Workload() *workloads.Workload {
	return &workloads.Workload{
		Name: "dup",
		Desc: "dup, dup2, dup3: the article's stdout tricks, shared offsets, O_CLOEXEC across exec, silent close",
		Guide: "Each dup returns the lowest free descriptor, and both numbers name one open file " +
			"description: the timeline shows them with the same identity, and a write through one " +
			"moves the offset lseek reports for the other. Status flags (O_APPEND) are shared too, " +
			"but FD_CLOEXEC belongs to each descriptor: after dup3 with O_CLOEXEC and an execve, " +
			"the child's shell gets EBADF for that number while a plain dup2 copy survives. dup2 " +
			"onto an open descriptor closes it with no close() call in sight.",
		// the stat calls are the exec'd child's look at /proc/self/fd: what tells a closed number
		Syscalls: []string{"dup", "dup2", "dup3", "close", "fcntl", "lseek", "write", "openat", "execve", "newfstatat", "statx", "stat"},
		Variants: []workloads.Variant{
			{Name: "stdout", Desc: "the article: dup(1), close(1), write through the duplicate, then restore stdout", Run: runStdout,
				Predictions: []workloads.Prediction{
					{ID: "same-file", Says: "dup(1) names fd 1's open file, and writes through it while fd 1 is closed", Check: "dup-same-file"},
				}},
			{Name: "dup2-file", Desc: "the article: dup2 a file onto stdout so a write to fd 1 lands in the file", Run: runDup2File,
				Predictions: []workloads.Prediction{
					{ID: "lands-in-file", Says: "after dup2 onto fd 1, a write to fd 1 lands in output.txt", Check: "write-lands-in", File: "output.txt", N: 1},
				}},
			{Name: "shared-offset", Desc: "a write through one descriptor moves its duplicate's offset too", Run: runSharedOffset,
				Predictions: []workloads.Prediction{
					{ID: "offset-moves", Says: "a write through one descriptor moves its duplicate's offset", Check: "shared-offset", File: "shared.txt"},
				}},
			{Name: "cloexec-exec", Desc: "dup3 with O_CLOEXEC, then execve: the child no longer has that fd", Run: runCloexecExec,
				Predictions: []workloads.Prediction{
					{ID: "closed-in-child", Says: "after exec the O_CLOEXEC duplicate is closed and the plain one open", Check: "cloexec-closed"},
				}},
			{Name: "dup2-close", Desc: "dup2 onto an open descriptor closes its old file silently", Run: runDup2Close,
				Predictions: []workloads.Prediction{
					{ID: "closed-silently", Says: "dup2 onto the open b.txt closes it with no close call; the next write goes to a.txt", Check: "dup2-closes", File: "b.txt"},
				}},
		},
	}
}

// runStdout is the article's second dup example, minus the getchar pause.
// Nothing is narrated while fd 1 is closed, since narration goes to fd 1.
func runStdout(env *workloads.Env) error {
	env.Printf("my PID is %d; duplicating fd 1", unix.Getpid())
	fd2, err := unix.Dup(1)
	if err != nil {
		return fmt.Errorf("dup(1): %w", err)
	}
	env.Printf("dup(1) = %d; closing fd 1", fd2)
	if err := unix.Close(1); err != nil {
		return fmt.Errorf("close(1): %w", err)
	}
	n, werr := unix.Write(fd2, []byte("Hello World\n"))
	// Put stdout back before anything else can be given fd 1.
	if err := dup2(fd2, 1); err != nil {
		return fmt.Errorf("restore stdout: %w", err)
	}
	unix.Close(fd2)
	if werr != nil {
		return fmt.Errorf("write through fd %d: %w", fd2, werr)
	}
	env.Printf("wrote %d bytes through fd %d while fd 1 was closed; fd 1 restored with %s", n, fd2, dup2Call(fd2, 1))
	return nil
}

// runDup2File is the article's dup2 example. Unlike the article, it saves
// stdout first and puts it back, since the workload keeps narrating.
func runDup2File(env *workloads.Env) error {
	if dup2Note != "" {
		env.Printf("%s", dup2Note)
	}
	path := env.Path("output.txt")
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("open output.txt: %w", err)
	}
	saved, err := unix.Dup(1)
	if err != nil {
		unix.Close(fd)
		return fmt.Errorf("dup(1): %w", err)
	}
	defer unix.Close(saved)

	if err := dup2(fd, 1); err != nil {
		unix.Close(fd)
		return fmt.Errorf("%s: %w", dup2Call(fd, 1), err)
	}
	_, werr := unix.Write(1, []byte("This will go to output.txt\n"))
	unix.Close(fd)
	if err := dup2(saved, 1); err != nil {
		return fmt.Errorf("restore stdout: %w", err)
	}
	if werr != nil {
		return fmt.Errorf("write(1): %w", werr)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read back output.txt: %w", err)
	}
	env.Printf("%s sent write(1, ...) to output.txt, which now holds %q; stdout restored from fd %d", dup2Call(fd, 1), got, saved)
	return nil
}

// offsetResult is what runSharedOffset saw.
type offsetResult struct {
	fd, dupFd             int
	offFd, offDup         int64 // after writing 10 bytes through fd
	appendSeenThroughFd   bool  // O_APPEND set on dupFd shows on fd
	cloexecFd, cloexecDup bool  // FD_CLOEXEC on each descriptor
}

func runSharedOffset(env *workloads.Env) error { _, err := sharedOffset(env); return err }

// sharedOffset shows what a duplicate shares (offset, status flags) and
// what it does not (the FD_CLOEXEC descriptor flag).
func sharedOffset(env *workloads.Env) (offsetResult, error) {
	var res offsetResult
	var err error
	res.fd, err = unix.Open(env.Path("shared.txt"), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("open shared.txt: %w", err)
	}
	defer unix.Close(res.fd)
	if res.dupFd, err = unix.Dup(res.fd); err != nil {
		return res, fmt.Errorf("dup(%d): %w", res.fd, err)
	}
	defer unix.Close(res.dupFd)

	n, err := unix.Write(res.fd, []byte("0123456789"))
	if err != nil {
		return res, fmt.Errorf("write: %w", err)
	}
	if res.offFd, err = unix.Seek(res.fd, 0, unix.SEEK_CUR); err != nil {
		return res, fmt.Errorf("lseek(%d): %w", res.fd, err)
	}
	if res.offDup, err = unix.Seek(res.dupFd, 0, unix.SEEK_CUR); err != nil {
		return res, fmt.Errorf("lseek(%d): %w", res.dupFd, err)
	}
	env.Printf("wrote %d bytes through fd %d: lseek(%d, 0, SEEK_CUR) = %d and lseek(%d, 0, SEEK_CUR) = %d (one open file description)",
		n, res.fd, res.fd, res.offFd, res.dupFd, res.offDup)

	fl, err := unix.FcntlInt(uintptr(res.dupFd), unix.F_GETFL, 0)
	if err != nil {
		return res, fmt.Errorf("fcntl F_GETFL: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(res.dupFd), unix.F_SETFL, fl|unix.O_APPEND); err != nil {
		return res, fmt.Errorf("fcntl F_SETFL: %w", err)
	}
	if fl, err = unix.FcntlInt(uintptr(res.fd), unix.F_GETFL, 0); err != nil {
		return res, fmt.Errorf("fcntl F_GETFL: %w", err)
	}
	res.appendSeenThroughFd = fl&unix.O_APPEND != 0
	env.Printf("O_APPEND set through fd %d; F_GETFL on fd %d shows it: %v (status flags are shared)", res.dupFd, res.fd, res.appendSeenThroughFd)

	if res.cloexecFd, err = cloexec(res.fd); err != nil {
		return res, err
	}
	if res.cloexecDup, err = cloexec(res.dupFd); err != nil {
		return res, err
	}
	env.Printf("FD_CLOEXEC: fd %d %v, fd %d %v (descriptor flags are per descriptor; dup clears it)", res.fd, res.cloexecFd, res.dupFd, res.cloexecDup)
	return res, nil
}

// cloexec reports whether fd has FD_CLOEXEC set.
func cloexec(fd int) (bool, error) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return false, fmt.Errorf("fcntl(%d, F_GETFD): %w", fd, err)
	}
	return fl&unix.FD_CLOEXEC != 0, nil
}

// execResult is what runCloexecExec saw.
type execResult struct {
	cloexecFd, plainFd int
	child              map[int]bool // fd number -> still open in the exec'd child
}

func runCloexecExec(env *workloads.Env) error { _, err := cloexecExec(env); return err }

// cloexecExec duplicates one file to two free descriptor numbers, one with
// dup3(O_CLOEXEC) and one with plain dup2, then fork+execs /bin/sh, which
// checks both numbers in /proc/self/fd (its stat fails with ENOENT for a
// closed number). Go's ForkExec keeps every descriptor not marked
// close-on-exec, so the difference is the flag alone.
func cloexecExec(env *workloads.Env) (execResult, error) {
	res := execResult{child: map[int]bool{}}
	fd, err := unix.Open(env.Path("cloexec.txt"), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("open cloexec.txt: %w", err)
	}
	defer unix.Close(fd)
	free, err := freeFds(2, 100)
	if err != nil {
		return res, err
	}
	res.cloexecFd, res.plainFd = free[0], free[1]
	if err := unix.Dup3(fd, res.cloexecFd, unix.O_CLOEXEC); err != nil {
		return res, fmt.Errorf("dup3(%d, %d, O_CLOEXEC): %w", fd, res.cloexecFd, err)
	}
	defer unix.Close(res.cloexecFd)
	if err := dup2(fd, res.plainFd); err != nil {
		return res, fmt.Errorf("%s: %w", dup2Call(fd, res.plainFd), err)
	}
	defer unix.Close(res.plainFd)
	if dup2Note != "" {
		env.Printf("%s", dup2Note)
	}
	env.Printf("dup3(%d, %d, O_CLOEXEC) and %s: the same file at two numbers, only fd %d close-on-exec",
		fd, res.cloexecFd, dup2Call(fd, res.plainFd), res.cloexecFd)

	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return res, fmt.Errorf("pipe2: %w", err)
	}
	defer unix.Close(p[0])
	// The shell looks at its own descriptor table: its stat of /proc/self/fd/N fails with
	// ENOENT for the number that close-on-exec closed (redirections would limit N to one digit).
	script := fmt.Sprintf(`for n in %d %d; do if [ -e /proc/self/fd/$n ]; then echo "$n open"; else echo "$n closed"; fi; done`,
		res.cloexecFd, res.plainFd)
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, &syscall.ProcAttr{
		Env:   []string{"PATH=/usr/bin:/bin"},
		Files: []uintptr{0, uintptr(p[1]), 2}, // the child's stdout is the pipe
	})
	unix.Close(p[1])
	if err != nil {
		return res, fmt.Errorf("fork/exec /bin/sh: %w", err)
	}
	out, rerr := readAll(p[0])
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		return res, fmt.Errorf("wait4 %d: %w", pid, err)
	}
	if rerr != nil {
		return res, rerr
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return res, fmt.Errorf("child sh %d ended with status %#x, output %q", pid, ws, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var n int
		var state string
		if _, err := fmt.Sscanf(line, "%d %s", &n, &state); err != nil {
			return res, fmt.Errorf("child sh printed %q: %w", line, err)
		}
		res.child[n] = state == "open"
	}
	env.Printf("after execve, child sh (pid %d): fd %d %s, fd %d %s",
		pid, res.cloexecFd, openWord(res.child[res.cloexecFd]), res.plainFd, openWord(res.child[res.plainFd]))
	return res, nil
}

func openWord(open bool) string {
	if open {
		return "open"
	}
	return "closed"
}

// freeFds returns the n lowest descriptor numbers from 3 up to below limit
// that are not open (fcntl F_GETFD fails with EBADF).
func freeFds(n, limit int) ([]int, error) {
	var free []int
	for fd := 3; fd < limit && len(free) < n; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); errors.Is(err, unix.EBADF) {
			free = append(free, fd)
		}
	}
	if len(free) < n {
		return nil, fmt.Errorf("need %d free descriptors below %d, found %v", n, limit, free)
	}
	return free, nil
}

// readAll reads fd to EOF.
func readAll(fd int) ([]byte, error) {
	var out bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return out.Bytes(), fmt.Errorf("read pipe: %w", err)
		}
		if n == 0 {
			return out.Bytes(), nil
		}
		out.Write(buf[:n])
	}
}

// closeResult is what runDup2Close saw.
type closeResult struct {
	a, b string // contents of a.txt and b.txt afterwards
}

func runDup2Close(env *workloads.Env) error { _, err := dup2Close(env); return err }

// dup2Close opens a.txt and b.txt, writes through b, then dup2s a onto b:
// b's open file is closed with no close call, and the next write through
// b lands in a.txt.
func dup2Close(env *workloads.Env) (closeResult, error) {
	var res closeResult
	if dup2Note != "" {
		env.Printf("%s", dup2Note)
	}
	a, err := unix.Open(env.Path("a.txt"), unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("open a.txt: %w", err)
	}
	defer unix.Close(a)
	b, err := unix.Open(env.Path("b.txt"), unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("open b.txt: %w", err)
	}
	defer unix.Close(b)
	if _, err := unix.Write(b, []byte("written through b\n")); err != nil {
		return res, fmt.Errorf("write fd %d: %w", b, err)
	}
	if err := dup2(a, b); err != nil {
		return res, fmt.Errorf("%s: %w", dup2Call(a, b), err)
	}
	if _, err := unix.Write(b, []byte("written through b after dup2\n")); err != nil {
		return res, fmt.Errorf("write fd %d: %w", b, err)
	}
	for name, dst := range map[string]*string{"a.txt": &res.a, "b.txt": &res.b} {
		got, err := os.ReadFile(env.Path(name))
		if err != nil {
			return res, fmt.Errorf("read back %s: %w", name, err)
		}
		*dst = string(got)
	}
	env.Printf("%s closed fd %d's b.txt without a close call; the next write through fd %d went to a.txt: a.txt %q, b.txt %q",
		dup2Call(a, b), b, b, res.a, res.b)
	return res, nil
}
