package annotate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/record"
	"github.com/iotrace/iotrace/internal/render/text"
	"github.com/iotrace/iotrace/internal/syscalls"
	"github.com/iotrace/iotrace/internal/testutil"
)

var recordFixtures = flag.Bool("record", false, "re-record testdata/*.jsonl from real traced runs (needs root), then rewrite the goldens with -update")

// fixtures are real recordings of workloads (iotrace run W --variant V --all --size 65536),
// trimmed to start at the workload's marker (prctl PR_SET_NAME "iot:…"): the Go runtime's start
// before it only makes the files larger.
var fixtures = []struct {
	name string
	args []string
}{
	{"fadvise-dontneed-dirty", []string{"fadvise", "--variant", "dontneed-dirty"}},
	{"aio-native", []string{"aio", "--variant", "native"}},
	{"aio-native-direct", []string{"aio", "--variant", "native-direct"}},
	{"epoll-echo", []string{"epoll", "--variant", "echo"}},
	{"dup-shared-offset", []string{"dup", "--variant", "shared-offset"}},
	{"mmap-cold", []string{"mmap", "--variant", "cold"}},
	// recorded with page_cache_ra_order, kmem:rss_stat, block_rq_requeue and
	// sb_clear_inode_writeback: the readahead windows, pages mapped, copy-on-write
	{"fadvise-willneed", []string{"fadvise", "--variant", "willneed"}},
	{"fadvise-random-vs-seq", []string{"fadvise", "--variant", "random-vs-seq"}},
	{"fadvise-copy", []string{"fadvise", "--variant", "copy"}},
	{"mmap-cow", []string{"mmap", "--variant", "cow"}},
	{"mmap-populate", []string{"mmap", "--variant", "populate"}},
	// the EPOLLET notes, and a readv that ends inside its last buffer
	{"epoll-et-stranded", []string{"epoll", "--variant", "et-stranded"}},
	{"vectored-readv", []string{"vectored", "--variant", "readv"}},
	// io-wq workers running punted writes, and an SQPOLL ring's SQ thread
	{"aio-uring", []string{"aio", "--variant", "uring"}},
	{"aio-sqpoll", []string{"aio", "--variant", "sqpoll"}},
}

// TestReannotate re-annotates recorded runs from what the tracer saw — the recording stripped of
// everything the annotator added — and compares the timeline with a golden file. A recording has
// no live /proc to stat, so files in notes are named "inode N" where a live run names the path.
func TestReannotate(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			path := filepath.Join("testdata", fx.name+".jsonl")
			if *recordFixtures {
				recordFixture(t, path, fx.args)
			}
			h, recorded := readFixture(t, path)
			out := reannotate(h, strip(recorded))
			checkCauses(t, recorded, out)

			var b bytes.Buffer
			r := text.New(&b, text.Options{})
			if err := r.Header(h); err != nil {
				t.Fatal(err)
			}
			for _, e := range out {
				if err := r.Event(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(nil); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, fx.name+".golden", b.Bytes())
		})
	}
}

// recordFixture runs the workload under iotrace and writes its trimmed recording to path.
func recordFixture(t *testing.T, path string, args []string) {
	testutil.RequireBPF(t)
	raw := filepath.Join(t.TempDir(), "run.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"run"}, args...)
	full = append(full, "--all", "--size", "65536", "-o", raw, "--format", "jsonl")
	cmd := exec.CommandContext(ctx, testutil.Binary(t), full...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("iotrace %s: %v\n%s", strings.Join(full, " "), err, stderr.String())
	}
	in, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, record.MaxLine)
	for n, on := 0, false; sc.Scan(); n++ {
		line := sc.Bytes()
		if n > 0 && !on {
			var probe struct {
				Name    string
				Decoded map[string]any
			}
			if err := json.Unmarshal(line, &probe); err != nil {
				t.Fatal(err)
			}
			name, _ := probe.Decoded["arg2"].(string)
			on = probe.Name == "prctl" && strings.HasPrefix(name, "iot:")
		}
		if n == 0 || on {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFixture(t *testing.T, path string) (*event.Header, []event.Event) {
	t.Helper()
	r, err := record.Open(path)
	if err != nil {
		t.Fatalf("%v (record it with go test -run TestReannotate -record -update, as root)", err)
	}
	defer r.Close()
	var events []event.Event
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.Header(), events
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
}

// strip returns copies of events as the tracer delivers them to the annotator: without notes,
// descriptor names and identities, fault placement and sequence numbers, kernel events linked to
// their syscall by its entry time (SyscallTS) rather than by cause_seq, and in arrival order — a
// syscall arrives when it returns, after the kernel events raised inside it.
func strip(events []event.Event) []event.Event {
	entry := make(map[uint64]uint64) // seq → entry time of each syscall
	for _, e := range events {
		if s, ok := e.(*event.Syscall); ok {
			entry[s.Seq] = s.TS
		}
	}
	out := make([]event.Event, 0, len(events))
	for _, e := range events {
		switch x := e.(type) {
		case *event.Syscall:
			s := *x
			s.Seq, s.Notes = 0, nil
			s.Decoded = nil
			for _, kv := range x.Decoded {
				if kv.Key == "ret" || strings.HasSuffix(kv.Key, "_file") || strings.HasSuffix(kv.Key, "_cwd") {
					continue
				}
				if _, named := x.Decoded.Get(kv.Key + "_file"); named {
					continue // a descriptor argument the annotator named
				}
				s.Decoded = append(s.Decoded, kv)
			}
			out = append(out, &s)
		case *event.Kernel:
			k := *x
			k.Seq, k.Notes, k.CauseSeq, k.Outside, k.Via = 0, nil, 0, "", ""
			k.SyscallTS = entry[x.CauseSeq]
			if x.Via != "" {
				k.SyscallTS = 0 // an io_uring helper thread's: raised outside every call
			}
			k.Args = nil
			for _, kv := range x.Args {
				if x.Name == "page_fault_user" && (kv.Key == "mapping" || kv.Key == "page" || kv.Key == "write") {
					continue
				}
				if kv.Key == "fault_seq" || kv.Key == "reissued" || kv.Key == "file" || kv.Key == "ring" || x.Name == "rss_stat" && kv.Key == "pages" {
					continue // added by the annotator
				}
				k.Args = append(k.Args, kv)
			}
			out = append(out, &k)
		case *event.Process:
			p := *x
			p.Seq, p.Notes = 0, nil
			out = append(out, &p)
		case *event.Lost:
			l := *x
			l.Seq = 0
			out = append(out, &l)
		}
	}
	arrival := func(e event.Event) uint64 {
		if s, ok := e.(*event.Syscall); ok {
			return s.TS + s.Dur
		}
		return e.Base().TS
	}
	slices.SortStableFunc(out, func(a, b event.Event) int {
		switch x, y := arrival(a), arrival(b); {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return out
}

// reannotate runs events through a fresh annotator, as `iotrace show` of a raw stream would.
func reannotate(h *event.Header, events []event.Event) []event.Event {
	a := New(syscalls.GoArch(h.Arch))
	a.SetKernel(h.Kernel)
	var out []event.Event
	for _, e := range events {
		out = append(out, a.Annotate(e)...)
	}
	return append(out, a.Flush()...)
}

// checkCauses checks that re-annotation links every kernel event to the same syscall the live
// run did: attribution must not depend on anything but the trace.
func checkCauses(t *testing.T, recorded, annotated []event.Event) {
	t.Helper()
	type id struct {
		ts   uint64
		tid  uint32
		name string
	}
	cause := func(events []event.Event) map[id]id {
		calls := make(map[uint64]id)
		for _, e := range events {
			if s, ok := e.(*event.Syscall); ok {
				calls[s.Seq] = id{s.TS, s.TID, s.Name}
			}
		}
		m := make(map[id]id)
		for _, e := range events {
			if k, ok := e.(*event.Kernel); ok {
				m[id{k.TS, k.TID, k.Name}] = calls[k.CauseSeq]
			}
		}
		return m
	}
	want, got := cause(recorded), cause(annotated)
	if !slices.ContainsFunc(recorded, func(e event.Event) bool { k, ok := e.(*event.Kernel); return ok && k.CauseSeq != 0 }) {
		t.Error("the recording has no kernel event linked to a syscall: nothing to compare")
	}
	if len(got) != len(want) {
		t.Errorf("re-annotation has %d distinct kernel events, the recording %d", len(got), len(want))
	}
	var bad int
	for k, w := range want {
		if g := got[k]; g != w && bad < 5 {
			bad++
			t.Errorf("kernel %s at %d (tid %d): recorded cause %+v, re-annotated %+v", k.name, k.ts, k.tid, w, g)
		}
	}
}

// --- the descriptor table ---

const (
	fdCWD         = 1<<64 - 100 // AT_FDCWD as the raw argument
	fDupfd        = 0
	fDupfdCloexec = 1030
	fSetfd        = 2
)

var nextTS uint64

func call(pid uint32, name string, ret int64, args ...any) *event.Syscall {
	nextTS += 1000
	s := &event.Syscall{Common: event.Common{TS: nextTS, PID: pid, TID: pid}, Name: name, Ret: ret, Dur: 100}
	for i := 0; i+1 < len(args); i += 2 {
		v := args[i+1]
		switch x := v.(type) {
		case int:
			s.Args = append(s.Args, event.Arg{Name: args[i].(string), Value: uint64(x)})
		case uint64:
			s.Args = append(s.Args, event.Arg{Name: args[i].(string), Value: x})
		case string:
			s.Args = append(s.Args, event.Arg{Name: args[i].(string), Value: 0x1000})
			s.Decoded = append(s.Decoded, event.Field{Key: args[i].(string), Val: x})
		}
	}
	return s
}

func openat(pid uint32, fd int64, path string, flags int) *event.Syscall {
	return call(pid, "openat", fd, "dfd", uint64(fdCWD), "filename", path, "flags", flags, "mode", 0)
}
func write(pid uint32, fd int) *event.Syscall {
	return call(pid, "write", 1, "fd", fd, "buf", 0, "count", 1)
}
func closeFD(pid uint32, fd int) *event.Syscall { return call(pid, "close", 0, "fd", fd) }
func execve(pid uint32) *event.Syscall {
	return call(pid, "execve", 0, "filename", "/bin/true", "argv", 0, "envp", 0)
}
func failed(s *event.Syscall, errno string) *event.Syscall {
	s.Ret, s.Errno = -9, errno
	return s
}

// step is one event and what the annotator must say about it: the open-file identity under
// decoded key (0: none), the name beside it (checked when set) and the notes.
type step struct {
	e     event.Event
	key   string
	file  int64
	name  string
	notes []string
}

func TestFDTable(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"open names the descriptor", []step{
			{e: openat(1, 3, "/a", 0), key: "ret_file", file: 1, name: "/a"},
			{e: write(1, 3), key: "fd_file", file: 1, name: "/a"},
			{e: write(1, 4), key: "fd_file"},
		}},
		{"a relative path joins the cwd", []step{
			{e: call(1, "chdir", 0, "filename", "/d")},
			{e: openat(1, 3, "x", 0), key: "ret_file", file: 1, name: "/d/x"},
		}},
		{"dup shares the open file", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: call(1, "dup", 4, "fildes", 3), key: "ret_file", file: 1, name: "/a", notes: []string{"fd 4 and fd 3 share open file #1"}},
			{e: write(1, 4), key: "fd_file", file: 1},
		}},
		{"dup2 onto an open descriptor closes it silently", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: openat(1, 4, "/b", 0)},
			{e: call(1, "dup2", 4, "oldfd", 3, "newfd", 4), key: "ret_file", file: 1,
				notes: []string{"fd 4 (/b) was open: dup2 closed it silently", "fd 4 and fd 3 share open file #1"}},
			{e: write(1, 4), key: "fd_file", file: 1, name: "/a"},
		}},
		{"dup2 onto itself changes nothing", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: call(1, "dup2", 3, "oldfd", 3, "newfd", 3), key: "ret_file", file: 1},
		}},
		{"a failed dup2 changes nothing", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: openat(1, 4, "/b", 0)},
			{e: failed(call(1, "dup2", 4, "oldfd", 3, "newfd", 4), "EBADF")},
			{e: write(1, 4), key: "fd_file", file: 2, name: "/b"},
		}},
		{"dup3 O_CLOEXEC: exec closes the duplicate only", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: call(1, "dup3", 5, "oldfd", 3, "newfd", 5, "flags", oCloexec), key: "ret_file", file: 1,
				notes: []string{"fd 5 and fd 3 share open file #1"}},
			{e: execve(1), notes: []string{"close-on-exec closed fd 5"}},
			{e: write(1, 5), key: "fd_file"},
			{e: write(1, 3), key: "fd_file", file: 1},
		}},
		{"open O_CLOEXEC is closed by exec", []step{
			{e: openat(1, 3, "/a", oCloexec)},
			{e: openat(1, 4, "/b", oCloexec)},
			{e: openat(1, 5, "/c", 0)},
			{e: execve(1), notes: []string{"close-on-exec closed fds 3, 4"}},
			{e: write(1, 5), key: "fd_file", file: 3, name: "/c"},
		}},
		{"fcntl F_DUPFD and F_DUPFD_CLOEXEC", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: call(1, "fcntl", 10, "fd", 3, "cmd", fDupfd, "arg", 10), key: "ret_file", file: 1,
				notes: []string{"fd 10 and fd 3 share open file #1"}},
			{e: call(1, "fcntl", 11, "fd", 3, "cmd", fDupfdCloexec, "arg", 10), key: "ret_file", file: 1,
				notes: []string{"fd 11 and fd 3 share open file #1"}},
			{e: execve(1), notes: []string{"close-on-exec closed fd 11"}},
			{e: write(1, 10), key: "fd_file", file: 1},
		}},
		{"fcntl F_SETFD sets and clears close-on-exec", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: openat(1, 4, "/b", oCloexec)},
			{e: call(1, "fcntl", 0, "fd", 3, "cmd", fSetfd, "arg", 1)},
			{e: call(1, "fcntl", 0, "fd", 4, "cmd", fSetfd, "arg", 0)},
			{e: execve(1), notes: []string{"close-on-exec closed fd 3"}},
			{e: write(1, 4), key: "fd_file", file: 2},
		}},
		{"close forgets the descriptor, not its duplicate", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: call(1, "dup", 4, "fildes", 3), notes: []string{"fd 4 and fd 3 share open file #1"}},
			{e: closeFD(1, 3)},
			{e: write(1, 3), key: "fd_file"},
			{e: write(1, 4), key: "fd_file", file: 1},
		}},
		{"fork copies the table, sharing open files", []step{
			{e: openat(1, 3, "/a", 0)},
			{e: &event.Process{Common: event.Common{PID: 1, TID: 1}, Name: "fork", ChildPID: 2, ChildTID: 2}},
			{e: closeFD(1, 3)},
			{e: write(2, 3), key: "fd_file", file: 1},
			{e: write(1, 3), key: "fd_file"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New("amd64")
			for i, st := range tt.steps {
				a.Annotate(st.e)
				s, ok := st.e.(*event.Syscall)
				if !ok {
					continue
				}
				if st.key != "" {
					if got, _ := s.Decoded.Int(st.key); got != st.file {
						t.Errorf("step %d %s: %s = %d, want %d (decoded %v)", i, s.Name, st.key, got, st.file, s.Decoded)
					}
					if got, _ := s.Decoded.Str(strings.TrimSuffix(st.key, "_file")); st.name != "" && got != st.name {
						t.Errorf("step %d %s: named %q, want %q", i, s.Name, got, st.name)
					}
				}
				if !slices.Equal(s.Notes, st.notes) {
					t.Errorf("step %d %s: notes %q, want %q", i, s.Name, s.Notes, st.notes)
				}
			}
		})
	}
}

// --- the mapping model ---

func TestUnmap(t *testing.T) {
	const base = 0x10000
	file := mapping{start: base, end: base + 16*pageSize, path: "/f", pgoff: 4}
	tests := []struct {
		name       string
		start, end uint64
		want       []mapping
	}{
		{"all of it", base, base + 16*pageSize, nil},
		{"the middle splits it", base + 4*pageSize, base + 8*pageSize, []mapping{
			{start: base, end: base + 4*pageSize, path: "/f", pgoff: 4},
			{start: base + 8*pageSize, end: base + 16*pageSize, path: "/f", pgoff: 12},
		}},
		{"the head", base - pageSize, base + 2*pageSize, []mapping{
			{start: base + 2*pageSize, end: base + 16*pageSize, path: "/f", pgoff: 6},
		}},
		{"the tail", base + 15*pageSize, base + 32*pageSize, []mapping{
			{start: base, end: base + 15*pageSize, path: "/f", pgoff: 4},
		}},
		{"elsewhere", base + 16*pageSize, base + 20*pageSize, []mapping{file}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProc()
			m := file
			p.maps = []*mapping{&m}
			p.unmap(tt.start, tt.end)
			var got []mapping
			for _, m := range p.maps {
				c := *m
				c.touched = nil
				got = append(got, c)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b mapping) bool {
				return a.start == b.start && a.end == b.end && a.path == b.path && a.pgoff == b.pgoff
			}) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func fault(pid uint32, addr uint64, errorCode int64) *event.Kernel {
	nextTS += 1000
	return &event.Kernel{Common: event.Common{TS: nextTS, PID: pid, TID: pid}, Name: "page_fault_user",
		Args: event.Fields{{Key: "address", Val: int64(addr)}, {Key: "ip", Val: int64(0x401000)}, {Key: "error_code", Val: errorCode}}}
}

func mmap(pid uint32, ret uint64, length, fd int, off int) *event.Syscall {
	return call(pid, "mmap", int64(ret), "addr", 0, "len", length, "prot", 1, "flags", 2, "fd", fd, "off", off)
}

func TestFaultPlacement(t *testing.T) {
	const at = 0x7f0000000000
	setup := []event.Event{
		openat(1, 3, "/data", 0),
		mmap(1, at, 16*pageSize, 3, 2*pageSize), // file pages 2–17
		mmap(1, at+0x100000, 3*pageSize+1, -1, 0),
		call(1, "munmap", 0, "addr", at+4*pageSize, "len", 4*pageSize), // a hole: pages 6–9
	}
	tests := []struct {
		name    string
		addr    uint64
		errCode int64
		mapping string // "" when not placed
		page    int64
		write   bool
	}{
		{"first page", at, 4, "/data", 2, false},
		{"inside a page", at + 3*pageSize + 17, 4, "/data", 5, false},
		{"in the hole", at + 5*pageSize, 4, "", 0, false},
		{"after the hole", at + 8*pageSize, 6, "/data", 10, true},
		{"last page", at + 16*pageSize - 1, 4, "/data", 17, false},
		{"past the end", at + 16*pageSize, 4, "", 0, false},
		{"anonymous, rounded up length", at + 0x100000 + 3*pageSize, 7, "[anon]", 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New("amd64")
			for _, e := range setup {
				a.Annotate(e)
			}
			k := fault(1, tt.addr, tt.errCode)
			a.Annotate(k)
			m, _ := k.Args.Str("mapping")
			page, _ := k.Args.Int("page")
			_, write := k.Args.Get("write")
			if m != tt.mapping || page != tt.page || write != tt.write {
				t.Errorf("fault at %#x: mapping %q page %d write %v, want %q %d %v", tt.addr, m, page, write, tt.mapping, tt.page, tt.write)
			}
		})
	}
}

// A fault in a child is placed in the mappings it inherited; the parent's later munmap does not
// change them.
func TestFaultAfterFork(t *testing.T) {
	const at = 0x7f0000000000
	a := New("amd64")
	for _, e := range []event.Event{
		openat(1, 3, "/data", 0),
		mmap(1, at, 4*pageSize, 3, 0),
		&event.Process{Common: event.Common{PID: 1, TID: 1}, Name: "fork", ChildPID: 2, ChildTID: 2},
		call(1, "munmap", 0, "addr", at, "len", 4*pageSize),
	} {
		a.Annotate(e)
	}
	child, parent := fault(2, at+pageSize, 4), fault(1, at+pageSize, 4)
	a.Annotate(child)
	a.Annotate(parent)
	if m, _ := child.Args.Str("mapping"); m != "/data" {
		t.Errorf("child's fault placed in %q, want /data", m)
	}
	if m, ok := parent.Args.Str("mapping"); ok {
		t.Errorf("parent's fault after munmap placed in %q", m)
	}
}

// --- attribution and notes ---

func pageEvent(name string, tid uint32, scTS uint64, ino, index, order int64) *event.Kernel {
	nextTS += 10
	return &event.Kernel{Common: event.Common{TS: nextTS, PID: tid, TID: tid}, Name: name, SyscallTS: scTS,
		Args: event.Fields{{Key: "i_ino", Val: ino}, {Key: "index", Val: index}, {Key: "s_dev", Val: "254:0"}, {Key: "order", Val: order}}}
}

// Kernel events raised inside a call arrive before it and are emitted right after it, linked.
func TestAttribution(t *testing.T) {
	a := New("amd64")
	a.Annotate(openat(1, 3, "/a", 0))
	rd := call(1, "read", 4096, "fd", 3, "buf", 0, "count", 4096)
	k1 := pageEvent("mm_filemap_add_to_page_cache", 1, rd.TS, 7, 0, 0)
	other := pageEvent("mm_filemap_add_to_page_cache", 2, 0, 7, 1, 0) // another thread, no syscall
	k2 := pageEvent("mm_filemap_add_to_page_cache", 1, rd.TS, 7, 1, 0)
	var out []event.Event
	for _, e := range []event.Event{k1, other, k2, rd} {
		out = append(out, a.Annotate(e)...)
	}
	late := pageEvent("mm_filemap_delete_from_page_cache", 1, rd.TS, 7, 0, 0) // after the call returned
	out = append(out, a.Annotate(late)...)
	want := []event.Event{other, rd, k1, k2, late}
	if !slices.Equal(out, want) {
		t.Fatalf("emitted %d events in the wrong order", len(out))
	}
	for i, e := range out[1:] {
		if e.Base().Seq != out[0].Base().Seq+uint64(i+1) {
			t.Errorf("event %d has seq %d after %d", i+1, e.Base().Seq, out[i].Base().Seq)
		}
	}
	for _, k := range []*event.Kernel{k1, k2, late} {
		if k.CauseSeq != rd.Seq {
			t.Errorf("%s at %d: cause_seq %d, want the read's %d", k.Name, k.TS, k.CauseSeq, rd.Seq)
		}
	}
	if other.CauseSeq != 0 {
		t.Errorf("an event outside any syscall got cause_seq %d", other.CauseSeq)
	}
	if want := "added 2 pages of inode 7 to the page cache (pages 0–1)"; !slices.Contains(rd.Notes, want) {
		t.Errorf("read notes %q, want %q", rd.Notes, want)
	}
}

func TestNotes(t *testing.T) {
	const fileIno = 42
	type kev struct {
		name         string
		index, order int64
	}
	tests := []struct {
		name   string
		arch   string
		call   *event.Syscall
		events []kev
		want   []string
	}{
		{"DONTNEED counts pages, not events", "amd64",
			call(1, "fadvise64", 0, "fd", 3, "offset", 0, "len", 0, "advice", "POSIX_FADV_DONTNEED"),
			[]kev{{"mm_filemap_delete_from_page_cache", 0, 4}, {"mm_filemap_delete_from_page_cache", 16, 4}},
			[]string{"DONTNEED evicted 32 pages of inode 42"}},
		// 5.15 caches a page past the end of a file read to EOF; DONTNEED drops it too
		{"DONTNEED with a page past the end", "amd64",
			sized(call(1, "fadvise64", 0, "fd", 3, "offset", 0, "len", 0, "advice", "POSIX_FADV_DONTNEED"), 8192),
			[]kev{{"mm_filemap_delete_from_page_cache", 0, 0}, {"mm_filemap_delete_from_page_cache", 1, 0}, {"mm_filemap_delete_from_page_cache", 2, 0}},
			[]string{"DONTNEED evicted 2 of 2 pages of inode 42 (8 KiB), and 1 page past its end"}},
		{"DONTNEED that evicts nothing", "amd64",
			call(1, "fadvise64", 0, "fd", 3, "offset", 0, "len", 0, "advice", "POSIX_FADV_DONTNEED"),
			nil,
			[]string{"DONTNEED evicted nothing of /f"}},
		// arm64 calls it fadvise64_64: the same advice must get the same notes.
		{"DONTNEED on arm64", "arm64",
			call(1, "fadvise64_64", 0, "fd", 3, "offset", 0, "len", 0, "advice", "POSIX_FADV_DONTNEED"),
			[]kev{{"mm_filemap_delete_from_page_cache", 0, 1}},
			[]string{"DONTNEED evicted 2 pages of inode 42"}},
		{"WILLNEED reads ahead", "amd64",
			call(1, "fadvise64", 0, "fd", 3, "offset", 0, "len", 0, "advice", "POSIX_FADV_WILLNEED"),
			[]kev{{"mm_filemap_add_to_page_cache", 0, 0}, {"mm_filemap_add_to_page_cache", 1, 0}},
			[]string{"WILLNEED inserted 2 pages of inode 42 into the page cache (pages 0–1); no block request went out before it returned (the reads were still queued)"}},
		{"a write caching what it writes needs no note", "amd64",
			call(1, "write", 4096, "fd", 3, "buf", 0, "count", 4096),
			[]kev{{"mm_filemap_add_to_page_cache", 0, 0}},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(tt.arch)
			a.Annotate(openat(1, 3, "/f", 0))
			for _, k := range tt.events {
				a.Annotate(pageEvent(k.name, 1, tt.call.TS, fileIno, k.index, k.order))
			}
			a.Annotate(tt.call)
			if !slices.Equal(tt.call.Notes, tt.want) {
				t.Errorf("notes %q, want %q", tt.call.Notes, tt.want)
			}
		})
	}
}

// sized gives a call on a file descriptor the file size the decoder attaches (fd_size).
func sized(s *event.Syscall, size int64) *event.Syscall {
	s.Decoded = append(s.Decoded, event.Field{Key: "fd_size", Val: size})
	return s
}

func TestDurText(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{999, "999 ns"},
		{1500, "1.5 µs"},
		{2_500_000, "2.5 ms"},
		{1_250_000_000, "1.25 s"},
		{3_000_000_000, "3.0 s"},
	}
	for _, tt := range tests {
		if got := durText(tt.ns); got != tt.want {
			t.Errorf("durText(%d) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestBytesText(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{1000, "1000 bytes"},
		{4096, "4 KiB"},
		{1 << 20, "1 MiB"},
		{3 << 30, "3 GiB"},
		{1<<20 + 1, "1048577 bytes"},
	}
	for _, tt := range tests {
		if got := bytesText(tt.n); got != tt.want {
			t.Errorf("bytesText(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestQueues: the interest list an epoll instance holds after each epoll_ctl, the ready list
// named against it, and an io_uring's size and what each enter did with it.
func TestQueues(t *testing.T) {
	a := New("amd64")
	a.Annotate(call(1, "epoll_create1", 7, "flags", 0))
	a.Annotate(openat(1, 5, "/in", 0))
	ctl := call(1, "epoll_ctl", 0, "epfd", 7, "op", 1, "fd", 5, "event", 0)
	ctl.Decoded = event.Fields{{Key: "op", Val: "EPOLL_CTL_ADD"}, {Key: "event", Val: event.Fields{{Key: "events", Val: "EPOLLIN|EPOLLET"}, {Key: "data", Val: int64(5)}}}}
	a.Annotate(ctl)
	wait := call(1, "epoll_wait", 1, "epfd", 7, "events", 0, "maxevents", 8, "timeout", 0)
	wait.Decoded = event.Fields{{Key: "events", Val: []any{event.Fields{{Key: "events", Val: "EPOLLIN"}, {Key: "data", Val: int64(5)}}}}}
	a.Annotate(wait)
	for _, tt := range []struct {
		s    *event.Syscall
		want string
	}{
		{ctl, "interest list of epoll #1: 1 fd: 5</in> EPOLLIN|EPOLLET"},
		{wait, "ready: 5</in> EPOLLIN (1 of 1 watched)"},
	} {
		if !slices.Contains(tt.s.Notes, tt.want) {
			t.Errorf("%s notes = %q, want %q", tt.s.Name, tt.s.Notes, tt.want)
		}
	}
}

// uringCall is an io_uring call whose kernel events (raised inside it) the annotator sees first.
func uringCall(a *Annotator, s *event.Syscall, kernel ...string) {
	for _, name := range kernel {
		a.Annotate(&event.Kernel{Common: event.Common{TS: s.TS + 1, PID: s.PID, TID: s.TID}, Name: name, SyscallTS: s.TS,
			Args: event.Fields{{Key: "ctx", Val: "#7"}}})
	}
	a.Annotate(s)
}

// io_uring notes name the ring by the ctx id of its kernel lines, say a wait only with
// IORING_ENTER_GETEVENTS, and never call SQPOLL's to_submit return a submission by the call.
func TestUringNotes(t *testing.T) {
	a := New("amd64")
	params := func(flags string) event.Fields {
		return event.Fields{{Key: "params", Val: event.Fields{{Key: "sq_entries", Val: int64(4)}, {Key: "cq_entries", Val: int64(8)}, {Key: "flags", Val: flags}}}}
	}
	setup := call(1, "io_uring_setup", 5, "entries", 4, "params", 0)
	setup.Decoded = params("0")
	uringCall(a, setup, "io_uring_create")
	enter := func(ret int64, fd, submit, minc, flags int, kernel ...string) *event.Syscall {
		s := call(1, "io_uring_enter", ret, "fd", fd, "to_submit", submit, "min_complete", minc, "flags", flags, "argp", 0, "argsz", 0)
		uringCall(a, s, kernel...)
		return s
	}
	noWait := enter(1, 5, 1, 1, 0, "io_uring_submit_req")
	waited := enter(0, 5, 0, 1, enterGetEvents, "io_uring_cqring_wait")
	ready := enter(1, 5, 1, 1, enterGetEvents, "io_uring_submit_req", "io_uring_complete")

	sq := call(1, "io_uring_setup", 6, "entries", 4, "params", 0)
	sq.Decoded = params("IORING_SETUP_SQPOLL")
	a.Annotate(sq) // no io_uring_create: the ring is named by its descriptor
	sqEnter := enter(4, 6, 4, 0, enterSQWakeup)
	for _, tt := range []struct {
		s         *event.Syscall
		want, not string
	}{
		{setup, "io_uring ctx=#7: 4 SQ and 8 CQ entries", ""},
		{noWait, "io_uring ctx=#7: 1 of 1 SQEs submitted; min_complete 1 is ignored without IORING_ENTER_GETEVENTS: the call did not wait for completions", "asked to wait"},
		{waited, "io_uring ctx=#7: IORING_ENTER_GETEVENTS: asked to wait for 1 completion; fewer were ready, so it waited (io_uring_cqring_wait)", ""},
		{ready, "io_uring ctx=#7: 1 of 1 SQEs submitted; IORING_ENTER_GETEVENTS: asked to wait for 1 completion", "so it waited"},
		{sq, "io_uring of fd 6: 4 SQ and 8 CQ entries; a kernel thread (iou-sqp) polls the SQ and submits what it finds there", ""},
		{sqEnter, "io_uring of fd 6: SQPOLL: this call submitted none of the 4 SQEs it named, the SQ thread does; the kernel returns to_submit whatever the thread has taken; IORING_ENTER_SQ_WAKEUP asked the thread to wake", "4 of 4"},
	} {
		if !slices.Contains(tt.s.Notes, tt.want) {
			t.Errorf("%s (seq %d) notes = %q, want %q", tt.s.Name, tt.s.Seq, tt.s.Notes, tt.want)
		}
		if tt.not != "" && strings.Contains(strings.Join(tt.s.Notes, "\n"), tt.not) {
			t.Errorf("%s notes = %q, must not say %q", tt.s.Name, tt.s.Notes, tt.not)
		}
	}
}

// Native AIO notes say a request was complete only where an io_getevents proves it, and claim
// no ring capacity: io_setup(4) makes room for more.
func TestAIONotes(t *testing.T) {
	a := New("amd64")
	a.Annotate(openat(1, 3, "/f", 0))
	a.Annotate(call(1, "pipe2", 0, "fildes", 0, "flags", 0))
	setup := call(1, "io_setup", 0, "nr_events", 4, "ctxp", "0x7f00")
	a.Annotate(setup)
	iocb := func(data int64, op string, fd int64) event.Fields {
		return event.Fields{{Key: "data", Val: data}, {Key: "opcode", Val: op}, {Key: "fd", Val: fd}}
	}
	submit := call(1, "io_submit", 3, "ctx_id", 0x7f00, "nr", 3, "iocbpp", 0)
	submit.Decoded = event.Fields{{Key: "iocbpp", Val: []any{iocb(0, "IOCB_CMD_PREAD", 3), iocb(1, "IOCB_CMD_PREAD", 3), iocb(10, "IOCB_CMD_FSYNC", 3)}}}
	a.Annotate(submit)
	result := func(data ...int64) []any {
		var out []any
		for _, d := range data {
			out = append(out, event.Fields{{Key: "data", Val: d}, {Key: "res", Val: int64(0)}})
		}
		return out
	}
	peek := call(1, "io_getevents", 2, "ctx_id", 0x7f00, "min_nr", 0, "nr", 8, "events", 0, "timeout", 0)
	peek.Decoded = event.Fields{{Key: "events", Val: result(0, 1)}}
	a.Annotate(peek)
	wait := call(1, "io_getevents", 1, "ctx_id", 0x7f00, "min_nr", 1, "nr", 8, "events", 0, "timeout", 0)
	wait.Decoded = event.Fields{{Key: "events", Val: result(10)}}
	a.Annotate(&event.Kernel{Common: event.Common{TS: wait.TS + 1, PID: 1, TID: 1}, Name: "sched_blocked", SyscallTS: wait.TS,
		Args: event.Fields{{Key: "off_cpu_ns", Val: int64(13_000_000)}}})
	a.Annotate(wait)
	for _, tt := range []struct {
		s    *event.Syscall
		want string
	}{
		{setup, "AIO context 0x7f00: made for at least 4 requests in flight (the kernel sizes the ring larger; by how much is not in the trace)"},
		{submit, "AIO context 0x7f00: 3 requests submitted and not reaped yet"},
		{submit, "submitted IOCB_CMD_PREAD ×2 (data 0, 1), IOCB_CMD_FSYNC (data 10); no tracepoint shows AIO completions: the io_getevents that collects each says whether it was complete"},
		{peek, "collected IOCB_CMD_PREAD ×2 (data 0, 1) without waiting: they were complete when it ran"},
		{peek, "not complete when it ran (it returned 2 of the 8 it could take): IOCB_CMD_FSYNC (data 10)"},
		{wait, "collected IOCB_CMD_FSYNC (data 10) after blocking: fewer than min_nr 1 were complete when it was called"},
	} {
		if !slices.Contains(tt.s.Notes, tt.want) {
			t.Errorf("%s notes = %q, want %q", tt.s.Name, tt.s.Notes, tt.want)
		}
	}
	for _, s := range []*event.Syscall{submit, peek, wait} {
		if n := strings.Join(s.Notes, "\n"); strings.Contains(n, "room for 4") || strings.Contains(n, "synchronously") || strings.Contains(n, "I/O completed") {
			t.Errorf("%s notes claim what the trace does not show: %q", s.Name, s.Notes)
		}
	}
}

// A call that ran across a gap in a CPU's kernel events says its counts are lower bounds; one
// that did not, does not.
func TestLossMakesLowerBounds(t *testing.T) {
	a := New("amd64")
	a.Annotate(openat(1, 3, "/f", 0))
	dontneed := func() *event.Syscall {
		s := call(1, "fadvise64", 0, "fd", 3, "offset", 0, "len", 0, "advice", "POSIX_FADV_DONTNEED")
		s.Dur = 50_000
		a.Annotate(pageEvent("mm_filemap_delete_from_page_cache", 1, s.TS, 42, 0, 0))
		return s
	}
	before := dontneed()
	a.Annotate(before)
	across := dontneed()
	a.Annotate(&event.Lost{Common: event.Common{TS: across.TS + 10}, Count: 5, KernelEvents: 5, CPU: 1, EndNS: across.TS + 20_000})
	a.Annotate(across)
	const want = "the counts in these notes are lower bounds"
	if n := strings.Join(before.Notes, "\n"); strings.Contains(n, want) {
		t.Errorf("a call before the gap is marked lower bound: %q", before.Notes)
	}
	if n := strings.Join(across.Notes, "\n"); !strings.Contains(n, want) {
		t.Errorf("a call across the gap is not marked lower bound: %q", across.Notes)
	}
}

// The mmap lesson says "zero read()/write() calls" only when the trace saw none on the file
// while it was mapped (ld.so reads libc's header, then maps it: reads before the mapping do not
// count); a read during the mapping is counted in the lesson instead.
func TestMappingLessonCountsFileIO(t *testing.T) {
	m := &mapping{path: "/f", ino: 9, faults: 2, moved: 8, movedKnown: true}
	if got := mappingLesson(m, 8, "munmap"); !strings.HasPrefix(got, "zero read()/write() calls on /f while it was mapped: 8 pages") {
		t.Errorf("no reads: %q", got)
	}
	p := newProc()
	p.fds[3] = fd{f: &file{path: "/f", ino: 9}}
	p.maps = []*mapping{m}
	countFileIO(p, &event.Syscall{Name: "pread64", Ret: 4096, Args: []event.Arg{{Name: "fd", Value: 3}}})
	countFileIO(p, &event.Syscall{Name: "fstat", Args: []event.Arg{{Name: "fd", Value: 3}}})
	want := "while it was mapped, 1 read()/write() call on /f moved 4 KiB, and 8 pages (32 KiB) moved through page faults on this mapping"
	if got := mappingLesson(m, -1, "exit"); got != want {
		t.Errorf("a read while mapped:\n got %q\nwant %q", got, want)
	}
}

// Pipes and sockets are named by their inodes, as strace -y names them: both ends of a pipe are
// one open file, a socketpair's two sockets two; a bind keeps the name. A creat's descriptor is
// named by its path.
func TestInodeLabels(t *testing.T) {
	a := New("amd64")
	p := call(1, "pipe2", 0, "fildes", 0, "flags", 0)
	p.Decoded = event.Fields{{Key: "fildes", Val: []any{int64(3), int64(4)}}, {Key: "fildes_ino", Val: []any{int64(77), int64(77)}}}
	a.Annotate(p)
	if got, _ := p.Decoded.Get("fildes_path"); !reflect.DeepEqual(got, []any{"pipe:[77]", "pipe:[77]"}) {
		t.Errorf("pipe2's fildes_path = %v", got)
	}
	sp := call(1, "socketpair", 0, "family", 1, "type", 1, "protocol", 0, "usockvec", 0)
	sp.Decoded = event.Fields{{Key: "usockvec", Val: []any{int64(5), int64(6)}}, {Key: "usockvec_ino", Val: []any{int64(80), int64(81)}}}
	a.Annotate(sp)
	sock := call(1, "socket", 7, "family", 2, "type", 1, "protocol", 0)
	sock.Decoded = event.Fields{{Key: "family", Val: "AF_INET"}, {Key: "ret_ino", Val: int64(90)}}
	a.Annotate(sock)
	bind := call(1, "bind", 0, "fd", 7, "umyaddr", 0, "addrlen", 16)
	bind.Decoded = event.Fields{{Key: "umyaddr", Val: event.Fields{{Key: "sa_family", Val: "AF_INET"}, {Key: "sin_port", Val: int64(80)}, {Key: "sin_addr", Val: "127.0.0.1"}}}}
	a.Annotate(bind)
	cr := call(1, "creat", 8, "pathname", "/tmp/made", "mode", 0o644)
	a.Annotate(cr)

	want := map[int]string{3: "pipe:[77]", 4: "pipe:[77]", 5: "socket:[80]", 6: "socket:[81]", 7: "socket:[90]", 8: "/tmp/made"}
	files := map[int]int64{}
	for fd, label := range want {
		w := write(1, fd)
		a.Annotate(w)
		if got, _ := w.Decoded.Str("fd"); got != label {
			t.Errorf("fd %d is named %q, want %q", fd, got, label)
		}
		files[fd], _ = w.Decoded.Int("fd_file")
	}
	if files[3] != files[4] {
		t.Errorf("a pipe's two ends are files #%d and #%d, want one", files[3], files[4])
	}
	if files[5] == files[6] {
		t.Errorf("a socketpair's two sockets are one file #%d", files[5])
	}
}
