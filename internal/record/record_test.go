package record

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render/jsonl"
)

var (
	zero   = 0
	header = &event.Header{Schema: event.Schema, Version: "test", Kernel: "6.18.44", Arch: "x86_64",
		Command: []string{"cat", "f"}, StartNS: 1_000_000_000, Snaplen: 32}
	events = []event.Event{
		&event.Syscall{Common: event.Common{Seq: 1, TS: 1_000_010_000, PID: 10, TID: 10, Comm: "cat"},
			Name: "openat", Nr: 257, Dur: 4_000,
			Args: []event.Arg{{Name: "dfd", Value: 1<<64 - 100}, {Name: "filename", Value: 0x7ffd}, {Name: "flags", Value: 0}, {Name: "mode", Value: 0}},
			Ret:  3, Decoded: event.Fields{{Key: "filename", Val: "f"}, {Key: "flags", Val: "O_RDONLY"}}},
		&event.Syscall{Common: event.Common{Seq: 2, TS: 1_000_020_000, PID: 10, TID: 10, Comm: "cat"},
			Name: "read", Nr: 0, Dur: 2_000, Args: []event.Arg{{Name: "fd", Value: 3}}, Ret: -11, Errno: "EAGAIN",
			Notes: []string{"nothing to read yet"}},
		&event.Kernel{Common: event.Common{Seq: 3, TS: 1_000_030_000, PID: 10, TID: 10},
			Name: "mm_filemap_add_to_page_cache", Args: event.Fields{{Key: "i_ino", Val: int64(99)}, {Key: "index", Val: int64(0)}}, CauseSeq: 2},
		&event.Process{Common: event.Common{Seq: 4, TS: 1_000_040_000, PID: 10, TID: 10}, Name: "exit", ExitCode: &zero},
		&event.Lost{Common: event.Common{Seq: 5, TS: 1_000_050_000}, Count: 7, CPU: 1, Reason: "ring buffer full"},
	}
	sum = &event.Summary{Events: 5, Lost: 7, ExitCode: &zero, DurationNS: 50_000, Syscalls: []event.SyscallStat{
		{Name: "openat", Calls: 1, TotalNS: 4_000}, {Name: "read", Calls: 1, Errors: 1, TotalNS: 2_000}},
		Kernel: []event.KernelStat{{Name: "mm_filemap_add_to_page_cache", Events: 1, Pages: 1}}}
)

// recording renders the fixture with the jsonl renderer: what `iotrace trace -o` writes.
func recording(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	w := jsonl.New(&b)
	if err := w.Header(header); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := w.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(sum); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func readAll(t *testing.T, r *Reader) ([]event.Event, error) {
	t.Helper()
	var got []event.Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, e)
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(path, []byte(recording(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !reflect.DeepEqual(r.Header(), header) {
		t.Errorf("header = %#v, want %#v", r.Header(), header)
	}
	if r.Summary() != nil {
		t.Error("Summary before EOF is not nil")
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, events) {
		t.Errorf("events differ:\n got %#v\nwant %#v", got, events)
	}
	if !reflect.DeepEqual(r.Summary(), sum) {
		t.Errorf("summary = %#v, want %#v", r.Summary(), sum)
	}
	if len(r.Warnings()) != 0 {
		t.Errorf("warnings on a good file: %q", r.Warnings())
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
}

func TestOpenMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.jsonl")
	_, err := Open(path)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "open "+path+": no such file or directory" {
		t.Errorf("Open(missing) = %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Open(dir) = %v", err)
	}
}

// lines splits the fixture recording so cases can cut and corrupt it.
func lines(t *testing.T) []string {
	return strings.SplitAfter(strings.TrimSuffix(recording(t), "\n"), "\n")
}

func TestHeaderErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "x.jsonl: empty file, not an iotrace recording"},
		{"blank", "\n \n", "x.jsonl: empty file, not an iotrace recording"},
		{"not json", "hello\n", "x.jsonl:1: not an iotrace recording (the first line is not a JSON object)"},
		{"no header", `{"type":"syscall","seq":1}` + "\n", "x.jsonl:1: not an iotrace recording (no header line)"},
		{"no schema", `{"type":"header"}` + "\n", "x.jsonl:1: the header has no schema; not an iotrace recording"},
		{"newer schema", `{"type":"header","schema":"iotrace/v2","kernel":{}}` + "\n",
			`x.jsonl:1: recorded with schema "iotrace/v2"; this iotrace reads "iotrace/v1" — upgrade iotrace to read it`},
		{"older schema", `{"type":"header","schema":"iotrace/v0"}` + "\n",
			`x.jsonl:1: recorded with schema "iotrace/v0", which this iotrace no longer reads (it reads "iotrace/v1")`},
		{"foreign schema", `{"type":"header","schema":"strace/v9"}` + "\n",
			`x.jsonl:1: recorded with unknown schema "strace/v9"; this iotrace reads "iotrace/v1"`},
		{"bad header field", `{"type":"header","schema":"iotrace/v1","kernel":5}` + "\n",
			"x.jsonl:1: bad header: field \"kernel\" holds a JSON number where a string is expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in), "x.jsonl")
			if err == nil || err.Error() != tt.want {
				t.Errorf("got error %v\nwant        %s", err, tt.want)
			}
		})
	}
}

func TestBodyErrors(t *testing.T) {
	l := lines(t) // header, 5 events, summary
	join := func(parts ...string) string { return strings.Join(parts, "") }
	tests := []struct {
		name, in, want string
		events         int // returned before the error
	}{
		{"corrupt middle line", join(l[0], l[1], "{\"type\":\"syscall\",\"seq\n", l[3], l[6]), "x.jsonl:3: not a JSON object: unexpected end of JSON input", 1},
		{"not an object", join(l[0], "[1, 2]\n", l[6]), "x.jsonl:2: not a JSON object", 0},
		{"unknown type", join(l[0], l[1], `{"type":"bogus"}`+"\n", l[6]), `x.jsonl:3: bad record: unknown record type "bogus"`, 1},
		{"second header", join(l[0], l[1], l[0], l[6]), "x.jsonl:3: a second header line (two recordings in one file?)", 1},
		{"after summary", join(l[0], l[1], l[6], "\n\n", l[2]), "x.jsonl:5: more lines after the summary line (two recordings in one file?)", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), "x.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, r)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got error %v\nwant        %s", err, tt.want)
			}
			if len(got) != tt.events {
				t.Errorf("got %d events before the error, want %d", len(got), tt.events)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after an error = %v, want the same error", again)
			}
		})
	}
}

func TestCutShort(t *testing.T) {
	l := lines(t)
	join := func(parts ...string) string { return strings.Join(parts, "") }
	tests := []struct {
		name, in string
		events   int
		warning  string
	}{
		{"no summary", join(l[0], l[1], l[2], l[3]), 3,
			"x.jsonl: ends at line 4 without a summary (cut short?); showing the 3 events before it"},
		{"header only", l[0], 0,
			"x.jsonl: ends at line 1 without a summary (cut short?); showing no events before it"},
		{"last line cut, no newline", join(l[0], l[1], l[2][:20]), 1,
			"x.jsonl:3: the last line is cut short; showing the 1 event before it"},
		{"last line cut, then newline", join(l[0], l[1], l[2], l[3][:30], "\n\n"), 2,
			"x.jsonl:4: the last line is cut short; showing the 2 events before it"},
		{"summary cut", join(l[0], l[1], l[2], l[3], l[4], l[5], l[6][:len(l[6])-5]), 5,
			"x.jsonl:7: the last line is cut short; showing the 5 events before it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), "x.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.events || (tt.events > 0 && !reflect.DeepEqual(got, events[:tt.events])) {
				t.Errorf("events = %#v, want the first %d", got, tt.events)
			}
			if w := r.Warnings(); len(w) != 1 || w[0] != tt.warning {
				t.Errorf("warnings = %q\nwant       [%q]", w, tt.warning)
			}
			s := r.Summary()
			if s == nil || !s.Truncated || s.Events != uint64(tt.events) || s.ExitCode != nil {
				t.Fatalf("summary = %+v, want a truncated one counting %d events", s, tt.events)
			}
		})
	}
}

// The recomputed summary counts what the events show.
func TestCutShortSummary(t *testing.T) {
	l := lines(t)
	r, err := NewReader(strings.NewReader(strings.Join(l[:6], "")), "x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, r); err != nil {
		t.Fatal(err)
	}
	want := *sum
	want.ExitCode = nil
	want.Truncated = true
	if got := r.Summary(); !reflect.DeepEqual(got, &want) {
		t.Errorf("summary = %+v\nwant      %+v", got, &want)
	}
}

func TestLongLine(t *testing.T) {
	l := lines(t)
	big := strings.Replace(l[2], `"notes":["nothing to read yet"]`, `"notes":["`+strings.Repeat("x", 200<<10)+`"]`, 1)
	r, err := NewReader(strings.NewReader(l[0]+big+l[6]), "x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.(*event.Syscall).Notes[0]); n != 200<<10 {
		t.Errorf("note of %d bytes read back as %d", 200<<10, n)
	}

	huge := `{"type":"lost","reason":"` + strings.Repeat("y", MaxLine) + `"}` + "\n"
	r, err = NewReader(strings.NewReader(l[0]+huge), "x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil || err.Error() != "x.jsonl:2: line longer than 16 MiB" {
		t.Errorf("line over the limit: %v", err)
	}
}
