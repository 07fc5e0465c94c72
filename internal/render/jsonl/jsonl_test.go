package jsonl

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render"
)

var _ render.Renderer = (*Writer)(nil)

func writev() *event.Syscall {
	iov := func(data string) event.Fields {
		return event.Fields{{Key: "len", Val: int64(len(data))}, {Key: "data", Val: data}}
	}
	return &event.Syscall{
		Common: event.Common{Seq: 7, TS: 1_000_123_000, PID: 4242, TID: 4242, Comm: "cat"},
		Name:   "writev", Nr: 20, Dur: 15_000,
		Args: []event.Arg{{Name: "fd", Value: 3}, {Name: "vec", Value: 0x7ffd0000}, {Name: "vlen", Value: 4}},
		Ret:  38,
		Decoded: event.Fields{
			{Key: "fd", Val: "/tmp/x/out.txt"},
			{Key: "iov", Val: []any{iov("HEADER: "), iov("line one\n"), iov("line two\n"), iov("the end.\n\x00\x01")}},
		},
		Notes: []string{"one syscall moved four buffers"},
	}
}

func TestWriter(t *testing.T) {
	zero := 0
	header := &event.Header{Schema: event.Schema, Kernel: "6.18.44", Arch: "x86_64", Command: []string{"cat", "f"}, StartNS: 1_000_000_000}
	events := []event.Event{
		writev(),
		&event.Syscall{Common: event.Common{Seq: 8, TS: 1_000_200_000, PID: 4242, TID: 4242},
			Name: "read", Args: []event.Arg{{Name: "fd", Value: 5}}, Ret: -11, Errno: "EAGAIN"},
		&event.Kernel{Common: event.Common{Seq: 9, TS: 1_000_300_000, PID: 4242, TID: 4243},
			Name: "mm_filemap_add_to_page_cache", Args: event.Fields{{Key: "i_ino", Val: int64(12)}}, CauseSeq: 8},
		&event.Process{Common: event.Common{Seq: 10, TS: 1_000_400_000, PID: 4242, TID: 4242}, Name: "exit", ExitCode: &zero},
		&event.Lost{Common: event.Common{Seq: 11, TS: 1_000_500_000}, Count: 3, CPU: 1, Reason: "ring buffer full"},
		&event.Prediction{Common: event.Common{TS: 1_000_600_000, PID: 4242, TID: 4242}, Workload: "fadvise", Variant: "copy",
			ID: "dontneed-clean", Says: "DONTNEED on the clean source evicts every page of it", Verdict: event.VerdictHeld,
			Measured: "evicted 16 of 16 pages", EvidenceSeq: []uint64{8}},
	}
	summary := &event.Summary{Events: 5, Lost: 3, Syscalls: []event.SyscallStat{{Name: "read", Calls: 1, Errors: 1}}, ExitCode: &zero,
		Predictions: &event.PredictionStat{Held: 1}}

	var out bytes.Buffer
	w := New(&out)
	if err := w.Header(header); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := w.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if out.Len() != 0 {
		t.Errorf("wrote %d bytes before Close; want them buffered", out.Len())
	}
	if err := w.Close(summary); err != nil {
		t.Fatal(err)
	}

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := append(append([]event.Record{header}, recordsOf(events)...), summary)
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		got, err := event.ParseLine([]byte(line))
		if err != nil {
			t.Fatalf("line %d: %v\n%s", i+1, err, line)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("line %d reads back as\n%#v\nwant\n%#v", i+1, got, want[i])
		}
	}
}

func recordsOf(events []event.Event) []event.Record {
	rs := make([]event.Record, len(events))
	for i, e := range events {
		rs[i] = e
	}
	return rs
}

func TestFlush(t *testing.T) {
	var out bytes.Buffer
	w := New(&out)
	if err := w.Event(writev()); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), `{"type":"syscall","seq":7,`) || !strings.HasSuffix(out.String(), "}\n") {
		t.Errorf("after Flush got %q", out.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteError(t *testing.T) {
	w := New(failWriter{})
	if err := w.Event(writev()); err != nil {
		t.Fatal(err) // still buffered
	}
	err := w.Close(&event.Summary{})
	if err == nil || !strings.Contains(err.Error(), "write json lines") {
		t.Errorf("Close on a broken writer = %v, want a write error", err)
	}
}

func BenchmarkSyscall(b *testing.B) {
	w := New(io.Discard)
	e := writev()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Event(e); err != nil {
			b.Fatal(err)
		}
	}
}
