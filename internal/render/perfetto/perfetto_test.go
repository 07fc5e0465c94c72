package perfetto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/render/perfetto/perfettotest"
)

var _ render.Renderer = (*Writer)(nil)

const start = 1_000_000 // ns

var header = &event.Header{Schema: event.Schema, Version: "test", Kernel: "6.1.0", Arch: "x86_64",
	Command: []string{"cat", "f"}, StartNS: start}

func sc(seq, ts, dur uint64, tid uint32, name string) *event.Syscall {
	return &event.Syscall{Common: event.Common{Seq: seq, TS: start + ts, PID: 1, TID: tid, Comm: "cat"}, Name: name, Dur: dur}
}

func kev(seq, ts uint64, pid, tid uint32, name string, cause uint64, args ...event.Field) *event.Kernel {
	return &event.Kernel{Common: event.Common{Seq: seq, TS: start + ts, PID: pid, TID: tid, Comm: "cat"},
		Name: name, CauseSeq: cause, Args: args}
}

// export renders events and checks the result is well-formed.
func export(t *testing.T, s *event.Summary, events ...event.Event) *perfettotest.Trace {
	t.Helper()
	var b bytes.Buffer
	w := New(&b)
	if err := w.Header(header); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := w.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(s); err != nil {
		t.Fatal(err)
	}
	tr, err := perfettotest.Validate(b.Bytes())
	if err != nil {
		t.Fatalf("malformed trace:\n%v\n%s", err, b.String())
	}
	return tr
}

// onThread lists "ph name @ts" for the events of one thread, in file order; ts is in µs since
// start.
func onThread(tr *perfettotest.Trace, tid uint32) string {
	var out []string
	for _, e := range tr.Events {
		if e.TID != tid || e.Ph == "M" || e.Ph == "s" || e.Ph == "f" {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s @%.3f", e.Ph, e.Name, *e.TS-start/1e3))
	}
	return strings.Join(out, "\n")
}

// Syscall records arrive at their exit, after what happened inside them; each track still comes
// out in time order, and the flows join both orders of cause and effect.
func TestStreamOrder(t *testing.T) {
	tr := export(t, nil,
		kev(2, 150, 1, 1, "mm_filemap_add_to_page_cache", 10), // inside read 10, before its record
		&event.Process{Common: event.Common{Seq: 3, TS: start + 180, PID: 1, TID: 1}, Name: "exec"},
		sc(10, 100, 100, 1, "read"),
		kev(4, 220, 9, 9, "block_rq_complete", 10), // a kworker, after the call
		sc(11, 300, 10, 1, "close"),
		kev(5, 305, 1, 1, "page_fault_user", 11), // annotated order: after its call
		kev(6, 400, 1, 1, "page_fault_user", 99), // a cause that never comes
	)
	want := `i tracing started @0.000
X read @0.100
i mm_filemap_add_to_page_cache @0.150
i exec @0.180
X close @0.300
i page_fault_user @0.305
i page_fault_user @0.400`
	if got := strings.Replace(onThread(tr, 1), "i tracing started @0.000\n", "", 1); got != strings.SplitN(want, "\n", 2)[1] {
		t.Errorf("thread 1:\n%s\nwant\n%s", got, strings.SplitN(want, "\n", 2)[1])
	}
	if tr.Flows != 3 {
		t.Errorf("%d flows, want 3 (read → fill, read → kworker completion, close → fault)", tr.Flows)
	}
	if got := onThread(tr, 9); got != "i block_rq_complete @0.220" {
		t.Errorf("kworker track: %q", got)
	}
}

// Kernel spans that overlap without nesting become async slices; those that nest stay on the
// thread.
func TestOverlap(t *testing.T) {
	dur := func(ns int64) event.Field { return event.Field{Key: "dur_ns", Val: ns} }
	tr := export(t, nil,
		kev(1, 100, 9, 9, "block_rq", 0, dur(50)),
		kev(2, 120, 9, 9, "block_rq", 0, dur(50)), // overlaps the first: async
		kev(3, 130, 9, 9, "block_rq", 0, dur(10)), // inside the first: nested
		kev(4, 200, 9, 9, "sched_blocked", 0, event.Field{Key: "off_cpu_ns", Val: int64(30)}),
	)
	if got, want := onThread(tr, 9), `X block_rq @0.100
b block_rq @0.120
e block_rq @0.170
X block_rq @0.130
X sched_blocked @0.200`; got != want {
		t.Errorf("kworker track:\n%s\nwant\n%s", got, want)
	}
	if tr.Slices != 3 || tr.Async != 1 {
		t.Errorf("%d slices and %d async, want 3 and 1", tr.Slices, tr.Async)
	}
}

// Each block and io_uring request becomes an async slice from issue to completion; requests in
// flight together overlap.
func TestRequests(t *testing.T) {
	f := func(k string, v any) event.Field { return event.Field{Key: k, Val: v} }
	blk := func(seq, ts uint64, tid uint32, name string, sector int64) *event.Kernel {
		return kev(seq, ts, 1, tid, name, 0, f("dev", "8:0"), f("sector", sector), f("nr_sector", int64(8)), f("rwbs", "R"))
	}
	uring := func(seq, ts uint64, tid uint32, name, req string) *event.Kernel {
		return kev(seq, ts, 1, tid, name, 0, f("ctx", "#1"), f("req", req))
	}
	tr := export(t, nil,
		blk(1, 100, 1, "block_rq_issue", 64),
		blk(2, 110, 1, "block_rq_issue", 72),
		blk(3, 150, 9, "block_rq_complete", 64),
		blk(4, 190, 9, "block_rq_complete", 72),
		blk(5, 200, 9, "block_rq_complete", 80), // issued before tracing: no slice
		uring(6, 300, 1, "io_uring_submit_req", "#2"),
		uring(7, 320, 5, "io_uring_queue_async_work", "#2"),
		uring(8, 400, 5, "io_uring_complete", "#2"),
	)
	var spans []string
	open := map[string]float64{}
	for _, e := range tr.Events {
		switch {
		case e.Cat == "request" && e.Ph == "b":
			open[string(e.ID)] = *e.TS
		case e.Cat == "request" && e.Ph == "e":
			spans = append(spans, fmt.Sprintf("%s %d/%d [%.3f, %.3f]", e.Name, e.PID, e.TID, open[string(e.ID)]-start/1e3, *e.TS-start/1e3))
		}
	}
	want := "block R 8 sectors 1/1 [0.100, 0.150], block R 8 sectors 1/1 [0.110, 0.190], io_uring req #2 1/1 [0.300, 0.400]"
	if got := strings.Join(spans, ", "); got != want {
		t.Errorf("requests: %s\nwant      %s", got, want)
	}
}

// A thread the trace has no comm for is named after what a sched_blocked event calls its waker.
func TestWakerNames(t *testing.T) {
	worker := kev(1, 100, 1, 7, "mm_filemap_add_to_page_cache", 0)
	worker.Comm = ""
	later := kev(3, 300, 1, 7, "io_uring_complete", 0)
	later.Comm = ""
	tr := export(t, nil,
		worker,
		kev(2, 200, 1, 1, "sched_blocked", 0, event.Field{Key: "off_cpu_ns", Val: int64(50)},
			event.Field{Key: "waker_tid", Val: int64(7)}, event.Field{Key: "waker_comm", Val: "iou-wrk-1"}),
		later,
	)
	var names []string
	for _, e := range tr.Events {
		if e.Ph == "M" && e.Name == "thread_name" && e.TID == 7 {
			names = append(names, string(e.Args))
		}
	}
	if got := strings.Join(names, " "); got != `{"name":"tid 7"} {"name":"iou-wrk-1"}` {
		t.Errorf("names of thread 7: %s", got)
	}
}

func TestPageCounter(t *testing.T) {
	file := event.Field{Key: "file", Val: "/tmp/f"}
	tr := export(t, nil,
		kev(1, 10, 1, 1, "mm_filemap_add_to_page_cache", 0, file, event.Field{Key: "order", Val: int64(0)}),
		kev(2, 20, 1, 2, "mm_filemap_add_to_page_cache", 0, file, event.Field{Key: "order", Val: int64(2)}),
		kev(3, 15, 1, 3, "mm_filemap_delete_from_page_cache", 0, file, event.Field{Key: "nr_pages", Val: int64(1)}),
		kev(4, 40, 1, 1, "mm_filemap_add_to_page_cache", 0, event.Field{Key: "i_ino", Val: int64(7)}, event.Field{Key: "s_dev", Val: "8:1"}),
		kev(5, 50, 1, 1, "page_fault_user", 0),
	)
	var got []string
	for _, e := range tr.Events {
		if e.Ph == "C" {
			var v map[string]int
			json.Unmarshal(e.Args, &v)
			got = append(got, fmt.Sprintf("%s=%d @%.3f pid %d", e.Name, v["pages"], *e.TS-start/1e3, e.PID))
		}
	}
	// Threads without syscalls are written at Close, one by one: thread 3's eviction (at 0.015)
	// reaches the counter after thread 2's fill (at 0.020), and keeps the counter's time order.
	want := []string{
		"page cache: /tmp/f=1 @0.010 pid 1",
		"page cache: inode 7 on 8:1=1 @0.040 pid 1",
		"page cache: /tmp/f=5 @0.020 pid 1",
		"page cache: /tmp/f=4 @0.020 pid 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("counters:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestInstants(t *testing.T) {
	exit := sc(5, 500, 0, 1, "exit_group")
	exit.Unfinished = true
	tr := export(t, &event.Summary{Truncated: true},
		sc(1, 100, 10, 1, "read"),
		&event.Lost{Common: event.Common{Seq: 2, TS: start + 200}, Count: 3, CPU: 1},
		exit,
		&event.Lost{Count: 1, CPU: 0}, // counted at the end
	)
	var globals []string
	for _, e := range tr.Events {
		if e.S == "g" {
			globals = append(globals, fmt.Sprintf("%s @%.3f", e.Name, *e.TS-start/1e3))
		}
	}
	if got, want := strings.Join(globals, ", "), "tracing started @0.000, 3 events lost @0.200, 1 events lost @0.500, recording cut short @0.500"; got != want {
		t.Errorf("global instants: %s\nwant %s", got, want)
	}
	if got, want := onThread(tr, 1), "X read @0.100\ni exit_group @0.500"; got != want {
		t.Errorf("thread 1:\n%s\nwant\n%s", got, want)
	}
}

func TestSyscallArgs(t *testing.T) {
	s := sc(7, 100, 10, 1, "read")
	s.Args = []event.Arg{{Name: "fd", Value: 3}, {Name: "buf", Value: 0x1000}, {Name: "count", Value: 16}}
	s.Ret, s.Errno = -11, "EAGAIN"
	s.Notes = []string{"nothing to read"}
	tr := export(t, nil, s)
	for _, e := range tr.Events {
		if e.Name != "read" {
			continue
		}
		want := `{"kind":"syscall","call":"read(3, 0x1000, 16) = -1 EAGAIN (Resource temporarily unavailable)","seq":7,"ret":-11,"errno":"EAGAIN","args":{"fd":3,"buf":4096,"count":16},"notes":["nothing to read"]}`
		if string(e.Args) != want {
			t.Errorf("args = %s\nwant   %s", e.Args, want)
		}
		return
	}
	t.Fatal("no read slice")
}

// Whatever the recording, the writer holds a bounded number of events and flow ends.
func TestBounded(t *testing.T) {
	w := New(io.Discard)
	if err := w.Header(header); err != nil {
		t.Fatal(err)
	}
	check := func(i int) {
		if w.held > maxHeld+1 {
			t.Fatalf("event %d: %d events held, bound %d", i, w.held, maxHeld)
		}
		for _, th := range w.threads {
			if len(th.held) > maxHeldPerThread {
				t.Fatalf("event %d: thread %d holds %d events", i, th.tid, len(th.held))
			}
		}
		if len(w.recent.m) > maxRecent || len(w.pending.m) > maxPending {
			t.Fatalf("event %d: %d recent syscalls, %d pending flows", i, len(w.recent.m), len(w.pending.m))
		}
	}
	seq := uint64(0)
	for i := range 300_000 {
		seq++
		tid := uint32(100 + i%50)
		var e event.Event
		switch i % 3 {
		case 0: // faults on threads that never make a syscall, caused by calls never seen
			e = kev(seq, uint64(i)*10, 1, tid, "page_fault_user", seq+1_000_000)
		case 1:
			e = sc(seq, uint64(i)*10, 5, uint32(i%7+1), "read")
		default:
			e = kev(seq, uint64(i)*10, 1, uint32(i%7+1), "mm_filemap_add_to_page_cache", seq-1)
		}
		if err := w.Event(e); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			check(i)
		}
	}
	check(300_000)
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteError(t *testing.T) {
	w := New(failWriter{})
	err := w.Header(header)
	for i := 0; err == nil && i < 100_000; i++ {
		err = w.Event(sc(uint64(i), uint64(i)*10, 5, 1, "read"))
	}
	if err == nil {
		err = w.Close(nil)
	}
	if err == nil || !strings.Contains(err.Error(), "closed pipe") {
		t.Errorf("writing to a broken writer: %v", err)
	}
}
