package e2e

// glibc's POSIX AIO against its ground truth: testdata/posixaio.c hands glibc an aio_write, an
// aio_fsync and an aio_read, prints each aiocb's fields, the calling thread and aio_return,
// and lists its threads at the end (glibc's helpers). The uprobe records must carry the aiocb
// as the program filled it, and exactly one call of a helper thread per request must be linked
// to it — the one with the request's descriptor, buffer, length and offset, returning what
// aio_return returned. Run on the static program (uprobes in the executable itself) and, where
// one was built, on the dynamic one (uprobes in the system's libc).

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/testutil"
)

var posixSteps = []struct{ step, call string }{
	{"aio_write", "pwrite64"},
	{"aio_fsync", "fsync"},
	{"aio_read", "pread64"},
}

var glibcRunsRE = regexp.MustCompile(`^glibc runs the (aio_\w+) of tid (\d+) \(seq (\d+)\) as this (\w+), on its helper thread (\d+)$`)

func TestTruthPOSIXAIO(t *testing.T) {
	t.Run("static", func(t *testing.T) { checkPOSIXAIO(t, kCProg(t, "posixaio")) })
	dyn := posixDynamic(t)
	if dyn == "" {
		t.Log("dynamic: no dynamically linked posixaio here (the arm64 guest has no configured libc): only the static program was checked")
		return
	}
	t.Run("dynamic", func(t *testing.T) { checkPOSIXAIO(t, dyn) })
}

// posixDynamic is posixaio linked against the system's libc: built here on the host,
// cross-built by .ci/vm/test-kernel.sh for x86 guests (their root has Debian's glibc).
func posixDynamic(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("IOTRACE_E2E_CBIN"); dir != "" {
		bin := filepath.Join(dir, "posixaio-dyn")
		if _, err := os.Stat(bin); err != nil {
			return ""
		}
		return bin
	}
	bin := filepath.Join(t.TempDir(), "posixaio-dyn")
	out, err := exec.Command("gcc", "-O1", "-Wall", "-Wextra", "-Werror", "-o", bin, filepath.Join("testdata", "posixaio.c")).CombinedOutput()
	if err != nil {
		if testutil.InCI() {
			t.Fatalf("build testdata/posixaio.c with gcc: %v\n%s", err, out)
		}
		t.Skipf("build testdata/posixaio.c with gcc: %v\n%s", err, out)
	}
	return bin
}

func checkPOSIXAIO(t *testing.T, bin string) {
	tr := kRun(t, "trace", "--", bin)
	tt := truth{}
	parseTruth(tr.stderr, tt)
	helpers := kThreads(tt["helpers"])
	if len(helpers) == 0 {
		t.Fatalf("the program found no helper thread: %v", tt["helpers"])
	}
	for _, st := range posixSteps {
		m := tt[st.step]
		if m == nil {
			t.Fatalf("%s: no ground truth printed; stderr:\n%s", st.step, tr.stderr)
		}
		var req *event.Kernel
		for _, k := range tr.kKernel(st.step) {
			fd, _ := k.Args.Int("aio_fildes")
			buf, _ := k.Args.Str("aio_buf")
			n, _ := k.Args.Int("aio_nbytes")
			off, _ := k.Args.Int("aio_offset")
			if fd == m["fd"] && buf == "0x"+strconv.FormatInt(m["buf"], 16) && n == m["nbytes"] && off == m["offset"] && int64(k.TID) == m["tid"] {
				if req != nil {
					t.Fatalf("%s: two records of the one request (seq %d, %d)", st.step, req.Seq, k.Seq)
				}
				req = k
			}
		}
		if req == nil {
			t.Fatalf("%s: no %s record with the aiocb the program filled (%v); records: %v", st.step, st.step, m, tr.kKernel(st.step))
		}
		if req.Outside != event.OutsideUser {
			t.Errorf("%s: the uprobe record is marked %q, want %q (the thread ran libc's code)", st.step, req.Outside, event.OutsideUser)
		}
		var linked []*event.Syscall
		for _, s := range tr.kSyscalls(st.call, "read", "write", "pread64", "pwrite64", "fsync", "fdatasync") {
			for _, n := range s.Notes {
				g := glibcRunsRE.FindStringSubmatch(n)
				if g == nil || g[3] != strconv.FormatUint(req.Seq, 10) {
					continue
				}
				linked = append(linked, s)
				if g[1] != st.step || g[2] != strconv.FormatInt(m["tid"], 10) || g[4] != s.Name || g[5] != strconv.FormatUint(uint64(s.TID), 10) {
					t.Errorf("%s: note %q on %s seq %d (tid %d)", st.step, n, s.Name, s.Seq, s.TID)
				}
			}
		}
		if len(linked) != 1 {
			t.Fatalf("%s: %d calls linked to the request (seq %d), want 1: %v", st.step, len(linked), req.Seq, linked)
		}
		s := linked[0]
		fd, _ := s.Arg("fd")
		switch {
		case s.Name != st.call:
			t.Errorf("%s: glibc runs it as %s, the trace links %s", st.step, st.call, s.Name)
		case !helpers[s.TID]:
			t.Errorf("%s: linked to %s on tid %d, not one of the helper threads %v", st.step, s.Name, s.TID, helpers)
		case int64(fd) != m["fd"] || s.Ret != m["ret"]:
			t.Errorf("%s: linked %s(fd %d) = %d; the request was on fd %d and aio_return gave %d", st.step, s.Name, fd, s.Ret, m["fd"], m["ret"])
		}
		t.Logf("%s: %s seq %d on helper %d: %q", st.step, s.Name, s.Seq, s.TID, s.Notes)
	}
}
