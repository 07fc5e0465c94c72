package main

// The integration tests run the real binary, built once by TestMain, on small real programs
// (testdata/iohelper.c, built with gcc, and ordinary commands), read its JSON Lines through
// internal/record, and assert what the kernel did. The tests that load BPF start with
// testutil.RequireBPF: outside CI they skip when this machine cannot load BPF; in CI they fail.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/replay"
	"github.com/iotrace/iotrace/internal/testutil"
)

var (
	iotraceBin string // the binary under test
	helperBin  string // testdata/iohelper.c, built
	helperErr  error  // why the helper could not be built
	stormBin   string // the bench's storm (../iotrace-bench/testdata/storm.c), built
	stormErr   error
)

// runTimeout bounds every command a test runs, so a hung trace fails instead of stalling CI.
var runTimeout = testutil.Timeout(30 * time.Second)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "iotrace-test-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "create build dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	// A run on another kernel (a guest without Go or gcc) ships both binaries prebuilt.
	iotraceBin = os.Getenv("IOTRACE_BIN")
	if iotraceBin == "" {
		iotraceBin = filepath.Join(dir, "iotrace")
		// go test puts its own GOROOT/bin first in PATH, so this is the go that runs the tests.
		build := exec.Command("go", "build", "-o", iotraceBin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build iotrace: %v\n%s", err, out)
			return 1
		}
	}
	helperBin, helperErr = buildC(dir, "IOTRACE_HELPER", "iohelper", filepath.Join("testdata", "iohelper.c"), "-O1")
	stormBin, stormErr = buildC(dir, "IOTRACE_STORM", "storm", filepath.Join("..", "iotrace-bench", "testdata", "storm.c"), "-O2")
	return m.Run()
}

// buildC builds a C helper into dir with gcc, static — unless env names one already built (a
// run on another kernel: the guest has no gcc).
func buildC(dir, env, name, src, opt string) (string, error) {
	if bin := os.Getenv(env); bin != "" {
		return bin, nil
	}
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("gcc", opt, "-Wall", "-Wextra", "-Werror", "-pthread", "-static", "-o", bin, src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s with gcc: %v\n%s", src, err, out)
	}
	return bin, nil
}

// requireHelper stops a test that needs the C helper when it could not be built: a skip
// outside CI (no gcc here), a failure in CI (make deps installs gcc).
func requireHelper(t *testing.T) {
	t.Helper()
	requireBuilt(t, helperErr)
}

func requireBuilt(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if testutil.InCI() {
		t.Fatal(err)
	}
	t.Skip(err)
}

// result is how a finished command ended.
type result struct {
	code           int
	stdout, stderr []byte
}

// run runs cmd to the end and returns its exit status and output. The command's own stdout and
// stderr are captured unless the caller set them.
func run(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run %s: %v\nstderr:\n%s", cmd, err, stderr.Bytes())
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.Bytes(), stderr: stderr.Bytes()}
}

// iotrace returns the binary under test as a command, killed when the test times out.
func iotrace(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	t.Cleanup(cancel)
	return exec.CommandContext(ctx, iotraceBin, args...)
}

// recording is one parsed JSON Lines timeline.
type recording struct {
	Header  *event.Header
	Events  []event.Event
	Summary *event.Summary
}

// readRecording parses data with internal/record. A recording that is cut short (no summary
// line, a broken last line) is an error: iotrace must always finish its file.
func readRecording(t *testing.T, name string, data []byte) *recording {
	t.Helper()
	rd, err := replay.NewReader(bytes.NewReader(data), name)
	if err != nil {
		t.Fatalf("read recording: %v", err)
	}
	rec := &recording{Header: rd.Header()}
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read recording: %v", err)
		}
		rec.Events = append(rec.Events, e)
	}
	for _, w := range rd.Warnings() {
		t.Errorf("recording is not complete: %s", w)
	}
	rec.Summary = rd.Summary()
	return rec
}

// readRecordingFile parses the recording iotrace wrote to path.
func readRecordingFile(t *testing.T, path string) *recording {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readRecording(t, filepath.Base(path), data)
}

// syscalls returns the syscall events that keep says yes to, in order.
func (r *recording) syscalls(keep func(*event.Syscall) bool) []*event.Syscall {
	var out []*event.Syscall
	for _, e := range r.Events {
		if s, ok := e.(*event.Syscall); ok && keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// named selects syscalls by name.
func named(name string) func(*event.Syscall) bool {
	return func(s *event.Syscall) bool { return s.Name == name }
}

// processes returns the process events called name (fork, exec, exit) of pid, or of every
// pid when pid is 0.
func (r *recording) processes(name string, pid uint32) []*event.Process {
	var out []*event.Process
	for _, e := range r.Events {
		if p, ok := e.(*event.Process); ok && p.Name == name && (pid == 0 || p.PID == pid) {
			out = append(out, p)
		}
	}
	return out
}

// execPID returns the pid of the first exec of filename: the launched command's pid.
func (r *recording) execPID(t *testing.T, filename string) uint32 {
	t.Helper()
	for _, p := range r.processes("exec", 0) {
		if p.Filename == filename {
			return p.PID
		}
	}
	t.Fatalf("no exec of %s in the recording:\n%s", filename, r.dump())
	return 0
}

// pids returns the set of pids that have events.
func (r *recording) pids() map[uint32]bool {
	out := map[uint32]bool{}
	for _, e := range r.Events {
		if l, ok := e.(*event.Lost); ok && l.PID == 0 {
			continue // a machine-wide count (events a BPF program was skipped for), no process's
		}
		out[e.Base().PID] = true
	}
	return out
}

// dump renders the events as JSON Lines, for failure messages.
func (r *recording) dump() string {
	var b []byte
	for _, e := range r.Events {
		b, _ = event.AppendJSON(b, e)
		b = append(b, '\n')
	}
	return string(b)
}

// bufData returns the "data" of a decoded buffer argument ({"data": "...", "trunc": true}).
func bufData(s *event.Syscall, key string) (data string, trunc bool, ok bool) {
	v, ok := s.Decoded.Get(key)
	if !ok {
		return "", false, false
	}
	f, ok := v.(event.Fields)
	if !ok {
		return "", false, false
	}
	data, ok = f.Str("data")
	_, trunc = f.Get("trunc")
	return data, trunc, ok
}

// iovec is one decoded element of an iovec array.
type iovec struct {
	Len   int64
	Data  string
	Trunc bool
}

// iovecs returns the decoded iovec array under key.
func iovecs(t *testing.T, s *event.Syscall, key string) []iovec {
	t.Helper()
	v, ok := s.Decoded.Get(key)
	if !ok {
		t.Fatalf("%s has no decoded %q: %v", s.Name, key, s.Decoded)
	}
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: decoded %q is %T, want an array", s.Name, key, v)
	}
	out := make([]iovec, 0, len(arr))
	for i, el := range arr {
		f, ok := el.(event.Fields)
		if !ok {
			t.Fatalf("%s: decoded %q[%d] is %T, want an object", s.Name, key, i, el)
		}
		var iov iovec
		iov.Len, _ = f.Int("len")
		iov.Data, _ = f.Str("data")
		_, iov.Trunc = f.Get("trunc")
		out = append(out, iov)
	}
	return out
}

// lineWatcher reads a stream line by line in the background, keeps every line, and lets a test
// wait for a line that matches.
type lineWatcher struct {
	mu      sync.Mutex
	lines   []string
	eof     bool
	next    int           // the first line waitFor has not looked at
	changed chan struct{} // a new line, or the end
	done    chan struct{}
}

func watchLines(r io.Reader) *lineWatcher {
	w := &lineWatcher{changed: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			w.mu.Unlock()
			w.notify()
		}
		w.mu.Lock()
		w.eof = true
		w.mu.Unlock()
		w.notify()
	}()
	return w
}

func (w *lineWatcher) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// waitFor returns the first line not looked at before for which match is true, or fails the
// test when the stream ends or timeout passes first.
func (w *lineWatcher) waitFor(t *testing.T, what string, timeout time.Duration, match func(string) bool) string {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		w.mu.Lock()
		for ; w.next < len(w.lines); w.next++ {
			if line := w.lines[w.next]; match(line) {
				w.next++
				w.mu.Unlock()
				return line
			}
		}
		eof := w.eof
		w.mu.Unlock()
		if eof {
			t.Fatalf("waiting for %s: the stream ended", what)
		}
		select {
		case <-w.changed:
		case <-timer.C:
			t.Fatalf("waiting for %s: nothing after %v", what, timeout)
		}
	}
}

// text returns everything read, once the stream has ended.
func (w *lineWatcher) text() string {
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, l := range w.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// loopProc is iohelper's loop mode: an unrelated process that writes MARKER\n to stdout every
// 10 ms until it is killed.
type loopProc struct {
	pid  int
	n    atomic.Int64 // lines seen
	tick chan struct{}
}

// startLoop starts a loop helper and returns once it has written its first marker.
func startLoop(t *testing.T, marker string) *loopProc {
	t.Helper()
	cmd := exec.Command(helperBin, "loop", marker)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start loop helper: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	p := &loopProc{pid: cmd.Process.Pid, tick: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.n.Add(1)
			select {
			case p.tick <- struct{}{}:
			default:
			}
		}
	}()
	p.waitLines(t, 1)
	return p
}

// waitLines waits until the loop has written n more markers.
func (p *loopProc) waitLines(t *testing.T, n int64) {
	t.Helper()
	target := p.n.Load() + n
	timer := time.NewTimer(testutil.Timeout(10 * time.Second))
	defer timer.Stop()
	for p.n.Load() < target {
		select {
		case <-p.tick:
		case <-timer.C:
			t.Fatalf("loop helper %d wrote no marker for 10s", p.pid)
		}
	}
}

// bpfProgramsOf returns the BPF programs process pid holds open (through program fds or links),
// by id, with their names, read from /proc/PID/fdinfo.
func bpfProgramsOf(t *testing.T, pid int) map[ebpf.ProgramID]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	progs := map[ebpf.ProgramID]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed since the listing
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			v, ok := strings.CutPrefix(line, "prog_id:")
			if !ok {
				continue
			}
			id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				t.Fatalf("%s/%s: bad prog_id line %q", dir, e.Name(), line)
			}
			progs[ebpf.ProgramID(id)] = programName(t, ebpf.ProgramID(id))
		}
	}
	return progs
}

// programName returns the name of a loaded program, "" when it is gone.
func programName(t *testing.T, id ebpf.ProgramID) string {
	t.Helper()
	p, err := ebpf.NewProgramFromID(id)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatalf("open BPF program %d: %v", id, err)
	}
	defer p.Close()
	info, err := p.Info()
	if err != nil {
		t.Fatalf("info of BPF program %d: %v", id, err)
	}
	return info.Name
}
