// Package e2e runs the iotrace binary end to end: its built-in workloads, traced, checked for the
// kernel facts each variant exists to show (DESIGN.md §5) in the recording it writes.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/replay"
	"github.com/iotrace/iotrace/internal/testutil"
)

// runTimeout bounds one traced run (they take about a second), so a hung one fails the test.
var runTimeout = testutil.Timeout(90 * time.Second)

// run is one `iotrace run` of a workload: the recording it wrote and what reached stdout.
type run struct {
	header  *event.Header
	events  []event.Event
	summary *event.Summary
	// stdout holds the workload's own narration: with --format jsonl it goes to stderr, and
	// iotrace's stdout is JSON Lines only.
	stdout string
	// pids are the workload process (the one that exec'd `iotrace __workload`) and its
	// descendants, so iotrace's own start-up never counts.
	pids map[uint32]bool
	// siblings are the runs of the workload's other variants, by name.
	siblings map[string]*run
	// file is the recording (JSON Lines), for the tests that read it again.
	file string
}

// traceRun runs `iotrace run ARGS… --format jsonl -o FILE` and reads FILE back with
// internal/record; every line of stdout must be JSON Lines, the narration being on stderr.
func traceRun(t *testing.T, args ...string) *run {
	t.Helper()
	testutil.RequireBPF(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	argv := append(append([]string{"run"}, args...), "--format", "jsonl", "-o", out)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.Binary(t), argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("iotrace %s: %v\nstderr:\n%s", strings.Join(argv, " "), err, stderr.String())
	}

	for i, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		if _, err := event.ParseLine([]byte(line)); err != nil {
			t.Fatalf("stdout line %d is not JSON Lines (%v): %q", i+1, err, line)
		}
	}
	r := &run{stdout: stderr.String(), pids: map[uint32]bool{}, file: out}
	rd, err := replay.Open(out)
	if err != nil {
		t.Fatalf("read the recording: %v", err)
	}
	defer rd.Close()
	r.header = rd.Header()
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read the recording: %v", err)
		}
		r.events = append(r.events, e)
	}
	r.summary = rd.Summary()
	for _, w := range rd.Warnings() {
		t.Errorf("recording: %s", w)
	}
	// Losses are counted and shown, never silent; most are kernel events raised inside a BPF
	// program (a page fault while it reads user memory). They fail no test by themselves, but a
	// missing fact below may be one of them.
	if r.summary.Lost > 0 {
		reasons := map[string]uint64{}
		for _, e := range r.events {
			if l, ok := e.(*event.Lost); ok {
				reasons[l.Reason] += l.Count
			}
		}
		t.Logf("%d events were lost: %v", r.summary.Lost, reasons)
	}
	if c := r.summary.ExitCode; c == nil || *c != 0 {
		t.Errorf("the summary's exit code is not 0 (nil: none recorded): %v", deref(c))
	}
	r.findWorkload(t)
	return r
}

// findWorkload sets r.pids: the pid that exec'd `iotrace __workload`, then every process it
// forked, transitively (forks are recorded in order, so one pass suffices).
func (r *run) findWorkload(t *testing.T) {
	t.Helper()
	for _, s := range calls(r.events, "execve") {
		if argv, _ := s.Decoded.Get("argv"); s.Ret == 0 && slices.Contains(strs(argv), "__workload") {
			r.pids[s.PID] = true
			break
		}
	}
	if len(r.pids) == 0 {
		// iotrace loses the gate's execve when the gate execs from a thread other than its
		// leader (the exec hands the thread the leader's tid). The exec event still names the
		// workload's process, so the facts are checked regardless.
		t.Errorf("no execve of `iotrace __workload` in the recording; its execve calls:%s", brief(calls(r.events, "execve")))
		for _, e := range r.events {
			if p, ok := e.(*event.Process); ok && p.Name == "exec" {
				r.pids[p.PID] = true
				break
			}
		}
	}
	if len(r.pids) == 0 {
		t.Fatal("no exec event either: cannot tell the workload's process")
	}
	for _, e := range r.events {
		if p, ok := e.(*event.Process); ok && p.Name == "fork" && r.pids[p.PID] {
			r.pids[p.ChildPID] = true
		}
	}
}

// variantDir matches the directory workloads.Run makes for each variant, in order, just before
// running it: $TMPDIR/iotrace-NAME-RANDOM/VARIANT.
var variantDir = regexp.MustCompile(`/iotrace-[a-z]+-[0-9]+/([a-z0-9-]+)$`)

// variant returns the workload's events from the mkdirat of the variant's directory up to the
// next variant's (when the run has several), in time order: the workload's start-up is left out.
func (r *run) variant(t *testing.T, name string) timeline {
	t.Helper()
	type marker struct {
		ts   uint64
		name string
	}
	var marks []marker
	for _, s := range calls(r.events, "mkdirat", "mkdir") {
		p, _ := s.Decoded.Str("pathname")
		if m := variantDir.FindStringSubmatch(p); m != nil && s.Ret == 0 && r.pids[s.PID] {
			marks = append(marks, marker{s.TS, m[1]})
		}
	}
	slices.SortFunc(marks, func(a, b marker) int { return cmpU64(a.ts, b.ts) })
	i := slices.IndexFunc(marks, func(m marker) bool { return m.name == name })
	if i < 0 {
		t.Fatalf("variant %s did not run: no mkdirat of its directory in the recording", name)
	}
	from, to := marks[i].ts, ^uint64(0)
	if i+1 < len(marks) {
		to = marks[i+1].ts
	}
	var tl timeline
	for _, e := range r.events {
		if c := e.Base(); r.pids[c.PID] && c.TS >= from && c.TS < to {
			tl = append(tl, e)
		}
	}
	slices.SortStableFunc(tl, func(a, b event.Event) int { return cmpU64(a.Base().TS, b.Base().TS) })
	return tl
}

// workload returns every event of the workload's processes, in time order, for runs that do not
// trace mkdirat (the default narrowed set), where variant cannot find its start.
func (r *run) workload() timeline {
	var tl timeline
	for _, e := range r.events {
		if r.pids[e.Base().PID] {
			tl = append(tl, e)
		}
	}
	slices.SortStableFunc(tl, func(a, b event.Event) int { return cmpU64(a.Base().TS, b.Base().TS) })
	return tl
}

// narration returns the lines the workload printed under prefix ("aio/goroutine-pread"), without
// the prefix. A copy of a line inside a JSON string (after `"data":"`) is skipped.
func (r *run) narration(prefix string) []string {
	key := prefix + ": "
	var lines []string
	for i := 0; ; {
		j := strings.Index(r.stdout[i:], key)
		if j < 0 {
			return lines
		}
		j += i
		end := strings.IndexByte(r.stdout[j:], '\n')
		if end < 0 {
			end = len(r.stdout) - j
		}
		if !strings.HasSuffix(r.stdout[:j], `"data":"`) {
			lines = append(lines, r.stdout[j+len(key):j+end])
		}
		i = j + len(key)
	}
}

// narrated returns the first submatches of re in the narration under prefix, or nil.
func (r *run) narrated(prefix string, re *regexp.Regexp) []string {
	for _, line := range r.narration(prefix) {
		if m := re.FindStringSubmatch(line); m != nil {
			return m
		}
	}
	return nil
}

// archNames are the syscalls a workload issues under different names per architecture: arm64
// has no dup2, epoll_wait or poll, and calls fadvise64 fadvise64_64.
type archNames struct {
	dup2, epollWait, poll, fadvise string
}

func (r *run) names() archNames {
	if r.header.Arch == "x86_64" {
		return archNames{dup2: "dup2", epollWait: "epoll_wait", poll: "poll", fadvise: "fadvise64"}
	}
	return archNames{dup2: "dup3", epollWait: "epoll_pwait", poll: "ppoll", fadvise: "fadvise64_64"}
}

// timeline is a run's events, in time order.
type timeline []event.Event

// calls returns the syscalls named names.
func (tl timeline) calls(names ...string) []*event.Syscall { return calls(tl, names...) }

// where returns the syscalls named name for which keep holds.
func (tl timeline) where(name string, keep func(*event.Syscall) bool) []*event.Syscall {
	var out []*event.Syscall
	for _, s := range tl.calls(name) {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// all returns the syscalls, whatever their name, for which keep holds.
func (tl timeline) all(keep func(*event.Syscall) bool) []*event.Syscall {
	var out []*event.Syscall
	for _, e := range tl {
		if s, ok := e.(*event.Syscall); ok && keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// first returns the first syscall named name for which keep holds, failing the test without one.
func (tl timeline) first(t *testing.T, name, what string, keep func(*event.Syscall) bool) *event.Syscall {
	t.Helper()
	got := tl.where(name, keep)
	if len(got) == 0 {
		t.Fatalf("no %s: %s (the variant's %s calls: %s)", name, what, name, brief(tl.calls(name)))
	}
	return got[0]
}

// calls returns the syscalls named names, or every syscall when names is empty.
func calls(evs []event.Event, names ...string) []*event.Syscall {
	var out []*event.Syscall
	for _, e := range evs {
		if s, ok := e.(*event.Syscall); ok && (len(names) == 0 || slices.Contains(names, s.Name)) {
			out = append(out, s)
		}
	}
	return out
}

// end is when a call returned.
func end(s *event.Syscall) uint64 { return s.TS + s.Dur }

// arg returns a raw argument as a signed number (descriptors, -1 included).
func arg(s *event.Syscall, name string) int64 {
	v, _ := s.Arg(name)
	return int64(v)
}

// str returns a decoded string ("" when absent).
func str(s *event.Syscall, key string) string {
	v, _ := s.Decoded.Str(key)
	return v
}

// fileID returns the open-file identity the annotator gave a descriptor argument (KEY_file), or
// -1.
func fileID(s *event.Syscall, key string) int64 {
	if v, ok := s.Decoded.Int(key + "_file"); ok {
		return v
	}
	return -1
}

// hasFlags reports whether a decoded flag set ("PROT_READ|PROT_WRITE") holds every flag in want.
func hasFlags(got string, want ...string) bool {
	set := strings.Split(got, "|")
	for _, w := range want {
		if !slices.Contains(set, w) {
			return false
		}
	}
	return true
}

// sameFlags reports whether a decoded flag set is exactly want, in any order.
func sameFlags(got string, want ...string) bool {
	return hasFlags(got, want...) && len(strings.Split(got, "|")) == len(want)
}

// onFile reports whether the descriptor argument key names a path ending in suffix
// ("writev/output.txt").
func onFile(s *event.Syscall, key, suffix string) bool {
	return strings.HasSuffix(str(s, key), "/"+suffix)
}

// iov is one decoded iovec: its length and its captured bytes, escaped the way strace does.
type iov struct {
	len  int64
	data string
}

// iovecs returns a decoded iovec array.
func iovecs(s *event.Syscall, key string) []iov {
	v, _ := s.Decoded.Get(key)
	list, _ := v.([]any)
	var out []iov
	for _, e := range list {
		f, _ := e.(event.Fields)
		n, _ := f.Int("len")
		d, _ := f.Str("data")
		out = append(out, iov{n, d})
	}
	return out
}

// bufData returns a decoded buffer's captured bytes (escaped).
func bufData(s *event.Syscall, key string) string {
	v, _ := s.Decoded.Get(key)
	f, _ := v.(event.Fields)
	d, _ := f.Str("data")
	return d
}

// objects returns a decoded list of structs (epoll events, iocbs, io_events).
func objects(s *event.Syscall, key string) []event.Fields {
	v, _ := s.Decoded.Get(key)
	list, _ := v.([]any)
	var out []event.Fields
	for _, e := range list {
		if f, ok := e.(event.Fields); ok {
			out = append(out, f)
		}
	}
	return out
}

// object returns a decoded struct (sockaddr, epoll_event, io_uring_params).
func object(s *event.Syscall, key string) event.Fields {
	v, _ := s.Decoded.Get(key)
	f, _ := v.(event.Fields)
	return f
}

// strs returns the strings of a decoded list (execve's argv).
func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// brief lists calls in a failure message, one per line, as the recording has them.
func brief(ss []*event.Syscall) string {
	if len(ss) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, s := range ss {
		if i == 8 {
			b.WriteString("\n  …")
			break
		}
		line, _ := event.AppendJSON(nil, s)
		b.WriteString("\n  ")
		b.Write(bytes.TrimSpace(line))
	}
	return b.String()
}

// deref shows an optional number.
func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// median returns the median of xs (0 for none).
func median(xs []uint64) uint64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
