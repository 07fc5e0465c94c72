package diff

import (
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

func profile(name string, events ...event.Event) *Profile {
	p := NewProfile(name, &event.Header{Command: []string{"cat", "f"}, StartNS: 1000})
	for _, e := range events {
		p.Add(e)
	}
	return p
}

func sc(name string, ts, dur uint64, errno string) *event.Syscall {
	return &event.Syscall{Common: event.Common{TS: ts, TID: 1}, Name: name, Dur: dur, Errno: errno}
}

func kev(name string, args ...event.Field) *event.Kernel {
	return &event.Kernel{Common: event.Common{TS: 2000, TID: 1}, Name: name, Args: args}
}

func TestWrite(t *testing.T) {
	a := profile("a.jsonl",
		sc("fadvise64", 1000, 50_000, ""),
		sc("read", 60_000, 2_000, ""),
		kev("mm_filemap_add_to_page_cache", event.Field{Key: "index", Val: int64(7)}, event.Field{Key: "nr_pages", Val: int64(4)}),
	)
	b := profile("b.jsonl",
		sc("read", 1000, 90_000, ""),
		sc("read", 100_000, 1_000, "EAGAIN"),
		kev("mm_filemap_add_to_page_cache", event.Field{Key: "index", Val: int64(9)}, event.Field{Key: "nr_pages", Val: int64(4)}),
		kev("mm_filemap_add_to_page_cache", event.Field{Key: "index", Val: int64(13)}, event.Field{Key: "nr_pages", Val: int64(4)}),
		kev("sched_blocked", event.Field{Key: "off_cpu_ns", Val: int64(80_000)}),
		kev("mm_filemap_delete_from_page_cache", event.Field{Key: "order", Val: int64(4)}),
		&event.Lost{Count: 3},
	)
	var out strings.Builder
	if err := Write(&out, a, b); err != nil {
		t.Fatal(err)
	}
	// index is a position, not an amount: it is not summed.
	want := `A: a.jsonl (cat f): 3 events, 0.000061 s
B: b.jsonl (cat f): 7 events, 0.000100 s, 3 lost

syscall     calls A   calls B   Δ calls  errors A  errors B  Δ errors    seconds A    seconds B    Δ seconds
read              1         2        +1         0         1        +1     0.000002     0.000091    +0.000089
fadvise64         1         0        -1         0         0         0     0.000050     0.000000    -0.000050
total             2         2         0         0         1        +1     0.000052     0.000091    +0.000039

kernel event                                 A            B            Δ
mm_filemap_add_to_page_cache                 1            2           +1
  nr_pages                                   4            8           +4
mm_filemap_delete_from_page_cache            0            1           +1
  pages                                      0           16          +16
sched_blocked                                0            1           +1
  off_cpu_ns                                 0        80000       +80000
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// Without failed calls the error columns are left out; without kernel events, it says so.
func TestWritePlain(t *testing.T) {
	a := profile("a", sc("read", 1000, 2_000, ""))
	var out strings.Builder
	if err := Write(&out, a, profile("b")); err != nil {
		t.Fatal(err)
	}
	want := `A: a (cat f): 1 events, 0.000002 s
B: b (cat f): 0 events, 0.000000 s

syscall   calls A   calls B   Δ calls    seconds A    seconds B    Δ seconds
read            1         0        -1     0.000002     0.000000    -0.000002
total           1         0        -1     0.000002     0.000000    -0.000002

no kernel events in either recording
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
