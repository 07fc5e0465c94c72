package predict

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/record"
	"github.com/iotrace/iotrace/internal/render/jsonl"
	"github.com/iotrace/iotrace/workloads"
	"github.com/iotrace/iotrace/workloads/catalog"
)

// fixtures are the annotator's recordings of real workload runs (iotrace run W --variant V
// --all --size 65536), made before variants were marked: the header's --variant tells which.
var fixtures = []string{
	"aio-native", "aio-native-direct", "dup-shared-offset", "epoll-echo", "fadvise-copy",
	"fadvise-dontneed-dirty", "fadvise-random-vs-seq", "fadvise-willneed", "mmap-cold", "mmap-cow",
	"mmap-populate",
}

func readFixture(t *testing.T, name string) (*event.Header, []event.Event) {
	t.Helper()
	r, err := record.Open(filepath.Join("..", "annotate", "testdata", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
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

// judgeAll runs a whole timeline through an evaluator and returns its verdicts.
func judgeAll(h *event.Header, events []event.Event) []*event.Prediction {
	ev := New(h)
	var out []*event.Prediction
	for _, e := range events {
		out = append(out, ev.Event(e)...)
	}
	return append(out, ev.Finish()...)
}

// variantOf is the workload and variant a fixture's header names.
func variantOf(t *testing.T, h *event.Header) *workloads.Variant {
	t.Helper()
	i := slices.Index(h.Command, "__workload")
	w, err := catalog.Lookup(h.Command[i+1])
	if err != nil {
		t.Fatal(err)
	}
	v, err := w.Lookup(headerVariant(h))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFixturesHold judges every prediction of each recorded variant: all hold on the machine
// that recorded them, each with its measured figure.
func TestFixturesHold(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			h, events := readFixture(t, name)
			v := variantOf(t, h)
			got := judgeAll(h, events)
			if len(got) != len(v.Predictions) {
				t.Fatalf("%d verdicts for the variant's %d predictions", len(got), len(v.Predictions))
			}
			for i, p := range got {
				t.Logf("%s %s: %s — %s", p.Verdict, p.ID, p.Says, p.Measured)
				if p.ID != v.Predictions[i].ID || p.Variant != v.Name {
					t.Errorf("verdict %d is for %s/%s, want %s", i, p.Variant, p.ID, v.Predictions[i].ID)
				}
				if p.Verdict != event.VerdictHeld || p.Measured == "" || len(p.EvidenceSeq) == 0 {
					t.Errorf("%s: verdict %s, measured %q, evidence %v; want held with a figure and its evidence", p.ID, p.Verdict, p.Measured, p.EvidenceSeq)
				}
			}
		})
	}
}

// TestFigures pins the measured figures of recorded runs (64 KiB files: 16 pages).
func TestFigures(t *testing.T) {
	tests := []struct{ fixture, id, measured string }{
		{"fadvise-copy", "dontneed-clean", "evicted 16 of 16 pages"},
		{"fadvise-dontneed-dirty", "dirty-kept", "evicted 0 of 16 pages (and started 1 block write request)"},
		{"fadvise-dontneed-dirty", "clean-evicted", "evicted 16 of 16 pages"},
		{"aio-native", "done-in-submit", "io_submit = 4; the io_getevents(min_nr=0) right after it found 4"},
		{"dup-shared-offset", "offset-moves", "write(5) = 10; lseek(8, 0, SEEK_CUR) = 10"},
		{"fadvise-willneed", "fills-before-read", "WILLNEED added 16 of 16 pages before the first read"},
	}
	for _, tt := range tests {
		h, events := readFixture(t, tt.fixture)
		p := find(t, judgeAll(h, events), tt.id)
		if p.Measured != tt.measured {
			t.Errorf("%s %s: measured %q, want %q", tt.fixture, tt.id, p.Measured, tt.measured)
		}
	}
}

func find(t *testing.T, ps []*event.Prediction, id string) *event.Prediction {
	t.Helper()
	for _, p := range ps {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no verdict for %s among %d", id, len(ps))
	return nil
}

// TestFailedIsShown: when the trace contradicts a prediction, the verdict says so with the
// figure measured — a finding, not an error and not left out.
func TestFailedIsShown(t *testing.T) {
	h, events := readFixture(t, "aio-native")
	for _, e := range events {
		if s, ok := e.(*event.Syscall); ok && s.Name == "io_getevents" {
			s.Ret = 1 // as if the peek had found one read done, the others still in flight
			break
		}
	}
	p := find(t, judgeAll(h, events), "done-in-submit")
	if p.Verdict != event.VerdictFailed || !strings.Contains(p.Measured, "found 1") {
		t.Errorf("verdict %s, measured %q; want failed, found 1", p.Verdict, p.Measured)
	}
}

// TestMissingProbe: a kernel without the tracepoint a check rests on gets "not measurable
// here", never ✘.
func TestMissingProbe(t *testing.T) {
	h, events := readFixture(t, "fadvise-copy")
	h.MissingProbes = append(h.MissingProbes, "filemap:mm_filemap_delete_from_page_cache (page-cache evictions unavailable)")
	var kept []event.Event
	for _, e := range events {
		if k, ok := e.(*event.Kernel); ok && k.Name == kEvict {
			continue
		}
		kept = append(kept, e)
	}
	p := find(t, judgeAll(h, kept), "dontneed-clean")
	if p.Verdict != event.VerdictUnmeasurable || !strings.Contains(p.Measured, "no mm_filemap_delete_from_page_cache tracepoint") {
		t.Errorf("verdict %s, measured %q; want not measurable, naming the tracepoint", p.Verdict, p.Measured)
	}
}

// TestNotTraced: a kernel event the run did not trace (--kernel-events) proves nothing by its
// absence: not measurable, never ✘.
func TestNotTraced(t *testing.T) {
	h, events := readFixture(t, "fadvise-copy")
	h.KernelEvents = []string{kIssue, kFill}
	var kept []event.Event
	for _, e := range events {
		if k, ok := e.(*event.Kernel); ok && k.Name == kEvict {
			continue
		}
		kept = append(kept, e)
	}
	p := find(t, judgeAll(h, kept), "dontneed-clean")
	if p.Verdict != event.VerdictUnmeasurable || !strings.Contains(p.Measured, "did not trace mm_filemap_delete_from_page_cache") {
		t.Errorf("verdict %s, measured %q; want not measurable, the event not traced", p.Verdict, p.Measured)
	}
}

// TestLossesWeaken: events lost inside the variant turn what would be ✘ into "cannot tell".
func TestLossesWeaken(t *testing.T) {
	h, events := readFixture(t, "fadvise-copy")
	var kept []event.Event
	for _, e := range events {
		if k, ok := e.(*event.Kernel); ok && k.Name == kEvict {
			continue // as if they were among the lost
		}
		kept = append(kept, e)
	}
	if p := find(t, judgeAll(h, kept), "dontneed-clean"); p.Verdict != event.VerdictFailed {
		t.Fatalf("without the evictions and without losses: verdict %s (%s), want failed", p.Verdict, p.Measured)
	}
	kept = append(kept[:len(kept)/2:len(kept)/2], append([]event.Event{&event.Lost{Count: 3, KernelEvents: 3, CPU: 0}}, kept[len(kept)/2:]...)...)
	p := find(t, judgeAll(h, kept), "dontneed-clean")
	if p.Verdict != event.VerdictUnmeasurable || !strings.Contains(p.Measured, "3 events were lost") {
		t.Errorf("verdict %s, measured %q; want not measurable for the 3 lost events", p.Verdict, p.Measured)
	}
}

// marker is the prctl a workload run names its thread with.
func marker(ts uint64, name string) *event.Syscall {
	return &event.Syscall{Common: event.Common{Seq: ts, TS: ts, PID: 1, TID: 1}, Name: "prctl",
		Decoded: event.Fields{{Key: "option", Val: "PR_SET_NAME"}, {Key: "arg2", Val: MarkerPrefix + name}}}
}

// TestMarkers follows a run of two variants with markers: each variant's verdicts come right
// after its end marker, once; the header's --variant guess is dropped when markers are there.
func TestMarkers(t *testing.T) {
	w := &workloads.Workload{Name: "w", Variants: []workloads.Variant{
		{Name: "a", Predictions: []workloads.Prediction{{ID: "a1", Check: "write-calls", File: "f", N: 1}}},
		{Name: "b", Predictions: []workloads.Prediction{{ID: "b1", Check: "write-calls", File: "f", N: 2}}},
	}}
	write := func(ts uint64, variant string) *event.Syscall {
		return &event.Syscall{Common: event.Common{Seq: ts, TS: ts, PID: 1, TID: 1}, Name: "write", Ret: 1,
			Decoded: event.Fields{{Key: "fd", Val: "/tmp/iotrace-w-1/" + variant + "/f"}}}
	}
	h := &event.Header{Command: []string{"iotrace", "__workload", "w", "--variant", "a"}}
	stream := []event.Event{
		marker(1, "w"), write(2, "a"), // before the variant: not its work
		marker(3, "w/a"), write(4, "a"), marker(5, "w"),
		marker(6, "w/b"), write(7, "b"), write(8, "b"), marker(9, "w"),
	}
	ev := NewWith(h, []*workloads.Workload{w})
	var got []string
	for _, e := range stream {
		for _, p := range ev.Event(e) {
			got = append(got, p.ID+"@"+strconv.FormatUint(p.TS, 10)+":"+p.Verdict+" "+p.Measured)
		}
	}
	if ps := ev.Finish(); len(ps) > 0 {
		t.Errorf("Finish judged %d more", len(ps))
	}
	want := []string{"a1@5:held 1 write calls moved 1 bytes; 0 writev", "b1@9:held 2 write calls moved 2 bytes; 0 writev"}
	if !slices.Equal(got, want) {
		t.Errorf("verdicts %q, want %q", got, want)
	}
	if st := ev.Stat(); st == nil || *st != (event.PredictionStat{Held: 2}) {
		t.Errorf("stat %+v, want 2 held", st)
	}
}

// TestCutShort: a variant whose end is not in the trace (a run cut short) cannot be refuted by
// what is missing from it, and holds only by what it shows.
func TestCutShort(t *testing.T) {
	w := &workloads.Workload{Name: "w", Variants: []workloads.Variant{
		{Name: "a", Predictions: []workloads.Prediction{
			{ID: "some", Check: "write-calls", File: "f", N: 1},
			{ID: "more", Check: "write-calls", File: "f", N: 2},
		}},
	}}
	write := &event.Syscall{Common: event.Common{Seq: 2, TS: 2, PID: 1, TID: 1}, Name: "write", Ret: 1,
		Decoded: event.Fields{{Key: "fd", Val: "/tmp/iotrace-w-1/a/f"}}}
	ev := NewWith(&event.Header{}, []*workloads.Workload{w})
	for _, e := range []event.Event{marker(1, "w/a"), write} {
		if ps := ev.Event(e); len(ps) > 0 {
			t.Fatalf("judged before the end: %+v", ps)
		}
	}
	ps := ev.Finish()
	if len(ps) != 2 || ps[0].Verdict != event.VerdictHeld || ps[1].Verdict != event.VerdictUnmeasurable ||
		!strings.Contains(ps[1].Measured, "end is not in the trace") {
		t.Errorf("verdicts %+v %+v; want the one write shown held, the second not measurable", ps[0], ps[1])
	}
}

// TestRendererRejudges: a recording's own prediction records are dropped and judged again, the
// verdicts follow the variant's events, and the summary counts them.
func TestRendererRejudges(t *testing.T) {
	h, events := readFixture(t, "dup-shared-offset")
	stale := &event.Prediction{Workload: "dup", Variant: "shared-offset", ID: "stale", Verdict: event.VerdictFailed}
	var b bytes.Buffer
	r := Wrap(jsonl.New(&b))
	if err := r.Header(h); err != nil {
		t.Fatal(err)
	}
	for _, e := range append(events, stale) {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(&event.Summary{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var preds []*event.Prediction
	var sum *event.Summary
	for _, l := range lines {
		rec, err := event.ParseLine([]byte(l))
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		switch x := rec.(type) {
		case *event.Prediction:
			preds = append(preds, x)
		case *event.Summary:
			sum = x
		}
	}
	if len(preds) != 1 || preds[0].ID != "offset-moves" || preds[0].Verdict != event.VerdictHeld {
		t.Errorf("prediction records %+v; want offset-moves held alone", preds)
	}
	if sum == nil || sum.Predictions == nil || *sum.Predictions != (event.PredictionStat{Held: 1}) {
		t.Errorf("summary predictions %+v, want 1 held", sum)
	}
}

// TestCatalog: every variant predicts something, with IDs unique in it, through checks the
// evaluator knows.
func TestCatalog(t *testing.T) {
	for _, w := range catalog.All() {
		for _, v := range w.Variants {
			if len(v.Predictions) == 0 {
				t.Errorf("%s/%s predicts nothing", w.Name, v.Name)
			}
			ids := map[string]bool{}
			for _, p := range v.Predictions {
				if _, ok := checks[p.Check]; !ok {
					t.Errorf("%s/%s %s: unknown check %q (known: %s)", w.Name, v.Name, p.ID, p.Check, strings.Join(Checks(), ", "))
				}
				if p.ID == "" || ids[p.ID] || p.Says == "" {
					t.Errorf("%s/%s: prediction %+v needs a unique ID and words", w.Name, v.Name, p)
				}
				ids[p.ID] = true
			}
		}
	}
}

func TestHeaderVariant(t *testing.T) {
	for _, tt := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"/x/iotrace", "__workload", "fadvise", "--variant", "copy", "--size", "65536"}, "copy"},
		{[]string{"/x/iotrace", "__workload", "fadvise", "--size", "1", "--variant", "copy"}, "copy"},
		{[]string{"/x/iotrace", "__workload", "fadvise", "mmap", "--variant", "copy"}, ""}, // two workloads
		{[]string{"/x/iotrace", "__workload", "fadvise"}, ""},
		{[]string{"cat", "--variant", "x"}, ""},
	} {
		if got := headerVariant(&event.Header{Command: tt.cmd}); got != tt.want {
			t.Errorf("headerVariant(%q) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
}

// TestDontneedDirtyPhysics: where the device answers within the call (emulated disks), the
// first DONTNEED on freshly written pages drops them once its own writes have completed — the
// prediction holds, and the second DONTNEED, with nothing cached, holds evicting none; an
// eviction before the call's writes completed contradicts it.
func TestDontneedDirtyPhysics(t *testing.T) {
	for _, tc := range []struct {
		name       string
		evictAfter bool
		want       string
		measured   string
	}{
		{"evicted after its writes completed", true, event.VerdictHeld, "evicted 16 of 16 pages, after 1 of the 1 block write request it started had completed within the call"},
		{"evicted before its writes completed", false, event.VerdictFailed, "evicted 16 of 16 pages, after 0 of the 1 block write request it started had completed within the call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, events := readFixture(t, "fadvise-dontneed-dirty")
			var ds []*event.Syscall
			for _, e := range events {
				if s, ok := e.(*event.Syscall); ok && strings.HasPrefix(s.Name, "fadvise64") {
					if a, _ := s.Decoded.Str("advice"); a == "POSIX_FADV_DONTNEED" {
						ds = append(ds, s)
					}
				}
			}
			if len(ds) != 2 {
				t.Fatalf("want the variant's 2 DONTNEEDs, got %d", len(ds))
			}
			first, second := ds[0], ds[1]
			// the first call's write request completes inside it; the second's evictions become
			// the first's, before or after that completion
			var kept []event.Event
			var done *event.Kernel
			for _, e := range events {
				k, ok := e.(*event.Kernel)
				switch {
				case ok && k.CauseSeq == first.Seq && k.Name == "block_rq_complete":
					continue // replaced below
				case ok && k.CauseSeq == second.Seq && k.Name == kEvict:
					k.CauseSeq = first.Seq
					k.TS = first.TS + 10
					if tc.evictAfter {
						k.TS = first.TS + 30
					}
				}
				kept = append(kept, e)
				if s, ok := e.(*event.Syscall); ok && s == first {
					done = &event.Kernel{Common: event.Common{TS: first.TS + 20, PID: s.PID, TID: s.TID}, Name: "block_rq_complete",
						CauseSeq: first.Seq, Args: event.Fields{{Key: "rwbs", Val: "WS"}}}
					kept = append(kept, done)
				}
			}
			ps := judgeAll(h, kept)
			p := find(t, ps, "dirty-kept")
			if p.Verdict != tc.want || p.Measured != tc.measured {
				t.Errorf("dirty-kept: %s %q, want %s %q", p.Verdict, p.Measured, tc.want, tc.measured)
			}
			if c := find(t, ps, "clean-evicted"); c.Verdict != event.VerdictHeld || c.Measured != "evicted 0 of the 0 pages cached (of a 16-page file)" {
				t.Errorf("clean-evicted: %s %q, want held, evicting none of none", c.Verdict, c.Measured)
			}
		})
	}
}
