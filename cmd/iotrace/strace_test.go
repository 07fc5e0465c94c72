package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
	"github.com/iotrace/iotrace/internal/testutil"
)

// diffFilter is what the differential test compares: the mechanism families this project is
// about and the plain I/O calls around them.
const diffFilter = "trace=%vectored,%epoll,%mmap,%fadvise,%aio,%dup,read,write,openat,close,pread64"

// iotrace and strace see the same syscalls of the same commands: the same names, each as many
// times, and openat with the same paths. strace gets the families as the list of names iotrace
// expands them to; it rejects a name it does not know, so the run also checks that iotrace's
// tracepoint names are strace's names for these syscalls.
func TestAgainstStrace(t *testing.T) {
	testutil.RequireBPF(t)
	strace := requireStrace(t)
	t.Parallel()
	filter, err := syscalls.ParseFilter(syscalls.Native(), []string{diffFilter})
	if err != nil {
		t.Fatal(err)
	}
	straceExpr := "trace=" + strings.Join(filter.Names(), ",")

	dir := t.TempDir()
	input := filepath.Join(dir, "input.txt")
	if err := os.WriteFile(input, []byte(strings.Repeat("0123456789abcdef\n", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(dir, "F")
	tests := []struct {
		name   string
		argv   []string
		helper bool
	}{
		{"cat", []string{"cat", input}, false},
		{"dd", []string{"dd", "if=" + input, "of=/dev/null", "bs=512", "count=4"}, false},
		{"sh", []string{"sh", "-c", "echo a > " + scratch + "; cat " + scratch + " > /dev/null"}, false},
		{"threads", []string{helperBin, "threads", "4"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.helper {
				requireHelper(t)
			}
			t.Parallel()
			tmp := t.TempDir()
			// Both runs write the command's stdout to /dev/null, so it behaves the same in both.
			devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer devnull.Close()

			straceOut := filepath.Join(tmp, "strace.out")
			cmd := exec.Command(strace, append([]string{"-f", "-qq", "-o", straceOut, "-e", straceExpr, "--"}, tt.argv...)...)
			cmd.Stdout = devnull
			if res := run(t, cmd); res.code != 0 {
				t.Fatalf("strace: exit status %d; stderr:\n%s", res.code, res.stderr)
			}
			f, err := os.Open(straceOut)
			if err != nil {
				t.Fatal(err)
			}
			calls, err := parseStrace(f)
			f.Close()
			if err != nil {
				t.Fatalf("parse %s: %v", straceOut, err)
			}

			recPath := filepath.Join(tmp, "rec.jsonl")
			cmd = iotrace(t, append([]string{"trace", "--format", "jsonl", "-o", recPath, "-e", diffFilter, "--"}, tt.argv...)...)
			cmd.Stdout = devnull
			if res := run(t, cmd); res.code != 0 {
				t.Fatalf("iotrace: exit status %d; stderr:\n%s", res.code, res.stderr)
			}
			rec := readRecordingFile(t, recPath)

			want, wantPaths := map[string]int{}, map[string]int{}
			for _, c := range calls {
				want[c.name]++
				if c.name == "openat" {
					wantPaths[c.path()]++
				}
			}
			got, gotPaths := map[string]int{}, map[string]int{}
			for _, s := range rec.syscalls(func(*event.Syscall) bool { return true }) {
				got[s.Name]++
				if s.Name == "openat" {
					p, _ := s.Decoded.Str("filename")
					gotPaths[p]++
				}
			}
			if d := diffCounts("syscall", want, got); d != "" {
				t.Errorf("%q: syscall counts differ (strace -f vs iotrace):\n%s", tt.argv, d)
			}
			if d := diffCounts("openat path", wantPaths, gotPaths); d != "" {
				t.Errorf("%q: openat paths differ (strace -f vs iotrace):\n%s", tt.argv, d)
			}
		})
	}
}

// diffCounts returns a table of the keys whose counts differ, or "".
func diffCounts(what string, strace, iotrace map[string]int) string {
	keys := slices.Sorted(maps.Keys(strace))
	for k := range iotrace {
		if _, ok := strace[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "  %-40s %7s %7s\n", what, "strace", "iotrace")
	differ := false
	for _, k := range keys {
		if strace[k] == iotrace[k] {
			continue
		}
		differ = true
		fmt.Fprintf(&b, "  %-40q %7d %7d\n", k, strace[k], iotrace[k])
	}
	if !differ {
		return ""
	}
	return b.String()
}

// straceCall is one system call from strace -f output.
type straceCall struct {
	pid  int
	name string
	args string // the arguments strace printed before the call returned or was interrupted
}

// path returns the first string argument, as strace escaped it (openat's filename).
func (c straceCall) path() string {
	m := straceString.FindStringSubmatch(c.args)
	if m == nil {
		return ""
	}
	return m[1]
}

var straceString = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

var (
	// "1234  name(args" and the rest of the line: "= 0", "<unfinished ...>"
	straceLine = regexp.MustCompile(`^(\d+)\s+([a-z_0-9]+)\((.*)$`)
	// "1234  <... name resumed>...": the end of an unfinished call, already counted
	straceResumed = regexp.MustCompile(`^(\d+)\s+<\.\.\. ([a-z_0-9]+) resumed>`)
	// "1234  +++ exited with 0 +++", "1234  --- SIGCHLD {...} ---"
	straceNote = regexp.MustCompile(`^(\d+)\s+(\+\+\+|---) `)
)

// parseStrace reads the output of strace -f -o: one call per line, where a call another
// thread interrupted is split into "<unfinished ...>" and "<... name resumed>" lines that count
// as one call.
func parseStrace(r io.Reader) ([]straceCall, error) {
	var calls []straceCall
	unfinished := map[int]string{} // pid → name of its unfinished call
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := straceResumed.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[1])
			if unfinished[pid] != m[2] {
				return nil, fmt.Errorf("line %d: %s resumed, but pid %d has no unfinished %s", n, m[2], pid, m[2])
			}
			delete(unfinished, pid)
			continue
		}
		if straceNote.MatchString(line) {
			continue
		}
		m := straceLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: not a strace -f line: %q", n, line)
		}
		pid, _ := strconv.Atoi(m[1])
		args := m[3]
		if a, ok := strings.CutSuffix(args, " <unfinished ...>"); ok {
			args = a
			unfinished[pid] = m[2]
		}
		calls = append(calls, straceCall{pid: pid, name: m[2], args: args})
	}
	return calls, sc.Err()
}

func TestParseStrace(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []straceCall
		wantErr string
	}{
		{
			name: "complete calls",
			in: `8010  openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3
8010  read(3, "\177ELF\2\1"..., 832) = 832
8010  exit_group(0)                     = ?
8010  +++ exited with 0 +++
`,
			want: []straceCall{
				{8010, "openat", `AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3`},
				{8010, "read", `3, "\177ELF\2\1"..., 832) = 832`},
				{8010, "exit_group", `0)                     = ?`},
			},
		},
		{
			name: "unfinished and resumed count once",
			in: `6013  openat(AT_FDCWD, "/dev/null", O_WRONLY <unfinished ...>
6011  write(5, "thread-0", 8) = 8
6013  <... openat resumed>)             = 4
6010  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=8011} ---
`,
			want: []straceCall{
				{6013, "openat", `AT_FDCWD, "/dev/null", O_WRONLY`},
				{6011, "write", `5, "thread-0", 8) = 8`},
			},
		},
		{
			name:    "resumed without its start",
			in:      "6013  <... close resumed>) = 0\n",
			wantErr: "line 1: close resumed, but pid 6013 has no unfinished close",
		},
		{
			name:    "not strace -f output",
			in:      "openat(AT_FDCWD, \"x\", O_RDONLY) = 3\n",
			wantErr: "line 1: not a strace -f line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStrace(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestStraceCallPath(t *testing.T) {
	tests := []struct{ args, want string }{
		{`AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3`, "/etc/ld.so.cache"},
		{`AT_FDCWD, "a\"b\\c", O_RDONLY) = -1 ENOENT (No such file or directory)`, `a\"b\\c`},
		{`3, 0, 0, POSIX_FADV_SEQUENTIAL) = 0`, ""},
	}
	for _, tt := range tests {
		if got := (straceCall{args: tt.args}).path(); got != tt.want {
			t.Errorf("path of %q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

var (
	fdTruthRe   = regexp.MustCompile(`(?m)^truth fd=(\d+) ino=(\d+)$`)
	textStampRe = regexp.MustCompile(`^\s*\d+\.\d+ \([+-]\d+\.\d+\) `)
	textDurRe   = regexp.MustCompile(` <\d+\.\d+>$`)
	inodeRe     = regexp.MustCompile(`:\[\d+\]`)
)

// Pipes and sockets are named as strace -y names them, by the inode behind each descriptor:
// [3<pipe:[N]>, 4<pipe:[N]>], socket:[N], and a file made with creat by its path. The inodes
// are checked against fstat in the same run, and the lines against strace's own (inodes
// normalised: the two runs make different pipes).
func TestFDLabelsLikeStrace(t *testing.T) {
	testutil.RequireBPF(t)
	requireHelper(t)
	t.Parallel()
	file := filepath.Join(t.TempDir(), "made")
	// arm64 has no creat: its C library makes it an openat
	made, filter := "creat(", "trace=pipe2,socketpair,socket,creat,write"
	if runtime.GOARCH == "arm64" {
		made, filter = "openat(", "trace=pipe2,socketpair,socket,openat,write"
	}
	res := run(t, iotrace(t, "trace", "--kernel-events", "none", "-e", filter, "--", helperBin, "fdlabels", file))
	if res.code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", res.code, res.stderr)
	}
	truth := map[string]string{}
	for _, m := range fdTruthRe.FindAllStringSubmatch(string(res.stderr), -1) {
		truth[m[1]] = m[2]
	}
	if len(truth) != 6 {
		t.Fatalf("the helper reported %d descriptors, want 6; stderr:\n%s", len(truth), res.stderr)
	}
	var lines []string
	for _, l := range strings.Split(string(res.stdout), "\n") {
		l = textDurRe.ReplaceAllString(textStampRe.ReplaceAllString(l, ""), "")
		for _, name := range []string{"pipe2(", "socketpair(", "socket(", made, "write("} {
			if strings.HasPrefix(l, name) && !strings.HasPrefix(l, "write(2<") && (name != "openat(" || strings.Contains(l, file)) { // not the truth lines, not the loader's opens
				lines = append(lines, l)
			}
		}
	}
	label := func(fd string) string {
		switch fd {
		case "3", "4":
			return fd + "<pipe:[" + truth[fd] + "]>"
		case "5", "6", "7":
			return fd + "<socket:[" + truth[fd] + "]>"
		}
		return fd + "<" + file + ">"
	}
	want := []string{
		"pipe2([" + label("3") + ", " + label("4") + "], O_CLOEXEC) = 0",
		"socketpair(AF_UNIX, SOCK_STREAM, 0, [" + label("5") + ", " + label("6") + "]) = 0",
		"socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = " + label("7"),
		`creat("` + file + `", 0644) = ` + label("8"),
	}
	if runtime.GOARCH == "arm64" {
		cwd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		want[3] = `openat(AT_FDCWD<` + cwd + `>, "` + file + `", O_WRONLY|O_CREAT|O_TRUNC, 0644) = ` + label("8")
	}
	for _, fd := range []string{"3", "4", "5", "6", "7", "8"} {
		switch fd {
		case "3":
			want = append(want, "write("+label(fd)+`, "x", 1) = -1 EBADF (Bad file descriptor)`)
		case "7":
			want = append(want, "write("+label(fd)+`, "x", 1) = -1 EDESTADDRREQ (Destination address required)`)
		default:
			want = append(want, "write("+label(fd)+`, "x", 1) = 1`)
		}
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("the timeline's lines:\n%s\nwant (inodes from fstat):\n%s\nwhole output:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"), res.stdout)
	}

	strace := requireStrace(t) // the lines above hold (inodes checked against fstat) either way
	out := filepath.Join(t.TempDir(), "strace.out")
	if res := run(t, exec.Command(strace, "-qq", "-y", "-o", out, "-e", filter, "--", helperBin, "fdlabels", file)); res.code != 0 {
		t.Fatalf("strace: exit status %d; stderr:\n%s", res.code, res.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var theirs []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "write(2<") {
			continue
		}
		// strace pads the result to a column
		if i := strings.LastIndex(l, ") "); i >= 0 {
			l = l[:i+1] + " " + strings.TrimLeft(l[i+1:], " ")
		}
		theirs = append(theirs, inodeRe.ReplaceAllString(l, ":[N]"))
	}
	var ours []string
	for _, l := range lines {
		ours = append(ours, inodeRe.ReplaceAllString(l, ":[N]"))
	}
	if !slices.Equal(ours, theirs) {
		t.Errorf("iotrace's lines:\n%s\nstrace -y's:\n%s", strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
	}
}

// The differential test: small C programs (testdata/corpus, static, so no loader's calls come
// between) run under strace -y -s 32 and under iotrace, and every line strace prints is looked
// for among iotrace's, after normalising only what differs from run to run — pointers, inodes,
// ports, the tid set_tid_address returns and getrandom's bytes. The share of strace's lines
// reproduced exactly must stay at 95 % or more; the lines that differ are logged.
func TestStraceCorpus(t *testing.T) {
	testutil.RequireBPF(t)
	strace := requireStrace(t)
	srcs, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.c"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no corpus in testdata/corpus: %v", err)
	}
	bins := t.TempDir()
	total, same := 0, 0
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		bin, err := buildC(bins, "", name, src, "-O1")
		requireBuilt(t, err)
		wd := t.TempDir()
		out := filepath.Join(t.TempDir(), "strace.out")
		if res := run(t, exec.Command(strace, "-y", "-s", "32", "-o", out, "--", bin, wd)); res.code != 0 {
			t.Fatalf("strace %s: exit status %d; stderr:\n%s", name, res.code, res.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		res := run(t, iotrace(t, "trace", "-s", "32", "--kernel-events", "none", "--", bin, wd))
		if res.code != 0 {
			t.Fatalf("iotrace %s: exit status %d; stderr:\n%s", name, res.code, res.stderr)
		}
		ours := map[string]int{}
		for _, l := range strings.Split(string(res.stdout), "\n") {
			l = textStampRe.ReplaceAllString(l, "")
			if s := strings.TrimSpace(l); s == "" || strings.HasPrefix(s, "·") || strings.HasPrefix(s, "↳") || strings.HasPrefix(s, "+++ exec ") {
				continue // kernel evidence and notes: iotrace's own lines
			}
			ours[normStrace(textDurRe.ReplaceAllString(l, ""))]++
		}
		var missed []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if m := straceResultRe.FindStringSubmatch(l); m != nil {
				l = m[1] + " " + m[2] // strace pads the result to a column
			}
			l = normStrace(l)
			total++
			if ours[l] > 0 {
				ours[l]--
				same++
			} else {
				missed = append(missed, l)
			}
		}
		if len(missed) > 0 {
			t.Logf("%s: %d of strace's lines not reproduced:\n  %s", name, len(missed), strings.Join(missed, "\n  "))
		}
	}
	share := float64(same) / float64(total)
	t.Logf("%d of strace's %d lines reproduced exactly (%.1f %%)", same, total, 100*share)
	if share < 0.95 {
		t.Errorf("%d of strace's %d lines reproduced exactly (%.1f %%), want 95 %% or more", same, total, 100*share)
	}
}

var (
	straceResultRe = regexp.MustCompile(`^(.*?\)) +(= .*)$`)
	pointerRe      = regexp.MustCompile(`0x[0-9a-f]{5,}`)
	portRe         = regexp.MustCompile(`htons\(\d+\)`)
	tidAddrRe      = regexp.MustCompile(`^(set_tid_address\(.*\)) = \d+$`)
	randomRe       = regexp.MustCompile(`^getrandom\("[^"]*"`)
)

// normStrace replaces what differs between two runs of one program.
func normStrace(l string) string {
	l = pointerRe.ReplaceAllString(l, "0xPTR")
	l = inodeRe.ReplaceAllString(l, ":[N]")
	l = portRe.ReplaceAllString(l, "htons(PORT)")
	l = tidAddrRe.ReplaceAllString(l, "$1 = TID")
	return randomRe.ReplaceAllString(l, `getrandom("BYTES"`)
}

// requireStrace finds strace, or stops the test: a failure on the CI host (make deps installs
// strace), a skip elsewhere — outside CI, and in the kernel matrix's guests, which need not have
// it (a comparison with strace depends on strace, not on the kernel: the host's run makes it).
func requireStrace(t *testing.T) string {
	t.Helper()
	strace, err := exec.LookPath("strace")
	if err != nil {
		if testutil.InCI() && os.Getenv("IOTRACE_BIN") == "" {
			t.Fatalf("strace is required in CI (make deps installs it): %v", err)
		}
		t.Skipf("needs strace: %v", err)
	}
	return strace
}

var varsTruthRe = regexp.MustCompile(`truth vars=(-?\d+)`)

// execve's environment is counted as strace counts it (/* N vars */), across the BPF side's
// chunked reads: empty, one, a chunk's edges, the limit, an array that ends against an unmapped
// page, and an unreadable array (no count).
func TestExecveEnvCount(t *testing.T) {
	testutil.RequireBPF(t)
	requireHelper(t)
	t.Parallel()
	res := run(t, iotrace(t, "trace", "--kernel-events", "none", "--format", "jsonl", "-e", "trace=execve", "--",
		helperBin, "envs", "0", "1", "31", "32", "33", "64", "1023", "1024"))
	if res.code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", res.code, res.stderr)
	}
	var want []int64
	for _, m := range varsTruthRe.FindAllStringSubmatch(string(res.stderr), -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		want = append(want, n)
	}
	rec := readRecording(t, "stdout", res.stdout)
	var got []int64
	for _, s := range rec.syscalls(named("execve")) {
		if name, _ := s.Decoded.Str("filename"); name != "/nonexistent/iotrace-envs" {
			continue // the helper's own exec
		}
		n, ok := s.Decoded.Int("envp_vars")
		if !ok {
			n = -1
		}
		got = append(got, n)
	}
	if len(want) != 10 || !slices.Equal(got, want) {
		t.Errorf("environment counts %v, want %v (the helper's)", got, want)
	}
}
