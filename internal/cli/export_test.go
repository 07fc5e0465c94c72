package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/render/perfetto/perfettotest"
	"github.com/iotrace/iotrace/internal/testutil"
)

func export(ios *iostreams.IOStreams) *cobra.Command { return NewCmdExport(ios, nil) }

func TestNewCmdExport(t *testing.T) {
	tests := []struct {
		args    []string
		want    ExportOptions
		wantErr string
	}{
		{args: []string{"r.jsonl", "-o", "out.json"}, want: ExportOptions{File: "r.jsonl", Format: "perfetto", Output: "out.json"}},
		{args: []string{"r.jsonl", "--format", "html", "--output", "-"}, want: ExportOptions{File: "r.jsonl", Format: "html", Output: "-"}},
		{args: []string{"r.jsonl"}, wantErr: "export needs -o OUT (- for stdout)"},
		{args: []string{"r.jsonl", "--format", "svg", "-o", "x"}, wantErr: `unknown --format "svg": use perfetto or html`},
		{args: []string{"-o", "x"}, wantErr: "export needs one recording: iotrace export FILE --format perfetto|html -o OUT"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got *ExportOptions
			_, _, err := execute(t, func(ios *iostreams.IOStreams) *cobra.Command {
				return NewCmdExport(ios, func(o *ExportOptions) error { got = o; return nil })
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
			got.IO = nil
			if *got != tt.want {
				t.Errorf("options = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

// exported runs `iotrace export` and returns the file it wrote.
func exported(t *testing.T, recording, format string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out."+format)
	if _, errOut, err := execute(t, export, recording, "--format", format, "-o", out); err != nil {
		t.Fatalf("export: %v\n%s", err, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// kinds counts a recording's events by kind, and the kernel events that name a cause.
func kinds(t *testing.T, recording string) (count map[string]int, caused int, threads map[uint32]bool) {
	t.Helper()
	b, err := os.ReadFile(recording)
	if err != nil {
		t.Fatal(err)
	}
	count, threads = map[string]int{}, map[uint32]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var e struct {
			Type  string `json:"type"`
			TID   uint32 `json:"tid"`
			Cause uint64 `json:"cause_seq"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		count[e.Type]++
		if e.Cause != 0 {
			caused++
		}
		if e.Type != "header" && e.Type != "summary" && e.Type != "lost" {
			threads[e.TID] = true
		}
	}
	return count, caused, threads
}

func TestExportPerfetto(t *testing.T) {
	for _, name := range []string{"fixture", "kernel"} {
		t.Run(name, func(t *testing.T) {
			recording := "testdata/" + name + ".jsonl"
			got := exported(t, recording, "perfetto")
			testutil.Golden(t, "export_"+name+".perfetto.golden", got)
			tr, err := perfettotest.Validate(got)
			if err != nil {
				t.Fatalf("the trace is malformed:\n%v", err)
			}
			count, caused, threads := kinds(t, recording)
			syscalls := 0
			for _, e := range tr.Events {
				var args struct{ Kind string }
				if e.Cat == "io" && json.Unmarshal(e.Args, &args) == nil && args.Kind == "syscall" {
					syscalls++
				}
			}
			if syscalls != count["syscall"] {
				t.Errorf("%d syscall slices, want one per syscall: %d", syscalls, count["syscall"])
			}
			if tr.Flows != caused {
				t.Errorf("%d flows, want one per kernel event with a cause: %d", tr.Flows, caused)
			}
			if tr.Threads != len(threads) {
				t.Errorf("%d named threads, want %d", tr.Threads, len(threads))
			}
		})
	}
}

func TestExportHTML(t *testing.T) {
	got := exported(t, "testdata/kernel.jsonl", "html")
	testutil.Golden(t, "export_kernel.html.golden", got)
	// Self-contained: nothing is fetched, whether by the markup or the script.
	for _, ref := range []string{"http://", "https://", "src=", "href=", "@import", "url(", "fetch(", "XMLHttpRequest"} {
		if bytes.Contains(got, []byte(ref)) {
			t.Errorf("the page refers outside itself: it contains %q", ref)
		}
	}
}

// The page, loaded offline in a real browser, draws one lane per thread and one bar per syscall.
func TestExportHTMLInBrowser(t *testing.T) {
	chromium := testutil.RequireChromium(t)
	recording := "testdata/kernel.jsonl"
	page := filepath.Join(t.TempDir(), "timeline.html")
	if err := os.WriteFile(page, exported(t, recording, "html"), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(testutil.Headless(t, chromium, "--dump-dom", "file://"+page))
	count, _, threads := kinds(t, recording)
	checks := []struct {
		what string
		re   string
		want int
	}{
		{"lanes", `<div class="lane" data-tid="\d+">`, len(threads)},
		{"syscall bars", `<div class="bar sc m-[a-z]+`, count["syscall"]},
		{"kernel events", `<div class="(kev|kspan)"`, count["kernel"]},
		{"fork/exec/exit marks", `<div class="pev"`, count["process"]},
		{"failed calls", `<div class="bar sc m-[a-z]+ failed`, 1},
		{"fadvise bars", `<div class="bar sc m-fadvise`, 1},
		{"summary rows", `<table id="summary">(<tr[^>]*>.*?</tr>){37}</table>`, 1}, // heading, 35 syscalls, total
		{"kernel event rows", `<table id="kernel">(<tr>.*?</tr>){6}</table>`, 1},   // heading, 5 names
	}
	for _, c := range checks {
		if n := len(regexp.MustCompile(c.re).FindAllString(dom, -1)); n != c.want {
			t.Errorf("%d %s in the rendered page, want %d", n, c.what, c.want)
		}
	}
	// The bar of the 3.4 ms epoll_wait is drawn wider than the 52 µs fadvise64's.
	width := func(call string) float64 {
		re := `<div class="bar sc m-[a-z]+" title="` + regexp.QuoteMeta(call) + `[^"]*"[^>]*style="[^"]*width: ([0-9.]+)px`
		m := regexp.MustCompile(re).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("no bar for %s in the rendered page", call)
		}
		w, _ := strconv.ParseFloat(m[1], 64)
		return w
	}
	if long, short := width("epoll_wait(6&lt;anon_inode:[eventpoll]&gt;, [], 1, 3)"), width("fadvise64("); long <= 10*short {
		t.Errorf("the 3.4 ms epoll_wait bar (%.1fpx) is not far wider than the 52 µs fadvise64's (%.1fpx)", long, short)
	}

	dir := os.Getenv("IOTRACE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "timeline.png")
	testutil.Headless(t, chromium, "--screenshot="+shot, "--window-size=1400,900", "file://"+page+"#sel=23")
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Fatalf("no screenshot at %s (%d bytes, %v)", shot, len(png), err)
	}
	t.Logf("screenshot: %s", shot)
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(filepath.Join(dir, "target"), link); err != nil {
		t.Fatal(err)
	}
	_, _, err := execute(t, export, "testdata/kernel.jsonl", "-o", link)
	if err == nil || !strings.Contains(err.Error(), "create "+link) {
		t.Errorf("export through a symlink: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "target")); err == nil {
		t.Error("the export followed the symlink")
	}
	_, _, err = execute(t, export, "testdata/missing.jsonl", "-o", filepath.Join(dir, "x.json"))
	if err == nil || err.Error() != "open testdata/missing.jsonl: no such file or directory" {
		t.Errorf("missing recording: %v", err)
	}
}

// A recording cut short still exports, with the warning, and the trace is marked.
func TestExportTruncated(t *testing.T) {
	full, err := os.ReadFile("testdata/kernel.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.jsonl")
	if err := os.WriteFile(cut, full[:len(full)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cut.json")
	_, errOut, err := execute(t, export, cut, "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(errOut, "iotrace: warning: ") != 1 {
		t.Errorf("want one warning, got:\n%s", errOut)
	}
	b, _ := os.ReadFile(out)
	if _, err := perfettotest.Validate(b); err != nil {
		t.Errorf("the trace of a cut recording is malformed:\n%v", err)
	}
	if !bytes.Contains(b, []byte(`"name":"recording cut short"`)) {
		t.Error("the trace does not say the recording was cut short")
	}
}

func TestExportTitle(t *testing.T) {
	tests := []struct {
		h    event.Header
		want string
	}{
		{event.Header{Command: []string{"/usr/bin/iotrace", workloadCmd, "aio", "--variant", "uring"}}, "iotrace run aio --variant uring"},
		{event.Header{Command: []string{"cat", "/etc/hostname"}}, "iotrace trace -- cat /etc/hostname"},
		{event.Header{AttachPID: 42}, "iotrace trace -p 42"},
		{event.Header{}, "iotrace show run.jsonl"},
	}
	for _, tt := range tests {
		if got := exportTitle("/tmp/run.jsonl", &tt.h); got != tt.want {
			t.Errorf("exportTitle(%+v) = %q, want %q", tt.h, got, tt.want)
		}
	}
}

// An export never destroys what it reads, and one that fails leaves an older file of the
// output's name as it was.
func TestExportKeepsFiles(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.jsonl")
	orig, err := os.ReadFile("testdata/fixture.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rec, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(rec, filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("r.jsonl", filepath.Join(dir, "soft")); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{rec, filepath.Join(dir, "hard"), filepath.Join(dir, "soft"), dir + "/./r.jsonl"} {
		_, _, err := execute(t, export, rec, "--format", "perfetto", "-o", out)
		if err == nil || !strings.Contains(err.Error(), "is the recording being exported") {
			t.Errorf("export %s -o %s: error %v, want a refusal", rec, out, err)
		}
	}
	if b, _ := os.ReadFile(rec); !bytes.Equal(b, orig) {
		t.Errorf("the recording changed while exports onto it were refused")
	}

	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, append(append([]byte{}, orig...), "{not json\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, []byte("older export\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := execute(t, export, bad, "--format", "perfetto", "-o", old); err == nil {
		t.Fatal("an export of a corrupt recording succeeded")
	}
	if b, _ := os.ReadFile(old); string(b) != "older export\n" {
		t.Errorf("a failed export replaced %s: %.40q", old, b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 5 {
		t.Errorf("files left in %s: %v, want the five the test made", dir, ents)
	}
}
