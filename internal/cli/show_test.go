package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/filter"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/testutil"
)

// execute runs one command the way main does, returning what it printed.
func execute(t *testing.T, build func(*iostreams.IOStreams) *cobra.Command, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	cmd := build(ios)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestNewCmdShow(t *testing.T) {
	tests := []struct {
		args    []string
		want    ShowOptions
		wantErr string
	}{
		{args: []string{"r.jsonl"}, want: ShowOptions{File: "r.jsonl", Filter: filter.Options{KernelEvents: "all"}}},
		{args: []string{"r.jsonl", "--tid", "1,2", "--tid", "3", "--pid", "9", "-e", "%epoll", "-e", "read",
			"--since", "1.5s", "--until", "2s", "--failed", "--kernel-events", "none", "--summary-only"},
			want: ShowOptions{File: "r.jsonl", SummaryOnly: true, Filter: filter.Options{
				TIDs: []string{"1", "2", "3"}, PIDs: []string{"9"}, Exprs: []string{"%epoll", "read"},
				Since: "1.5s", Until: "2s", Failed: true, KernelEvents: "none"}}},
		{args: []string{}, wantErr: "show needs one recording: iotrace show FILE"},
		{args: []string{"a", "b"}, wantErr: "show needs one recording: iotrace show FILE"},
		{args: []string{"r.jsonl", "--summary", "--summary-only"}, wantErr: "give --summary or --summary-only, not both"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got *ShowOptions
			_, _, err := execute(t, func(ios *iostreams.IOStreams) *cobra.Command {
				return NewCmdShow(ios, func(o *ShowOptions) error { got = o; return nil })
			}, tt.args...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO, got.Out = nil, OutputOptions{}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options = %+v\nwant      %+v", *got, tt.want)
			}
		})
	}
}

func show(ios *iostreams.IOStreams) *cobra.Command { return NewCmdShow(ios, nil) }

// The recording testdata/kernel.jsonl is testdata/fixture.jsonl (a real trace of fixture.c)
// with hand-written kernel events; see testdata/README.md.
func TestShowGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"all", nil},
		{"tid", []string{"--tid", "6048"}},
		{"pid_kworker", []string{"--pid", "88"}},
		{"expr", []string{"-e", "%fadvise,%mmap"}},
		{"window", []string{"--since", "1.64ms", "--until", "0.00171"}},
		{"failed", []string{"--failed"}},
		{"kernel_none", []string{"--kernel-events", "none", "-e", "trace=%epoll"}},
		{"kernel_names", []string{"--kernel-events", "block_rq_*,sched", "--tid", "5995"}},
		{"summary", []string{"-e", "%epoll", "--summary"}},
		{"summary_only", []string{"--failed", "--summary-only"}},
		{"jsonl", []string{"--tid", "6048", "--format", "jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := execute(t, show, append([]string{"testdata/kernel.jsonl", "--color", "never"}, tt.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			testutil.Golden(t, "show_"+tt.name+".golden", []byte(out))
			if strings.Contains(errOut, "warning") {
				t.Errorf("warnings on a complete recording:\n%s", errOut)
			}
		})
	}
}

func TestShowErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"testdata/kernel.jsonl", "--tid", "x"}, `--tid "x": want a positive thread or process id`},
		{[]string{"testdata/kernel.jsonl", "-e", "trace=wrtiev"}, `unknown syscall "wrtiev" in -e (did you mean "writev"?)`},
		{[]string{"testdata/kernel.jsonl", "--format", "xml"}, `unknown --format "xml": use text or jsonl`},
		{[]string{"testdata/missing.jsonl"}, "open testdata/missing.jsonl: no such file or directory"},
	}
	for _, tt := range tests {
		_, _, err := execute(t, show, tt.args...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("show %v: error = %v\nwant %s", tt.args, err, tt.want)
		}
	}
}

// A recording cut mid-line (Ctrl-C while writing) shows every event before the cut, warns once,
// and succeeds.
func TestShowTruncated(t *testing.T) {
	full, err := os.ReadFile("testdata/kernel.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.Index(full, []byte(`"name":"epoll_create1"`)) // inside the line of epoll_create1
	path := filepath.Join(t.TempDir(), "cut.jsonl")
	if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := execute(t, show, path, "--summary")
	if err != nil {
		t.Fatalf("show of a cut recording failed: %v", err)
	}
	testutil.Golden(t, "show_truncated.golden", []byte(out))
	var warnings []string
	for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if strings.HasPrefix(l, "iotrace: warning: ") {
			warnings = append(warnings, l)
		}
	}
	want := "iotrace: warning: " + path + ":54: the last line is cut short; showing the 52 events before it"
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings = %q\nwant [%q]", warnings, want)
	}
	if !strings.Contains(out, "pipe2(") || strings.Contains(out, "epoll_create1(") {
		t.Errorf("the timeline does not stop at the cut:\n%s", out)
	}
}
