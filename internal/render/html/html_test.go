package html

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render"
)

var _ render.Renderer = (*Writer)(nil)

var header = &event.Header{Schema: event.Schema, Version: "test", Kernel: "6.1.0", Arch: "x86_64",
	Command: []string{"cat", "f"}, StartNS: 1000, WallClockOffsetNS: 5}

func sc(seq, ts uint64, tid uint32, comm, name string) *event.Syscall {
	return &event.Syscall{Common: event.Common{Seq: seq, TS: ts, PID: 1, TID: tid, Comm: comm}, Name: name, Dur: 10}
}

func renderPage(t *testing.T, s *event.Summary, events ...event.Event) string {
	t.Helper()
	var b bytes.Buffer
	w := New(&b, Options{Title: "iotrace: cat <f> & more"})
	if err := w.Header(header); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := w.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// island returns the parsed content of <script id=ID type="application/json">.
func island(t *testing.T, html, id string, v any) {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script id="` + id + `" type="application/json">(.*?)</script>`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no %s data in the page", id)
	}
	if err := json.Unmarshal([]byte(m[1]), v); err != nil {
		t.Fatalf("%s data: %v", id, err)
	}
}

func TestPage(t *testing.T) {
	failed := sc(3, 1300, 2, "cat", "openat")
	failed.Ret, failed.Errno = -2, "ENOENT"
	failed.Notes = []string{"</script><script>alert(1)</script>"}
	exit := sc(6, 1600, 1, "cat", "exit_group")
	exit.Unfinished = true
	html := renderPage(t, &event.Summary{Events: 6, Truncated: true, Syscalls: []event.SyscallStat{{Name: "openat", Calls: 1, Errors: 1, TotalNS: 10}}},
		sc(1, 1100, 1, "sh", "readv"),
		&event.Process{Common: event.Common{Seq: 2, TS: 1200, PID: 1, TID: 1, Comm: "cat"}, Name: "exec", Filename: "/bin/cat"},
		failed,
		&event.Kernel{Common: event.Common{Seq: 7, TS: 1350, PID: 1, TID: 9}, Name: "io_uring_complete"},
		&event.Kernel{Common: event.Common{Seq: 4, TS: 1400, PID: 1, TID: 2}, Name: "sched_blocked", CauseSeq: 3,
			Args: event.Fields{{Key: "off_cpu_ns", Val: int64(7)}, {Key: "waker_tid", Val: int64(9)}, {Key: "waker_comm", Val: "iou-wrk-1"},
				{Key: "extra", Val: event.Fields{{Key: "list", Val: []any{int64(1), "x"}}}}}},
		&event.Lost{Count: 2, CPU: 1, Reason: "ring buffer full"},
		exit,
	)

	if strings.Contains(html, "<script>alert") {
		t.Error("a note closed the data script: the page is open to injection")
	}
	if !strings.Contains(html, "<title>iotrace: cat &lt;f&gt; &amp; more</title>") {
		t.Error("the title is not escaped")
	}
	var events []map[string]any
	island(t, html, "events", &events)
	got, _ := json.Marshal(events)
	want := `[{"c":"readv() = 0","d":10,"i":1,"k":"s","m":"vectored","n":"readv","p":1,"q":1,"t":100},` +
		`{"i":1,"k":"p","n":"exec /bin/cat","p":1,"q":2,"t":200},` +
		`{"c":"openat() = -1 ENOENT (No such file or directory)","d":10,"e":true,"i":2,"k":"s","m":"other","n":"openat","o":["\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"],"p":1,"q":3,"t":300},` +
		`{"i":9,"k":"k","n":"io_uring_complete","p":1,"q":7,"t":350},` +
		`{"c":"off_cpu_ns=7 waker_tid=9 waker_comm=iou-wrk-1 extra={list=[1, x]}","d":7,"i":2,"k":"k","n":"sched_blocked","p":1,"q":4,"t":400,"x":3},` +
		`{"k":"l","n":"2 events lost on CPU 1 (ring buffer full)","t":-1},` +
		`{"c":"exit_group() = ?","d":10,"i":1,"k":"s","m":"other","n":"exit_group","p":1,"q":6,"t":600,"u":true}]`
	if string(got) != want {
		t.Errorf("events:\n%s\nwant\n%s", got, want)
	}
	var meta struct {
		Threads []thread `json:"threads"`
		Summary struct {
			Truncated bool `json:"truncated"`
		} `json:"summary"`
		WallStart  int64    `json:"wall_start_ns"`
		Mechanisms []string `json:"mechanisms"`
	}
	island(t, html, "meta", &meta)
	// the name after exec wins; a worker without comm is named by the thread it woke
	if want := []thread{{1, 1, "cat"}, {1, 2, "cat"}, {1, 9, "iou-wrk-1"}}; len(meta.Threads) != 3 ||
		meta.Threads[0] != want[0] || meta.Threads[1] != want[1] || meta.Threads[2] != want[2] {
		t.Errorf("threads = %+v, want %+v", meta.Threads, want)
	}
	if !meta.Summary.Truncated || meta.WallStart != 1005 || len(meta.Mechanisms) != 7 {
		t.Errorf("meta = %+v", meta)
	}
	for _, part := range []string{markTitle, markStyle, markEvents, markMeta, markScript} {
		if strings.Contains(html, part) {
			t.Errorf("the page still holds the marker %s", part)
		}
	}
}

func TestMechanism(t *testing.T) {
	w := New(io.Discard, Options{})
	tests := map[string]string{
		"readv": "vectored", "pwritev2": "vectored", "epoll_wait": "epoll", "poll": "epoll",
		"mmap": "mmap", "madvise": "mmap", "fadvise64": "fadvise", "fdatasync": "fadvise",
		"io_submit": "aio", "io_uring_enter": "aio", "dup2": "dup", "close": "dup",
		"getpid": "", "read": "",
	}
	for name, want := range tests {
		if got := w.mech[name]; got != want {
			t.Errorf("%s is coloured as %q, want %q", name, got, want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteError(t *testing.T) {
	w := New(failWriter{}, Options{})
	err := w.Header(header)
	for i := 0; err == nil && i < 10_000; i++ {
		err = w.Event(sc(uint64(i), 2000, 1, "cat", "read"))
	}
	if err == nil {
		err = w.Close(nil)
	}
	if err == nil || !strings.Contains(err.Error(), "closed pipe") {
		t.Errorf("writing to a broken writer: %v", err)
	}
}
