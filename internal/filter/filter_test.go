package filter

import (
	"strconv"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

var header = &event.Header{Schema: event.Schema, Arch: "x86_64", StartNS: 1_000_000_000}

func sc(seq uint64, ms float64, tid uint32, name, errno string) *event.Syscall {
	return &event.Syscall{Common: event.Common{Seq: seq, TS: header.StartNS + uint64(ms*1e6), PID: 10, TID: tid},
		Name: name, Errno: errno}
}

func kev(seq uint64, ms float64, tid uint32, name string, cause uint64) *event.Kernel {
	return &event.Kernel{Common: event.Common{Seq: seq, TS: header.StartNS + uint64(ms*1e6), PID: 10, TID: tid},
		Name: name, CauseSeq: cause}
}

// timeline: thread 11 reads and faults, thread 12 fails a pread, a kworker (tid 88, its own
// pid) completes I/O for the read, and the kernel event of seq 9 arrives before its cause.
var timeline = []event.Event{
	&event.Process{Common: event.Common{Seq: 1, TS: header.StartNS + 100, PID: 10, TID: 11}, Name: "exec"},
	sc(2, 1, 11, "openat", ""),
	sc(3, 2, 11, "read", ""),
	kev(4, 2.1, 11, "mm_filemap_add_to_page_cache", 3),
	&event.Kernel{Common: event.Common{Seq: 5, TS: header.StartNS + 2_500_000, PID: 88, TID: 88}, Name: "block_rq_complete", CauseSeq: 3},
	kev(6, 3, 11, "page_fault_user", 0),
	sc(7, 4, 12, "pread64", "EBADF"),
	kev(8, 4.1, 12, "mm_filemap_add_to_page_cache", 7),
	kev(9, 5.1, 11, "sched_blocked", 10),
	sc(10, 5, 11, "epoll_wait", ""),
	&event.Lost{Common: event.Common{Seq: 11, TS: header.StartNS + 6_000_000}, Count: 3},
	&event.Lost{Count: 1}, // read at the end: no time
}

func TestKeep(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string // kept seqs; the lost count without time is "L"
	}{
		{"no filter", Options{}, "1 2 3 4 5 6 7 8 9 10 11 L"},
		{"tid", Options{TIDs: []string{"12"}}, "7 8 11 L"},
		{"tid keeps the kworker's work for its calls", Options{TIDs: []string{"11"}}, "1 2 3 4 5 6 9 10 11 L"},
		{"tid list", Options{TIDs: []string{"12,88"}}, "5 7 8 11 L"},
		{"pid of a kworker", Options{PIDs: []string{"88"}}, "5 11 L"},
		{"pid of a kworker, call hidden", Options{PIDs: []string{"88"}, Exprs: []string{"openat"}}, "11 L"},
		{"-e name", Options{Exprs: []string{"trace=read"}}, "1 3 4 5 6 9 11 L"},
		{"-e class", Options{Exprs: []string{"%epoll"}}, "1 6 9 10 11 L"},
		{"-e negated", Options{Exprs: []string{"!read,pread64"}}, "1 2 6 9 10 11 L"},
		{"failed", Options{Failed: true}, "1 7 8 11 L"},
		{"since", Options{Since: "3ms"}, "6 7 8 9 10 11 L"},
		{"until", Options{Until: "2.1ms"}, "1 2 3 4 L"},
		{"window in seconds", Options{Since: "0.002", Until: "0.003"}, "3 4 5 6 L"},
		{"no kernel events", Options{KernelEvents: "none"}, "1 2 3 7 10 11 L"},
		{"kernel names", Options{KernelEvents: "page_fault_user,block_*"}, "1 2 3 5 6 7 10 11 L"},
		{"all kernel events", Options{KernelEvents: "all"}, "1 2 3 4 5 6 7 8 9 10 11 L"},
		{"kernel groups", Options{KernelEvents: "sched,filemap", KernelGroups: map[string][]string{
			"sched": {"sched_blocked"}, "filemap": {"mm_filemap_add_to_page_cache", "mm_filemap_delete_from_page_cache"}}},
			"1 2 3 4 7 8 9 10 11 L"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.o, header)
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, e := range timeline {
				if f.Keep(e) {
					if e.Base().Seq == 0 {
						kept = append(kept, "L")
					} else {
						kept = append(kept, strconv.FormatUint(e.Base().Seq, 10))
					}
				}
			}
			if got := strings.Join(kept, " "); got != tt.want {
				t.Errorf("kept %s\nwant %s", got, tt.want)
			}
			if zero := f.IsZero(); zero != (tt.name == "no filter" || tt.name == "all kernel events") {
				t.Errorf("IsZero() = %v", zero)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{TIDs: []string{"12,x"}}, `--tid "x": want a positive thread or process id`},
		{Options{PIDs: []string{"0"}}, `--pid "0": want a positive thread or process id`},
		{Options{Exprs: []string{"trace=wrtiev"}}, `unknown syscall "wrtiev" in -e (did you mean "writev"?)`},
		{Options{Since: "soon"}, `--since "soon": want a time since the start such as 1.5s, 200ms or 0.25`},
		{Options{Until: "-1s"}, `--until "-1s": times count from the start of tracing and cannot be negative`},
		{Options{Since: "2s", Until: "1s"}, "--until 1s is before --since 2s"},
		{Options{KernelEvents: "a,,b"}, `--kernel-events "a,,b": empty name`},
		{Options{KernelEvents: "a,none"}, `--kernel-events: "none" cannot be combined with names`},
		{Options{KernelEvents: "mm_[x"}, `--kernel-events: bad pattern "mm_[x"`},
	}
	for _, tt := range tests {
		_, err := New(tt.o, header)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) = %v\nwant %s", tt.o, err, tt.want)
		}
	}
	if _, err := New(Options{Exprs: []string{"read"}}, &event.Header{Arch: "mips"}); err == nil ||
		!strings.Contains(err.Error(), `no syscall table for arch "mips"`) {
		t.Errorf("unknown arch: %v", err)
	}
}

// The memory of verdicts is bounded: the oldest are forgotten first.
func TestDecisionsBounded(t *testing.T) {
	var d decisions
	for seq := uint64(1); seq <= maxDecisions+10; seq++ {
		d.put(seq, verdict{task: true, call: seq%2 == 0})
	}
	if len(d.m) != maxDecisions {
		t.Errorf("remembers %d verdicts, want %d", len(d.m), maxDecisions)
	}
	if _, seen := d.get(10); seen {
		t.Error("seq 10 is still remembered")
	}
	if v, seen := d.get(maxDecisions + 10); !seen || !v.call {
		t.Errorf("newest verdict = %+v, %v", v, seen)
	}
}
