package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/replay"
	"github.com/iotrace/iotrace/internal/testutil"
)

// The helpers of the kernel-fact tests carry a k prefix: the package is shared with other
// end-to-end tests.

// kFileSize is the file size the kernel tests ask the workloads for, so a test knows how many
// pages each file has.
const (
	kFileSize  = 1 << 20
	kPageSize  = 4096
	kFilePages = kFileSize / kPageSize
)

// kTrace is one traced run read back from its recording.
type kTrace struct {
	header  *event.Header
	events  []event.Event
	summary *event.Summary
	bySeq   map[uint64]event.Event
	stderr  string
}

// kRun runs iotrace with args (a run or trace command line without -o/--format), recording to a
// temporary file, and reads the recording back. Lost events fail the test: every fact checked
// here needs a complete trace.
func kRun(t *testing.T, args ...string) *kTrace {
	t.Helper()
	testutil.RequireBPF(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	t.Cleanup(func() { kKeep(t, out) })
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout(2*time.Minute))
	defer cancel()
	full := append([]string{}, args[0])
	full = append(full, "-o", out, "--format", "jsonl")
	full = append(full, args[1:]...)
	cmd := exec.CommandContext(ctx, testutil.Binary(t), full...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("iotrace %s: %v\n%s", strings.Join(full, " "), err, stderr.String())
	}
	tr := kRead(t, out)
	tr.stderr = stderr.String()
	if tr.summary == nil || tr.summary.Truncated {
		t.Fatalf("iotrace %s: the recording has no summary", strings.Join(full, " "))
	}
	// Records the ring could not take are real losses of this trace: the facts below need them
	// all. Recursion misses (CPU -1) are counted per program across the whole machine — mostly
	// other processes' events raised while one of iotrace's programs ran — so they are logged;
	// a fact they did cost fails on its own.
	var ring, nested uint64
	for _, e := range tr.events {
		if l, ok := e.(*event.Lost); ok {
			if l.CPU < 0 {
				nested += l.Count
			} else {
				ring += l.Count
			}
		}
	}
	if ring > 0 {
		t.Fatalf("iotrace %s lost %d records: the facts below need a complete trace", strings.Join(full, " "), ring)
	}
	if nested > 0 {
		t.Logf("iotrace %s: %d events missed by BPF programs already running on their CPU", strings.Join(full, " "), nested)
	}
	return tr
}

// kRead reads a recording.
func kRead(t *testing.T, path string) *kTrace {
	t.Helper()
	r, err := replay.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tr := &kTrace{header: r.Header(), bySeq: make(map[uint64]event.Event)}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		tr.events = append(tr.events, e)
		tr.bySeq[e.Base().Seq] = e
	}
	tr.summary = r.Summary()
	return tr
}

// kSyscalls returns the calls of any of names, in timeline order.
func (tr *kTrace) kSyscalls(names ...string) []*event.Syscall {
	var out []*event.Syscall
	for _, e := range tr.events {
		if s, ok := e.(*event.Syscall); ok && kIn(s.Name, names) {
			out = append(out, s)
		}
	}
	return out
}

// kKernel returns the kernel events of any of names (all of them when names is empty).
func (tr *kTrace) kKernel(names ...string) []*event.Kernel {
	var out []*event.Kernel
	for _, e := range tr.events {
		if k, ok := e.(*event.Kernel); ok && (len(names) == 0 || kIn(k.Name, names)) {
			out = append(out, k)
		}
	}
	return out
}

// kCaused returns the kernel events attributed to the call with sequence number seq, of any of
// names (all when names is empty).
func (tr *kTrace) kCaused(seq uint64, names ...string) []*event.Kernel {
	var out []*event.Kernel
	for _, k := range tr.kKernel(names...) {
		if k.CauseSeq == seq {
			out = append(out, k)
		}
	}
	return out
}

// kProcesses returns the pids (thread group ids) and tids of the traced tree, from its exec and
// fork events: the tracer's own notion of the tree is not trusted.
func (tr *kTrace) kProcesses() (pids, tids map[uint32]bool) {
	pids, tids = make(map[uint32]bool), make(map[uint32]bool)
	for _, e := range tr.events {
		p, ok := e.(*event.Process)
		if !ok {
			continue
		}
		switch p.Name {
		case "exec":
			pids[p.PID], tids[p.TID] = true, true
		case "fork":
			if p.Thread {
				tids[p.ChildTID] = true
			} else {
				pids[p.ChildPID] = true
				tids[p.ChildPID] = true
				if p.ChildTID != 0 {
					tids[p.ChildTID] = true
				}
			}
		}
	}
	return pids, tids
}

// kEnd is when a call returned.
func kEnd(s *event.Syscall) uint64 { return s.TS + s.Dur }

// kPages sums the pages of page-cache events: each covers 1<<order pages.
func kPages(ks []*event.Kernel) int64 {
	var n int64
	for _, k := range ks {
		order, _ := k.Args.Int("order")
		n += 1 << order
	}
	return n
}

// kPagesFrom counts the pages page-cache events cover at index first or later.
func kPagesFrom(ks []*event.Kernel, first int64) int64 {
	var n int64
	for _, k := range ks {
		idx, _ := k.Args.Int("index")
		order, _ := k.Args.Int("order")
		if end := idx + 1<<order; end > first {
			n += end - max(idx, first)
		}
	}
	return n
}

// kIndexes is the set of page indexes page-cache events cover.
func kIndexes(ks []*event.Kernel) map[int64]bool {
	set := make(map[int64]bool)
	for _, k := range ks {
		idx, _ := k.Args.Int("index")
		order, _ := k.Args.Int("order")
		for i := range int64(1) << order {
			set[idx+i] = true
		}
	}
	return set
}

// kFDPath is the path the annotator gave a call's fd argument.
func kFDPath(s *event.Syscall) string {
	p, _ := s.Decoded.Str("fd")
	return p
}

// kFDFile is the open-file identity the annotator gave a call's fd argument.
func kFDFile(s *event.Syscall) (int64, bool) { return s.Decoded.Int("fd_file") }

// kAdvice is fadvise64's decoded advice ("POSIX_FADV_DONTNEED").
func kAdvice(s *event.Syscall) string {
	a, _ := s.Decoded.Str("advice")
	return a
}

// kNote returns the first note of s matching re, with its submatches.
func kNote(s *event.Syscall, re *regexp.Regexp) ([]string, bool) {
	for _, n := range s.Notes {
		if m := re.FindStringSubmatch(n); m != nil {
			return m, true
		}
	}
	return nil, false
}

// kAtoi parses a note's number.
func kAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("number in a note: %v", err)
	}
	return n
}

func kIn(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// kSummary is a short text of events for failure messages.
func kSummary(ks []*event.Kernel) string {
	var b strings.Builder
	for i, k := range ks {
		if i == 8 {
			fmt.Fprintf(&b, "  … %d more\n", len(ks)-i)
			break
		}
		fmt.Fprintf(&b, "  seq %d ts %d tid %d %s %v cause %d\n", k.Seq, k.TS, k.TID, k.Name, k.Args, k.CauseSeq)
	}
	return b.String()
}

// kKernelThread reports whether pid is a kernel thread, when it still exists.
func kKernelThread(pid uint32) (kthread, known bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false, false
	}
	// flags is the 9th field; comm (the 2nd) may hold spaces, so count from its closing paren.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 7 {
		return false, false
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	if err != nil {
		return false, false
	}
	const pfKthread = 0x00200000
	return flags&pfKthread != 0, true
}

// Kernel events that name a file: the page-cache ones (which teach the BPF side the file) and
// writeback.
var (
	kCacheEvents = []string{"mm_filemap_add_to_page_cache", "mm_filemap_delete_from_page_cache"}
	kFileEvents  = append([]string{"writeback_dirty_folio", "writeback_dirty_page", "sb_clear_inode_writeback"}, kCacheEvents...)
)

// kInode is the inode a file kernel event names.
func kInode(k *event.Kernel) (int64, bool) {
	if ino, ok := k.Args.Int("i_ino"); ok {
		return ino, true
	}
	return k.Args.Int("ino")
}

// kKeep copies a failed test's recording out of its temporary directory, for a look at what the
// kernel did.
func kKeep(t *testing.T, path string) {
	if !t.Failed() {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	f, err := os.CreateTemp("", "iotrace-e2e-*.jsonl")
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Write(b); err == nil {
		t.Logf("recording kept as %s", f.Name())
	}
}
