package annotate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

func uringEvent(name string, pid, tid uint32, scTS, ts uint64, args ...any) *event.Kernel {
	k := &event.Kernel{Common: event.Common{TS: ts, PID: pid, TID: tid}, Name: name, SyscallTS: scTS,
		Args: event.Fields{{Key: "ctx", Val: "#7"}}}
	for i := 0; i+1 < len(args); i += 2 {
		k.Args = append(k.Args, event.Field{Key: args[i].(string), Val: args[i+1]})
	}
	return k
}

// fillOf is a page-cache fill by tid, a thread of pid 1, outside calls.
func fillOf(tid uint32, index int64) *event.Kernel {
	k := pageEvent("mm_filemap_add_to_page_cache", tid, 0, 33, index, 0)
	k.PID = 1
	return k
}

// A punted request's work on an io-wq worker (a thread of the process that makes no calls) is
// held until its completion names the request, then joins the call that punted it: emitted
// after that call, linked to it, and told in its note. What a worker does for a request the SQ
// thread punted, and the SQ thread's own work, name the ring; a completion whose request was
// never punted leaves the thread's events as they were.
func TestIOWorkers(t *testing.T) {
	a := New("amd64")
	a.Annotate(call(1, "prctl", 0)) // pid 1 is traced
	enter := call(1, "io_uring_enter", 2, "fd", 5, "to_submit", 2, "min_complete", 2, "flags", enterGetEvents, "argp", 0, "argsz", 0)
	var out []event.Event
	feed := func(e event.Event) { out = append(out, a.Annotate(e)...) }
	for _, req := range []string{"#20", "#21"} {
		feed(uringEvent("io_uring_queue_async_work", 1, 1, enter.TS, enter.TS+1, "req", req))
	}
	// worker tid 9: a fill, then the completion of #20; worker tid 10 completes #21
	feed(fillOf(9, 0))
	if len(out) != 0 {
		t.Fatalf("a possible worker's fill was emitted before its completion: %v", out)
	}
	feed(uringEvent("io_uring_complete", 1, 9, 0, enter.TS+50, "req", "#20"))
	feed(uringEvent("io_uring_complete", 1, 10, 0, enter.TS+60, "req", "#21"))
	if len(out) != 0 {
		t.Fatalf("a worker's work was emitted before the call that punted it: %v", out)
	}
	feed(enter)
	if len(out) != 6 || out[0] != event.Event(enter) {
		t.Fatalf("want the call then its 2 punts, the fill and 2 completions, got %d events: %v", len(out), out)
	}
	for _, e := range out[3:] {
		k := e.(*event.Kernel)
		if k.CauseSeq != enter.Seq || k.Via != event.ViaIOWorker || k.TID == 1 {
			t.Errorf("%s of tid %d: cause %d via %q, want cause %d via %q", k.Name, k.TID, k.CauseSeq, k.Via, enter.Seq, event.ViaIOWorker)
		}
	}
	want := "io_uring punted 2 requests to io-wq worker threads; all 2 ran on 2 workers, tid 9: 1, tid 10: 1, and completed before the call returned"
	if !slices.Contains(enter.Notes, want) {
		t.Errorf("notes = %q, want %q", enter.Notes, want)
	}
	if strings.Contains(strings.Join(enter.Notes, "\n"), "completions posted inside the call") {
		t.Errorf("the workers' completions are told as the call's own: %q", enter.Notes)
	}

	// A completion after the call returned is linked to it at once.
	late := call(1, "io_uring_enter", 1, "fd", 5, "to_submit", 1, "min_complete", 0, "flags", 0, "argp", 0, "argsz", 0)
	a.Annotate(uringEvent("io_uring_queue_async_work", 1, 1, late.TS, late.TS+1, "req", "#22"))
	a.Annotate(late)
	got := a.Annotate(uringEvent("io_uring_complete", 1, 9, 0, late.TS+500, "req", "#22"))
	if len(got) != 1 || got[0].(*event.Kernel).CauseSeq != late.Seq {
		t.Fatalf("a late completion on the worker: %v, want it linked to seq %d", got, late.Seq)
	}

	// SQPOLL: tid 11 submits outside calls: the ring's SQ thread; it punts #30, tid 12 runs it.
	sub := a.Annotate(uringEvent("io_uring_submit_req", 1, 11, 0, 9000, "req", "#30", "sq_thread", int64(1)))
	a.Annotate(uringEvent("io_uring_queue_async_work", 1, 11, 0, 9001, "req", "#30"))
	if k := sub[0].(*event.Kernel); k.Via != event.ViaSQThread || k.Outside != event.OutsideIOThread {
		t.Errorf("the SQ thread's submission: via %q outside %q", k.Via, k.Outside)
	}
	if got := a.Annotate(fillOf(12, 4)); len(got) != 0 {
		t.Fatalf("held expected, got %v", got)
	}
	got = a.Annotate(uringEvent("io_uring_complete", 1, 12, 0, 9100, "req", "#30"))
	if len(got) != 2 {
		t.Fatalf("want the fill and the completion of the SQ thread's punt, got %v", got)
	}
	fill := got[0].(*event.Kernel)
	if ring, _ := fill.Args.Str("ring"); fill.Via != event.ViaIOWorker || fill.Outside != event.OutsideIOThread || ring != "#7" {
		t.Errorf("the worker's fill for the SQ thread: via %q outside %q ring %q", fill.Via, fill.Outside, ring)
	}

	// No punt outstanding: a thread's events are not held.
	if got := a.Annotate(fillOf(13, 8)); len(got) != 1 {
		t.Errorf("with nothing punted, an event outside calls was held: %v", got)
	}
	// Held, then a completion of no punted request: released as they were.
	a.Annotate(uringEvent("io_uring_queue_async_work", 1, 1, 0, 9500, "req", "#40"))
	a.Annotate(fillOf(14, 9))
	got = a.Annotate(uringEvent("io_uring_complete", 1, 14, 0, 9600, "req", "#41"))
	if len(got) != 2 || got[0].(*event.Kernel).Via != "" || got[0].(*event.Kernel).Outside != event.OutsideNoCall {
		t.Errorf("events of a thread completing an unknown request: %v", got)
	}
}

// A POSIX AIO request (the uprobe record of aio_read) is linked to the helper thread's call with
// its descriptor, buffer, length and offset — not to a look-alike on another descriptor or
// offset — and a pread64 that fails with ESPIPE leaves the request for the read glibc falls
// back to.
func TestPOSIXAIOLinks(t *testing.T) {
	a := New("amd64")
	a.Annotate(call(1, "prctl", 0))
	req := func(name string, fd int64, buf string, n, off, op int64) *event.Kernel {
		k := &event.Kernel{Common: event.Common{TS: nextTS, PID: 1, TID: 1}, Name: name, Args: event.Fields{
			{Key: "aiocb", Val: "0x7ffd0000"}, {Key: "aio_fildes", Val: fd}, {Key: "op", Val: op},
			{Key: "aio_buf", Val: buf}, {Key: "aio_nbytes", Val: n}, {Key: "aio_offset", Val: off}}}
		a.Annotate(k)
		return k
	}
	helper := func(s *event.Syscall) *event.Syscall { s.TID = 2; a.Annotate(s); return s }
	r := req("aio_read", 3, "0x5000", 4096, 8192, 0)
	if r.Outside != event.OutsideUser {
		t.Errorf("aio_read record outside %q, want %q", r.Outside, event.OutsideUser)
	}
	if _, ok := r.Args.Get("op"); ok {
		t.Errorf("aio_read keeps aio_fsync's op: %v", r.Args)
	}
	other := helper(call(1, "pread64", 4096, "fd", 3, "buf", uint64(0x5000), "count", 4096, "pos", 0))
	right := helper(call(1, "pread64", 4096, "fd", 3, "buf", uint64(0x5000), "count", 4096, "pos", 8192))
	again := helper(call(1, "pread64", 4096, "fd", 3, "buf", uint64(0x5000), "count", 4096, "pos", 8192))
	want := fmt.Sprintf("glibc runs the aio_read of tid 1 (seq %d) as this pread64, on its helper thread 2", r.Seq)
	if len(other.Notes) != 0 || !slices.Contains(right.Notes, want) || len(again.Notes) != 0 {
		t.Errorf("notes: other offset %q, the request's %q (want %q), a second look-alike %q", other.Notes, right.Notes, want, again.Notes)
	}

	p := req("aio_write", 5, "0x6000", 10, 0, 0) // a pipe: pwrite64 fails with ESPIPE, glibc writes
	espipe := helper(failed(call(1, "pwrite64", -29, "fd", 5, "buf", uint64(0x6000), "count", 10, "pos", 0), "ESPIPE"))
	w := helper(call(1, "write", 10, "fd", 5, "buf", uint64(0x6000), "count", 10))
	if len(espipe.Notes) == 0 || !slices.Contains(w.Notes, fmt.Sprintf("glibc runs the aio_write of tid 1 (seq %d) as this write, on its helper thread 2", p.Seq)) {
		t.Errorf("ESPIPE fallback: pwrite64 notes %q, write notes %q", espipe.Notes, w.Notes)
	}

	f := req("aio_fsync", 3, "0x0", 0, 0, oSync)
	fd := helper(call(1, "fdatasync", 0, "fd", 3))
	fs := helper(call(1, "fsync", 0, "fd", 3))
	if op, _ := f.Args.Str("op"); op != "O_SYNC" || len(fd.Notes) != 0 || len(fs.Notes) != 1 {
		t.Errorf("aio_fsync(O_SYNC): op %v, fdatasync notes %q, fsync notes %q", f.Args, fd.Notes, fs.Notes)
	}
}
