package annotate

import (
	"slices"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

// TestOutside: an event no traced call caused says where it was raised, and only what the trace
// shows — never linked to the call before it.
func TestOutside(t *testing.T) {
	const at = 0x7f0000000000
	const ino = 42
	a := New("amd64")
	a.Annotate(openat(1, 3, "/data", 0))
	a.Annotate(mmap(1, at, 16*pageSize, 3, 0))
	a.procs[1].maps[len(a.procs[1].maps)-1].ino = ino

	// a user page fault on the mapping, its lookup, the page-cache fill and readahead it did, and
	// its block request and that request's completion
	flt := fault(1, at+pageSize, 4)
	lookup := pageEvent("mm_filemap_fault", 1, 0, ino, 1, 0)
	fill := pageEvent("mm_filemap_add_to_page_cache", 1, 0, ino, 0, 2)
	ra := pageEvent("page_cache_ra_order", 1, 0, ino, 0, 2)
	issue := blockEvent("block_rq_issue", 1, 0, 800)
	// readahead inside a read that -e does not trace (the BPF side names the call)
	untraced := pageEvent("page_cache_sync_ra", 1, 0, ino, 8, 0)
	untraced.UntracedCall = "read"
	// writeback by a kernel thread for the traced file
	kworker := &event.Kernel{Common: event.Common{TS: nextTS + 1, PID: 88, TID: 88}, Name: "writeback_dirty_folio",
		Args: event.Fields{{Key: "ino", Val: int64(ino)}, {Key: "index", Val: int64(3)}}}
	// the completion of the fault's request, in interrupt context: the issuer's
	done := blockEvent("block_rq_complete", 1, 0, 800)
	// inside exit_group (recorded at its entry): no call the trace shows
	exit := &event.Kernel{Common: event.Common{TS: nextTS + 2, PID: 1, TID: 1}, Name: "rss_stat",
		Args: event.Fields{{Key: "mm_id", Val: int64(5)}, {Key: "member", Val: int64(1)}, {Key: "size", Val: int64(0)}}}

	before := call(1, "getpid", 1)
	a.Annotate(before)
	for _, k := range []*event.Kernel{flt, lookup, fill, ra, issue, untraced, kworker, done} {
		a.Annotate(k)
	}
	a.Annotate(call(1, "exit_group", 0, "error_code", 0))
	a.Annotate(exit)

	want := map[*event.Kernel]string{
		flt: event.OutsideUser, lookup: event.OutsideUser, fill: event.OutsideUser, ra: event.OutsideUser,
		issue: event.OutsideUser, done: event.OutsideUser,
		untraced: event.OutsideUntraced, kworker: event.OutsideKernelThread, exit: event.OutsideNoCall,
	}
	for k, where := range want {
		if k.CauseSeq != 0 || k.Outside != where {
			t.Errorf("%s: cause_seq %d outside %q, want no cause and %q", k.Name, k.CauseSeq, k.Outside, where)
		}
	}
	if got, _ := done.Args.Int("fault_seq"); got != int64(flt.Seq) {
		t.Errorf("the completion of the fault's request has fault_seq %d, want %d", got, flt.Seq)
	}
	if len(before.Notes) != 0 {
		t.Errorf("the call before the fault got notes %q", before.Notes)
	}
}

// A call's first in-call event ends a fault: events after a call are not taken as the fault's.
func TestFaultEndsAtCall(t *testing.T) {
	const at = 0x7f0000000000
	const ino = 42
	a := New("amd64")
	a.Annotate(openat(1, 3, "/data", 0))
	a.Annotate(mmap(1, at, 16*pageSize, 3, 0))
	a.procs[1].maps[len(a.procs[1].maps)-1].ino = ino
	a.Annotate(fault(1, at, 4))
	a.Annotate(pageEvent("mm_filemap_fault", 1, 0, ino, 0, 0))
	a.Annotate(call(1, "execve", 0, "filename", "/bin/true", "argv", 0, "envp", 0))
	// execve's own reads of the new program: recorded at its entry, so outside any call
	fill := pageEvent("mm_filemap_add_to_page_cache", 1, 0, ino, 4, 0)
	a.Annotate(fill)
	if fill.Outside != event.OutsideNoCall {
		t.Errorf("a fill after execve's record: outside %q, want %q (not the earlier fault's)", fill.Outside, event.OutsideNoCall)
	}
	if _, ok := fill.Args.Get("fault_seq"); ok {
		t.Error("a fill after a call was taken as the fault's before it")
	}
}

func blockEvent(name string, tid uint32, scTS uint64, sector int64) *event.Kernel {
	nextTS += 10
	return &event.Kernel{Common: event.Common{TS: nextTS, PID: tid, TID: tid}, Name: name, SyscallTS: scTS,
		Args: event.Fields{{Key: "dev", Val: "254:0"}, {Key: "sector", Val: sector}, {Key: "nr_sector", Val: int64(8)},
			{Key: "bytes", Val: int64(4096)}, {Key: "rwbs", Val: "RA"}}}
}

// Preempted time is said apart from blocked time, with the number of involuntary switches.
func TestPreemptNote(t *testing.T) {
	a := New("amd64")
	un := call(1, "munmap", 0, "addr", 0x7f0000000000, "len", 1<<20)
	un.Dur = 121_000_000
	off := func(name string, ns int64) *event.Kernel {
		nextTS += 10
		return &event.Kernel{Common: event.Common{TS: nextTS, PID: 1, TID: 1}, Name: name, SyscallTS: un.TS,
			Args: event.Fields{{Key: "off_cpu_ns", Val: ns}}}
	}
	for _, k := range []*event.Kernel{off("sched_preempted", 80_000_000), off("sched_blocked", 500_000), off("sched_preempted", 40_000_000)} {
		a.Annotate(k)
	}
	a.Annotate(un)
	want := "preempted 120.0 ms of its 121.0 ms in munmap (2 involuntary switches): runnable but off CPU while the scheduler ran other tasks"
	if !slices.Contains(un.Notes, want) {
		t.Errorf("notes %q, want %q", un.Notes, want)
	}
	if !slices.ContainsFunc(un.Notes, func(n string) bool { return strings.HasPrefix(n, "blocked 500.0 µs in munmap") }) {
		t.Errorf("notes %q: the blocked time is not said apart", un.Notes)
	}
}
