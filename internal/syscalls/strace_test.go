package syscalls

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"testing"
)

// TestClassesMatchStrace runs a small shell workload under the installed strace once per class
// and checks that the syscalls strace reports are exactly those of the full trace that our
// filter for the same expression selects.
func TestClassesMatchStrace(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed")
	}
	tab := Native()
	if tab == nil {
		t.Skipf("no table for %s", runtime.GOARCH)
	}
	skipIfEmulated(t)
	workload := []string{"sh", "-c", "ls -la / >/dev/null; id >/dev/null; df / >/dev/null; " +
		"cat /etc/hostname >/dev/null 2>&1; stat / >/dev/null; kill -0 $$; date >/dev/null"}
	run := func(expr string) []string {
		out := filepath.Join(t.TempDir(), "trace")
		args := []string{"-f", "-qq", "-o", out}
		if expr != "" {
			args = append(args, "-e", expr)
		}
		cmd := exec.Command(strace, append(args, workload...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("strace cannot trace here: %v: %s", err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range regexp.MustCompile(`(?m)^\d+\s+([a-z0-9_]+)\(`).FindAllStringSubmatch(string(data), -1) {
			name, ok := tab.resolve(m[1]) // strace's fstat is newfstat
			if !ok {
				t.Fatalf("strace reported %q, which the %s table lacks", m[1], tab.Arch())
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return names
	}
	all := run("")
	t.Logf("workload syscalls: %q", all)
	if len(all) < 20 {
		t.Fatalf("the workload made only %d distinct syscalls: %q", len(all), all)
	}
	for _, expr := range []string{"%file", "%desc", "%memory", "%network", "%process", "%signal", "%ipc",
		"%creds", "%clock", "%pure", "%stat", "%lstat", "%fstat", "%%stat", "%statfs", "%fstatfs", "%%statfs",
		"!%desc", "file"} {
		f, err := ParseFilter(tab, []string{"trace=" + expr})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, name := range all {
			if f.MatchName(name) {
				want = append(want, name)
			}
		}
		if got := run("trace=" + expr); !slices.Equal(got, want) {
			t.Errorf("trace=%s: strace traced %q, our filter selects %q", expr, got, want)
		}
	}
}
