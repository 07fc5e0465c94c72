package text

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

func kev(name string, args ...any) *event.Kernel {
	k := &event.Kernel{Common: event.Common{TS: 1_000_000_000, PID: 7, TID: 7}, Name: name}
	for i := 0; i+1 < len(args); i += 2 {
		v := args[i+1]
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		k.Args = append(k.Args, event.Field{Key: args[i].(string), Val: v})
	}
	return k
}

func TestAggregate(t *testing.T) {
	tests := []struct {
		name  string
		burst []*event.Kernel
		want  event.Fields
	}{
		{
			name: "page cache fills: index range, shared values kept",
			burst: []*event.Kernel{
				kev("mm_filemap_add_to_page_cache", "i_ino", 12, "index", 16, "s_dev", "254:0", "order", 4),
				kev("mm_filemap_add_to_page_cache", "i_ino", 12, "index", 0, "s_dev", "254:0", "order", 4),
				kev("mm_filemap_add_to_page_cache", "i_ino", 12, "index", 240, "s_dev", "254:0", "order", 4),
			},
			want: event.Fields{{Key: countKey, Val: int64(3)}, {Key: "i_ino", Val: int64(12)}, {Key: "index", Val: "0–240"},
				{Key: "s_dev", Val: "254:0"}, {Key: "order", Val: int64(4)}},
		},
		{
			name: "values that differ are dropped",
			burst: []*event.Kernel{
				kev("mm_filemap_add_to_page_cache", "i_ino", 12, "index", 1, "order", 0),
				kev("mm_filemap_add_to_page_cache", "i_ino", 13, "index", 2, "order", 2),
			},
			want: event.Fields{{Key: countKey, Val: int64(2)}, {Key: "index", Val: "1–2"}},
		},
		{
			name: "fault-around: the range runs to the last last_index",
			burst: []*event.Kernel{
				kev("mm_filemap_map_pages", "i_ino", 5, "index", 32, "last_index", 47),
				kev("mm_filemap_map_pages", "i_ino", 5, "index", 0, "last_index", 15),
			},
			want: event.Fields{{Key: countKey, Val: int64(2)}, {Key: "i_ino", Val: int64(5)}, {Key: "index", Val: "0–47"}},
		},
		{
			name: "page faults: address and page ranges, faults per mapping in order of appearance",
			burst: []*event.Kernel{
				kev("page_fault_user", "address", 0x2000, "ip", 0x400100, "error_code", 4, "mapping", "/src", "page", 2),
				kev("page_fault_user", "address", 0x1000, "ip", 0x400200, "error_code", 4, "mapping", "[anon]", "page", 1),
				kev("page_fault_user", "address", 0x9000, "ip", 0x400300, "error_code", 4, "mapping", "/src", "page", 9),
				kev("page_fault_user", "address", 0x5000, "ip", 0x400300, "error_code", 4),
			},
			want: event.Fields{{Key: countKey, Val: int64(4)}, {Key: "address", Val: "4096–36864"}, {Key: "error_code", Val: int64(4)},
				{Key: "mappings", Val: "/src×2,[anon]×1,?×1"}, {Key: "page", Val: "1–9"}},
		},
		{
			name: "block requests: bytes and sectors summed, sector range",
			burst: []*event.Kernel{
				kev("block_rq_issue", "dev", "254:0", "sector", 800, "nr_sector", 8, "bytes", 4096, "rwbs", "RA"),
				kev("block_rq_issue", "dev", "254:0", "sector", 100, "nr_sector", 16, "bytes", 8192, "rwbs", "R"),
			},
			want: event.Fields{{Key: countKey, Val: int64(2)}, {Key: "dev", Val: "254:0"}, {Key: "sector", Val: "100–800"},
				{Key: "nr_sector", Val: int64(24)}, {Key: "bytes", Val: int64(12288)}},
		},
		{
			name: "off-CPU time summed; the waker kept only when it is always the same",
			burst: []*event.Kernel{
				kev("sched_blocked", "off_cpu_ns", 1000, "waker_tid", 42),
				kev("sched_blocked", "off_cpu_ns", 250, "waker_tid", 42),
			},
			want: event.Fields{{Key: countKey, Val: int64(2)}, {Key: "off_cpu_ns", Val: int64(1250)}, {Key: "waker_tid", Val: int64(42)}},
		},
		{
			name: "a key later events lack is not shared",
			burst: []*event.Kernel{
				kev("sched_blocked", "off_cpu_ns", 10, "waker_tid", 42),
				kev("sched_blocked", "off_cpu_ns", 20),
			},
			want: event.Fields{{Key: countKey, Val: int64(2)}, {Key: "off_cpu_ns", Val: int64(30)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := aggregate(tt.burst); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("aggregate:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// kernelLines renders events and returns the kernel lines from their "· " on, without the mark
// of an event printed away from its call (TestPlacement checks those).
func kernelLines(t *testing.T, events ...event.Event) []string {
	t.Helper()
	var b bytes.Buffer
	r := New(&b, Options{TID: TIDNever})
	if err := r.Header(&event.Header{StartNS: 1_000_000_000, Arch: "x86_64"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(nil); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if _, k, ok := strings.Cut(l, "· "); ok {
			if strings.HasPrefix(k, "[") {
				_, k, _ = strings.Cut(k, "] ")
			}
			lines = append(lines, k)
		} else if _, n, ok := strings.Cut(l, "↳ "); ok {
			lines = append(lines, "↳ "+n)
		}
	}
	return lines
}

func caused(k *event.Kernel, seq uint64, tid uint32) *event.Kernel {
	k.CauseSeq, k.TID = seq, tid
	return k
}

func TestBursts(t *testing.T) {
	noted := kev("mm_filemap_delete_from_page_cache", "index", 3)
	noted.Notes = []string{"evicted"}
	tests := []struct {
		name   string
		events []event.Event
		want   []string
	}{
		{
			name: "one line per kind, in order of first appearance",
			events: []event.Event{
				caused(kev("page_fault_user", "address", 1), 5, 7),
				caused(kev("mm_filemap_add_to_page_cache", "index", 0), 5, 7),
				caused(kev("page_fault_user", "address", 9), 5, 7),
				caused(kev("block_rq_issue", "bytes", 4096), 5, 7),
			},
			want: []string{"page_fault_user ×2 address=1–9", "mm_filemap_add_to_page_cache index=0", "block_rq_issue bytes=4096"},
		},
		{
			name: "another cause or thread starts a new burst",
			events: []event.Event{
				caused(kev("page_fault_user", "address", 1), 5, 7),
				caused(kev("page_fault_user", "address", 2), 6, 7),
				caused(kev("page_fault_user", "address", 3), 6, 8),
				caused(kev("page_fault_user", "address", 4), 6, 8),
			},
			want: []string{"page_fault_user address=1", "page_fault_user address=2", "page_fault_user ×2 address=3–4"},
		},
		{
			name: "a syscall ends the burst",
			events: []event.Event{
				caused(kev("page_fault_user", "address", 1), 0, 7),
				&event.Syscall{Common: event.Common{TS: 1_000_000_100, PID: 7, TID: 7}, Name: "getpid", Nr: 39},
				caused(kev("page_fault_user", "address", 2), 0, 7),
			},
			want: []string{"page_fault_user address=1", "page_fault_user address=2"},
		},
		{
			name: "notes of the folded events are kept",
			events: []event.Event{
				caused(kev("mm_filemap_delete_from_page_cache", "index", 1), 5, 7),
				caused(noted, 5, 7),
			},
			want: []string{"mm_filemap_delete_from_page_cache ×2 index=1–3", "↳ evicted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kernelLines(t, tt.events...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lines:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestPlacement: a kernel event is indented under the call on the line above only when that call
// caused it; any other stands on its own line with a mark saying where it came from.
func TestPlacement(t *testing.T) {
	call := func(seq uint64, tid uint32, name string) *event.Syscall {
		return &event.Syscall{Common: event.Common{Seq: seq, TS: 1_000_000_100, PID: 7, TID: tid}, Name: name, Nr: 39}
	}
	outside := func(k *event.Kernel, where, untraced string) *event.Kernel {
		k.Outside, k.UntracedCall = where, untraced
		return k
	}
	lost := kev("mm_filemap_add_to_page_cache", "index", 4)
	lost.CauseLost = true
	events := []event.Event{
		call(5, 7, "openat"),
		caused(kev("mm_filemap_add_to_page_cache", "index", 0), 5, 7),
		outside(kev("page_cache_sync_ra", "index", 1), event.OutsideUntraced, "read"),
		caused(kev("block_rq_complete", "sector", 8), 5, 7),
		call(6, 7, "getpid"),
		outside(kev("page_fault_user", "address", 2), event.OutsideUser, ""),
		outside(kev("writeback_dirty_folio", "index", 3), event.OutsideKernelThread, ""),
		lost,
		kev("rss_stat", "member", 1),
		caused(kev("block_rq_complete", "sector", 16), 99, 7),
		kev("page-faults", "address", 3), // a recording from before "outside"
	}
	var b bytes.Buffer
	r := New(&b, Options{TID: TIDNever})
	if err := r.Header(&event.Header{StartNS: 1_000_000_000, Arch: "x86_64"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		got = append(got, l[len("   0.000000 (+0.000000) "):])
	}
	want := []string{
		"openat() = 0 <0.000000>",
		"    · mm_filemap_add_to_page_cache index=0",
		"· [in untraced read] page_cache_sync_ra index=1",
		"· [of openat seq 5] block_rq_complete sector=8",
		"getpid() = 0 <0.000000>",
		"· [user mode] page_fault_user address=2",
		"· [kernel thread] writeback_dirty_folio index=3",
		"· [in a lost call] mm_filemap_add_to_page_cache index=4",
		"· [no traced call] rss_stat member=1",
		"· [of seq 99] block_rq_complete sector=16",
		"· [user mode] page-faults address=3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timeline:\n got %q\nwant %q", got, want)
	}
}
