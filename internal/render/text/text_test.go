package text

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/record"
	"github.com/iotrace/iotrace/internal/render"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// play plays a recording through a Renderer, as `iotrace show` does.
var _ render.Renderer = (*Renderer)(nil)

func play(t *testing.T, path string, opts Options) (timeline, info string) {
	t.Helper()
	r, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out, errOut bytes.Buffer
	opts.Info = &errOut
	tr := New(&out, opts)
	if err := tr.Header(r.Header()); err != nil {
		t.Fatal(err)
	}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Close(r.Summary()); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		info bool // compare the header lines too (only colour changes them)
	}{
		{"basic", Options{}, true},
		{"basic_color", Options{Color: true}, true},
		{"basic_summary", Options{Summary: true}, false},
		{"basic_tid_always", Options{TID: TIDAlways}, false},
		{"basic_tid_never", Options{TID: TIDNever}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeline, info := play(t, "testdata/basic.jsonl", tt.opts)
			golden(t, tt.name, timeline)
			if tt.info {
				golden(t, tt.name+"_info", info)
			}
		})
	}
}

func TestTIDColumn(t *testing.T) {
	sc := func(ts uint64, tid uint32) event.Event {
		return &event.Syscall{Common: event.Common{TS: ts, PID: 1, TID: tid}, Name: "close", Args: []event.Arg{{Name: "fd", Value: 3}}}
	}
	tests := []struct {
		name   string
		mode   TIDColumn
		events []event.Event
		want   string
	}{
		{"one task: never shown", TIDAuto, []event.Event{sc(1000, 7), sc(2000, 7)}, `
   0.000001 (+0.000001) close(3) = 0 <0.000000>
   0.000002 (+0.000001) close(3) = 0 <0.000000>`},
		{"second task turns it on", TIDAuto, []event.Event{sc(1000, 7), sc(2000, 8), sc(3000, 7)}, `
   0.000001 (+0.000001) close(3) = 0 <0.000000>
   0.000002 (+0.000001) [8]     close(3) = 0 <0.000000>
   0.000003 (+0.000001) [7]     close(3) = 0 <0.000000>`},
		{"from the fork line on", TIDAuto, []event.Event{
			&event.Process{Common: event.Common{TS: 1000, TID: 7}, Name: "fork", ChildPID: 9, ChildTID: 9}, sc(2000, 9)}, `
   0.000001 (+0.000001) [7]     +++ fork → child 9 +++
   0.000002 (+0.000001) [9]     close(3) = 0 <0.000000>`},
		{"always", TIDAlways, []event.Event{sc(1000, 1234567)}, `
   0.000001 (+0.000001) [1234567] close(3) = 0 <0.000000>`},
		{"never", TIDNever, []event.Event{sc(1000, 7), sc(2000, 8)}, `
   0.000001 (+0.000001) close(3) = 0 <0.000000>
   0.000002 (+0.000001) close(3) = 0 <0.000000>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			r := New(&b, Options{TID: tt.mode})
			if err := r.Header(&event.Header{}); err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.events {
				if err := r.Event(e); err != nil {
					t.Fatal(err)
				}
			}
			if want := strings.TrimPrefix(tt.want, "\n") + "\n"; b.String() != want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), want)
			}
		})
	}
}

// strace's time columns: -r the delta alone, -t/-tt the time of day, -ttt Unix time.
func TestTimeColumn(t *testing.T) {
	sc := func(ts uint64) event.Event {
		return &event.Syscall{Common: event.Common{TS: ts, PID: 1, TID: 7}, Name: "close", Args: []event.Arg{{Name: "fd", Value: 3}}}
	}
	// 1796279990.123456789 s of Unix time at ts 1000 ns
	const offset = 1796279990_123456789 - 1000
	wall := time.Unix(0, 1796279990_123456789)
	tests := []struct {
		mode TimeColumn
		want string
	}{
		{TimeSinceStart, "   0.000001 (+0.000001) close(3) = 0 <0.000000>\n   0.000251 (+0.000250) close(3) = 0 <0.000000>\n"},
		{TimeDelta, "   0.000001 close(3) = 0 <0.000000>\n   0.000250 close(3) = 0 <0.000000>\n"},
		{TimeOfDay, wall.Format("15:04:05") + " close(3) = 0 <0.000000>\n" + wall.Format("15:04:05") + " close(3) = 0 <0.000000>\n"},
		{TimeOfDayUS, wall.Format("15:04:05.000000") + " close(3) = 0 <0.000000>\n" + wall.Add(250*time.Microsecond).Format("15:04:05.000000") + " close(3) = 0 <0.000000>\n"},
		{TimeEpoch, "1796279990.123456 close(3) = 0 <0.000000>\n1796279990.123706 close(3) = 0 <0.000000>\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		r := New(&b, Options{TID: TIDNever, Time: tt.mode})
		if err := r.Header(&event.Header{WallClockOffsetNS: offset}); err != nil {
			t.Fatal(err)
		}
		for _, e := range []event.Event{sc(1000), sc(251000)} {
			if err := r.Event(e); err != nil {
				t.Fatal(err)
			}
		}
		if b.String() != tt.want {
			t.Errorf("time column %d: got\n%s\nwant\n%s", tt.mode, b.String(), tt.want)
		}
	}
}

// The exec line follows the execve that made it, so the times go forward; any other event
// after it leaves it where it came.
func TestExecAfterExecve(t *testing.T) {
	exec := &event.Process{Common: event.Common{TS: 5000, PID: 1, TID: 1}, Name: "exec", Filename: "/bin/true"}
	execve := &event.Syscall{Common: event.Common{TS: 1000, PID: 1, TID: 1}, Name: "execve", Dur: 4500}
	closeCall := &event.Syscall{Common: event.Common{TS: 6000, PID: 1, TID: 1}, Name: "close", Args: []event.Arg{{Name: "fd", Value: 3}}}
	for _, tt := range []struct {
		events []event.Event
		want   []string
	}{
		{[]event.Event{exec, execve, closeCall}, []string{"execve(", "+++ exec /bin/true +++", "close(3)"}},
		{[]event.Event{exec, closeCall}, []string{"+++ exec /bin/true +++", "close(3)"}},
		{[]event.Event{exec}, []string{"+++ exec /bin/true +++"}},
	} {
		var b strings.Builder
		r := New(&b, Options{TID: TIDNever})
		if err := r.Header(&event.Header{}); err != nil {
			t.Fatal(err)
		}
		for _, e := range tt.events {
			if err := r.Event(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(nil); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != len(tt.want) {
			t.Fatalf("got\n%s\nwant lines with %q", b.String(), tt.want)
		}
		for i, w := range tt.want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d is %q, want %q in it\n%s", i, lines[i], w, b.String())
			}
		}
		if strings.Contains(b.String(), "(-") {
			t.Errorf("a negative delta:\n%s", b.String())
		}
	}
}

func TestAppendSecs(t *testing.T) {
	tests := []struct {
		ns    int64
		width int
		sign  bool
		want  string
	}{
		{0, 0, false, "0.000000"},
		{123_000, 11, false, "   0.000123"},
		{1_999_999, 0, false, "0.001999"}, // truncated like strace, not rounded
		{12_345_678_901_234, 11, false, "12345.678901"},
		{21_000, 0, true, "+0.000021"},
		{-3_000, 0, true, "-0.000003"},
		{-2_500_000_000, 11, false, "  -2.500000"},
	}
	for _, tt := range tests {
		if got := string(appendSecs(nil, tt.ns, tt.width, tt.sign)); got != tt.want {
			t.Errorf("appendSecs(%d, %d, %v) = %q, want %q", tt.ns, tt.width, tt.sign, got, tt.want)
		}
	}
}

func TestAppendValue(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{"word", "word"},
		{"/tmp/x", "/tmp/x"},
		{"two words", `"two words"`},
		{"", `""`},
		{"a=b", `"a=b"`},
		{"nl\n", `"nl\n"`},
		{int64(-5), "-5"},
		{uint64(1 << 63), "9223372036854775808"},
		{true, "true"},
		{event.Fields{{Key: "k", Val: "v"}, {Key: "n", Val: int64(1)}}, "{k=v, n=1}"},
		{[]any{int64(1), "x y"}, `[1, "x y"]`},
		{nil, "null"},
	}
	for _, tt := range tests {
		if got := string(appendValue(nil, tt.v)); got != tt.want {
			t.Errorf("appendValue(%#v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestHeaderLine(t *testing.T) {
	tests := []struct {
		h    event.Header
		want string
	}{
		{event.Header{Kernel: "6.1.0", Arch: "arm64", Command: []string{"sh", "-c", "echo 'hi' > x"}},
			`iotrace: tracing sh -c 'echo '\''hi'\'' > x' (kernel 6.1.0, arm64)`},
		{event.Header{Kernel: "5.15.0", Arch: "x86_64", AttachPID: 99, Filter: "trace=writev,readv"},
			"iotrace: tracing pid 99 (kernel 5.15.0, x86_64); filter trace=writev,readv"},
		{event.Header{Kernel: "5.15.0", Arch: "x86_64", MissingProbes: []string{"a", "b"}},
			"iotrace: tracing a recording (kernel 5.15.0, x86_64); missing probes: a, b"},
	}
	for _, tt := range tests {
		if got := headerLine(&tt.h); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteErrors(t *testing.T) {
	r := New(failWriter{}, Options{Summary: true, Info: failWriter{}})
	if err := r.Header(&event.Header{}); err == nil {
		t.Error("Header on a broken writer succeeded")
	}
	if err := r.Event(&event.Lost{Count: 1}); err == nil {
		t.Error("Event on a broken writer succeeded")
	}
	if err := r.Close(&event.Summary{}); err == nil {
		t.Error("Close on a broken writer succeeded")
	}
}

// TestPredictions: each verdict prints on its own line under one line naming its variant, a ✘
// in red and said to be this machine's, and the count ends the run even without --summary.
func TestPredictions(t *testing.T) {
	p := func(variant, id, verdict, measured string) *event.Prediction {
		return &event.Prediction{Common: event.Common{TS: 5}, Workload: "fadvise", Variant: variant, ID: id,
			Says: "says " + id, Verdict: verdict, Measured: measured}
	}
	var b bytes.Buffer
	r := New(&b, Options{})
	for _, e := range []event.Event{
		p("copy", "a", event.VerdictHeld, "evicted 16 of 16 pages"),
		p("copy", "b", event.VerdictFailed, "evicted 3 of 16 pages"),
		p("willneed", "c", event.VerdictUnmeasurable, "not measurable here: this kernel has no x tracepoint"),
	} {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(&event.Summary{Predictions: &event.PredictionStat{Held: 1, Failed: 1, Unmeasurable: 1}}); err != nil {
		t.Fatal(err)
	}
	want := `  predictions of fadvise/copy, checked against this trace:
  ✔ says a — evicted 16 of 16 pages
  ✘ says b — evicted 3 of 16 pages (did not hold on this machine)
  predictions of fadvise/willneed, checked against this trace:
  – says c — not measurable here: this kernel has no x tracepoint

predictions: 1 held ✔, 1 did not hold on this machine ✘, 1 not measurable here
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
