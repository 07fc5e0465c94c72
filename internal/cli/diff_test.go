package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/testutil"
)

func diffCmd(ios *iostreams.IOStreams) *cobra.Command { return NewCmdDiff(ios, nil) }

func TestNewCmdDiff(t *testing.T) {
	var got *DiffOptions
	_, _, err := execute(t, func(ios *iostreams.IOStreams) *cobra.Command {
		return NewCmdDiff(ios, func(o *DiffOptions) error { got = o; return nil })
	}, "a.jsonl", "b.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if got.A != "a.jsonl" || got.B != "b.jsonl" {
		t.Errorf("options = %+v", got)
	}
	for _, args := range [][]string{{}, {"a"}, {"a", "b", "c"}} {
		_, _, err := execute(t, diffCmd, args...)
		if err == nil || err.Error() != "diff needs two recordings: iotrace diff A B" {
			t.Errorf("diff %v: %v", args, err)
		}
	}
}

// The fadvise workload with the WILLNEED hint (kernel.jsonl) and without it (nohint.jsonl): the
// hint's call disappears, readv waits for the disk, and the page cache fills twice as many pages.
func TestDiffGolden(t *testing.T) {
	out, errOut, err := execute(t, diffCmd, "testdata/kernel.jsonl", "testdata/nohint.jsonl")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	testutil.Golden(t, "diff_hint.golden", []byte(out))
	for _, want := range []string{
		"fadvise64                 1         0        -1",
		"readv                     1         1         0         0         0         0     0.000003     0.000061    +0.000057",
		"mm_filemap_add_to_page_cache            4            8           +4",
		"  bytes                             16384        32768       +16384",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the diff lacks %q", want)
		}
	}
}

func TestDiffSame(t *testing.T) {
	out, _, err := execute(t, diffCmd, "testdata/kernel.jsonl", "testdata/kernel.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var deltas []string
	for _, line := range strings.Split(out, "\n")[3:] {
		f := strings.Fields(line)
		if len(f) < 4 || f[0] == "syscall" || f[0] == "kernel" {
			continue
		}
		deltas = append(deltas, f[len(f)-1])
	}
	for _, d := range deltas {
		if d != "0" && d != "0.000000" {
			t.Fatalf("a recording differs from itself:\n%s", out)
		}
	}
	if len(deltas) < 40 {
		t.Fatalf("only %d rows compared:\n%s", len(deltas), out)
	}
}

func TestDiffErrors(t *testing.T) {
	_, _, err := execute(t, diffCmd, "testdata/kernel.jsonl", "testdata/missing.jsonl")
	if err == nil || err.Error() != "open testdata/missing.jsonl: no such file or directory" {
		t.Errorf("missing B: %v", err)
	}
	_, _, err = execute(t, diffCmd, "testdata/fixture.c", "testdata/kernel.jsonl")
	if want := "testdata/fixture.c:1: not an iotrace recording (the first line is not a JSON object)"; err == nil || err.Error() != want {
		t.Errorf("not a recording: %v\nwant %s", err, want)
	}
}
