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
			}},
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
