package summary

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		in   event.Summary
		want string
	}{
		{
			name: "sorted by time, errors blank when zero",
			in: event.Summary{Syscalls: []event.SyscallStat{
				{Name: "read", Calls: 2, Errors: 1, TotalNS: 4_000},
				{Name: "writev", Calls: 2, TotalNS: 10_000},
				{Name: "close", Calls: 1, TotalNS: 0},
				{Name: "openat", Calls: 1, TotalNS: 2_000},
			}},
			want: `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 62.50    0.000010           5         2           writev
 25.00    0.000004           2         2         1 read
 12.50    0.000002           2         1           openat
  0.00    0.000000           0         1           close
------ ----------- ----------- --------- --------- ----------------
100.00    0.000016           2         6         1 total
`,
		},
		{
			name: "lost events always shown; ties by calls then name",
			in: event.Summary{Lost: 1234, Syscalls: []event.SyscallStat{
				{Name: "b", Calls: 1, TotalNS: 1_500_000_000},
				{Name: "a", Calls: 1, TotalNS: 1_500_000_000},
				{Name: "c", Calls: 3, TotalNS: 1_500_000_000},
			}},
			want: `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 33.33    1.500000      500000         3           c
 33.33    1.500000     1500000         1           a
 33.33    1.500000     1500000         1           b
------ ----------- ----------- --------- --------- ----------------
100.00    4.500000      900000         5           total
lost events: 1234
`,
		},
		{
			name: "cut short; seconds round but usecs/call truncate, as in strace",
			in:   event.Summary{Truncated: true, Syscalls: []event.SyscallStat{{Name: "read", Calls: 1, TotalNS: 999}}},
			want: `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.000001           0         1           read
------ ----------- ----------- --------- --------- ----------------
100.00    0.000001           0         1           total
(the recording was cut short: counted from the events it holds)
`,
		},
		{
			name: "no syscalls",
			in:   event.Summary{},
			want: `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
------ ----------- ----------- --------- --------- ----------------
100.00    0.000000           0         0           total
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Write(&b, &tt.in); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	sc := func(ts, dur uint64, name, errno string) *event.Syscall {
		return &event.Syscall{Common: event.Common{TS: ts}, Name: name, Dur: dur, Errno: errno}
	}
	tests := []struct {
		name   string
		start  uint64 // 0: no Start call
		events []event.Event
		want   event.Summary
	}{
		{
			name: "empty",
			want: event.Summary{Syscalls: []event.SyscallStat{}},
		},
		{
			name:  "syscalls, errors, lost, duration from Start",
			start: 100,
			events: []event.Event{
				sc(200, 50, "writev", ""),
				&event.Kernel{Common: event.Common{TS: 210}, Name: "mm_filemap_add_to_page_cache"},
				sc(300, 20, "read", "EAGAIN"),
				&event.Lost{Common: event.Common{TS: 310}, Count: 5},
				sc(400, 30, "read", ""),
				&event.Lost{Common: event.Common{TS: 320}, Count: 2},
			},
			want: event.Summary{Events: 6, Lost: 7, DurationNS: 330, Syscalls: []event.SyscallStat{
				{Name: "read", Calls: 2, Errors: 1, TotalNS: 50},
				{Name: "writev", Calls: 1, TotalNS: 50},
			}, Kernel: []event.KernelStat{{Name: "mm_filemap_add_to_page_cache", Events: 1, Pages: 1}}},
		},
		{
			name:   "duration from the first event without Start",
			events: []event.Event{sc(1000, 10, "close", ""), &event.Process{Common: event.Common{TS: 1500}, Name: "exit"}},
			want: event.Summary{Events: 2, DurationNS: 500, Syscalls: []event.SyscallStat{
				{Name: "close", Calls: 1, TotalNS: 10},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Counter
			if tt.start != 0 {
				c.Start(tt.start)
			}
			for _, e := range tt.events {
				c.Add(e)
			}
			if got := c.Summary(); !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, &tt.want)
			}
		})
	}
}

// TestKernelEffects sums kernel events per kind: pages by folio order, bytes, time off CPU, and
// the files or mappings most affected.
func TestKernelEffects(t *testing.T) {
	var c Counter
	add := func(name string, args event.Fields) {
		c.Add(&event.Kernel{Common: event.Common{TS: 10}, Name: name, Args: args})
	}
	add("mm_filemap_add_to_page_cache", event.Fields{{Key: "order", Val: int64(4)}, {Key: "file", Val: "/a"}})
	add("mm_filemap_add_to_page_cache", event.Fields{{Key: "order", Val: int64(0)}, {Key: "file", Val: "/b"}})
	add("mm_filemap_add_to_page_cache", event.Fields{{Key: "order", Val: int64(2)}, {Key: "file", Val: "/a"}})
	add("block_rq_issue", event.Fields{{Key: "bytes", Val: int64(4096)}})
	add("sched_blocked", event.Fields{{Key: "off_cpu_ns", Val: int64(1500)}})
	add("page_fault_user", event.Fields{{Key: "mapping", Val: "[anon]"}})
	got := c.Summary().Kernel
	want := []event.KernelStat{
		{Name: "block_rq_issue", Events: 1, Bytes: 4096},
		{Name: "mm_filemap_add_to_page_cache", Events: 3, Pages: 21, By: []event.KeyCount{{Key: "/a", Events: 2, Pages: 20}, {Key: "/b", Events: 1, Pages: 1}}},
		{Name: "page_fault_user", Events: 1, Pages: 1, By: []event.KeyCount{{Key: "[anon]", Events: 1, Pages: 1}}},
		{Name: "sched_blocked", Events: 1, OffCPUNS: 1500},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kernel effects\n got %+v\nwant %+v", got, want)
	}
	var out strings.Builder
	if err := Write(&out, c.Summary()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"kernel effect", "mm_filemap_add_to_page_cache", "/a ×2, /b ×1", "0.000002"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, out.String())
		}
	}
}
