package e2e

// The epoll and scatter/gather notes held against ground truth: testdata/epolltruth.c and
// testdata/iovtruth.c run under iotrace and measure, in the same run, what really happened —
// the descriptors really readable (poll with a zero timeout), what each epoll_wait returned, the
// bytes queued on a socket (FIONREAD), the bytes that landed in each buffer of a readv and those
// of each iovec a pipe really took from a writev — printed as "truth STEP key=value" lines. The
// tests compare the notes with those figures, including the case that used to be false (a ready
// event named after the fd its data happens to equal).

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

// gtLine is one "truth STEP k=v ..." line a ground-truth program printed.
type gtLine struct {
	step string
	kv   map[string]string
}

// gtRun traces a ground-truth C program and returns the trace and its truth lines, in order:
// unlike truthRun's figures by step, these programs print lists ("ready=5,7") and one line per
// call, matched to the calls in order.
func gtRun(t *testing.T, prog string, args ...string) (*kTrace, []gtLine) {
	t.Helper()
	tr := kRun(t, append([]string{"trace", "--", kCProg(t, prog)}, args...)...)
	var lines []gtLine
	for _, line := range strings.Split(tr.stderr, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "truth" {
			continue
		}
		l := gtLine{step: f[1], kv: map[string]string{}}
		for _, kv := range f[2:] {
			k, v, _ := strings.Cut(kv, "=")
			l.kv[k] = v
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		t.Fatalf("%s %v printed no ground truth; stderr:\n%s", prog, args, tr.stderr)
	}
	return tr, lines
}

// gtGet returns key of the first truth line of step.
func gtGet(t *testing.T, lines []gtLine, step, key string) string {
	t.Helper()
	for _, l := range lines {
		if v, ok := l.kv[key]; ok && l.step == step {
			return v
		}
	}
	t.Fatalf("no truth %s %s=… in %v", step, key, lines)
	return ""
}

func gtInt(t *testing.T, lines []gtLine, step, key string) int64 {
	t.Helper()
	return kAtoi(t, gtGet(t, lines, step, key))
}

// gtInts parses "1,2,3" ("none": empty).
func gtInts(t *testing.T, s string) []int64 {
	t.Helper()
	if s == "none" || s == "" {
		return nil
	}
	var out []int64
	for _, x := range strings.Split(s, ",") {
		out = append(out, kAtoi(t, x))
	}
	return out
}

// gtWaits are the successful epoll waits of the trace, in order.
func (tr *kTrace) gtWaits() []*event.Syscall {
	var out []*event.Syscall
	for _, s := range tr.kSyscalls("epoll_wait", "epoll_pwait", "epoll_pwait2") {
		if !s.Failed() {
			out = append(out, s)
		}
	}
	return out
}

var (
	// a ready note's entries: "5<pipe> EPOLLIN (data=3)" or "data=777 EPOLLIN (registered …)"
	gtReadyRe   = regexp.MustCompile(`^ready: (.*) \((\d+) of (\d+) watched\)$`)
	gtNamedRe   = regexp.MustCompile(`^(\d+)<[^>]*> (\S+)(?: \(data=(\d+)\))?$`)
	gtUnnamedRe = regexp.MustCompile(`^data=(\d+) (\S+) \((?:registered for fds? ([\d, ]+): the trace cannot tell which|no registration the trace saw holds this data)\)$`)
)

// gtReady is a parsed ready note: descriptors named with the data that named them (the fd
// itself when no data was shown), and data values left unnamed with the fds they may be.
type gtReady struct {
	named          map[int64]int64
	unnamed        map[int64][]int64
	count, watched int64
}

func gtParseReady(t *testing.T, w *event.Syscall) gtReady {
	t.Helper()
	var note string
	for _, n := range w.Notes {
		if strings.HasPrefix(n, "ready: ") {
			if note != "" {
				t.Fatalf("wait seq %d has two ready notes: %q", w.Seq, w.Notes)
			}
			note = n
		}
	}
	m := gtReadyRe.FindStringSubmatch(note)
	if m == nil {
		t.Fatalf("wait seq %d (returned %d) has no ready note: %q", w.Seq, w.Ret, w.Notes)
	}
	r := gtReady{named: map[int64]int64{}, unnamed: map[int64][]int64{}, count: kAtoi(t, m[2]), watched: kAtoi(t, m[3])}
	for _, e := range splitEntries(m[1]) {
		if nm := gtNamedRe.FindStringSubmatch(e); nm != nil {
			fd := kAtoi(t, nm[1])
			data := fd
			if nm[3] != "" {
				data = kAtoi(t, nm[3])
			}
			r.named[fd] = data
			continue
		}
		if um := gtUnnamedRe.FindStringSubmatch(e); um != nil {
			var fds []int64
			for _, x := range strings.Split(um[3], ", ") {
				if x != "" {
					fds = append(fds, kAtoi(t, x))
				}
			}
			r.unnamed[kAtoi(t, um[1])] = fds
			continue
		}
		t.Fatalf("ready note entry %q not understood (note %q)", e, note)
	}
	return r
}

// splitEntries splits a ready list at the ", " that start an entry (an fd or a data value), not
// those inside an entry's parentheses.
func splitEntries(list string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(list); i++ {
		switch list[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 && strings.HasPrefix(list[i:], ", ") {
				out = append(out, list[start:i])
				start = i + 2
			}
		}
	}
	return append(out, list[start:])
}

// A ready event is named only as the descriptor whose registration holds its data: a pointer
// (fd a), another fd's number (fd b's data is a's number, and a is not ready), the fd itself
// (c); data two registrations share (d and e) names neither, until d's pipe is closed and the
// kernel drops its registration. Every named fd is one poll() found readable in the same run.
func TestTruthEpollData(t *testing.T) {
	tr, lines := gtRun(t, "epolltruth", "data")
	fd := func(k string) int64 { return gtInt(t, lines, "fds", k) }
	a, b, c, d, e, ptr := fd("a"), fd("b"), fd("c"), fd("d"), fd("e"), fd("ptr")
	waits := tr.gtWaits()
	if len(waits) != 3 {
		t.Fatalf("want the program's 3 epoll waits, got %d", len(waits))
	}
	type want struct {
		named   map[int64]int64   // fd -> the data that names it
		unnamed map[int64][]int64 // data -> the fds it may be
		watched int64
	}
	wants := map[string]want{
		"r1": {map[int64]int64{b: a, c: c}, map[int64][]int64{777: {d, e}}, 5},
		"r2": {map[int64]int64{a: ptr}, map[int64][]int64{}, 5},
		"r3": {map[int64]int64{e: 777}, map[int64][]int64{}, 4},
	}
	for i, step := range []string{"r1", "r2", "r3"} {
		w := waits[i]
		ready := gtInts(t, gtGet(t, lines, step, "ready"))
		if n := gtInt(t, lines, step, "n"); w.Ret != n || n != int64(len(ready)) {
			t.Errorf("%s: the trace's wait returned %d, the program's %d, with %d fds readable by poll()", step, w.Ret, n, len(ready))
		}
		got := gtParseReady(t, w)
		for f := range got.named {
			if !slices.Contains(ready, f) {
				t.Errorf("%s: the ready note names fd %d, which poll() found not readable (ready: %v): %q", step, f, ready, w.Notes)
			}
		}
		for data, fds := range got.unnamed {
			if len(fds) > 0 && !slices.ContainsFunc(fds, func(f int64) bool { return slices.Contains(ready, f) }) {
				t.Errorf("%s: data=%d is said to be one of fds %v, none of them readable (ready: %v)", step, data, fds, ready)
			}
		}
		if int64(len(got.named)+len(got.unnamed)) != w.Ret || got.count != w.Ret {
			t.Errorf("%s: the ready note has %d entries and says %d, the wait returned %d: %q", step, len(got.named)+len(got.unnamed), got.count, w.Ret, w.Notes)
		}
		ww := wants[step]
		if fmt.Sprint(got.named) != fmt.Sprint(ww.named) || fmt.Sprint(got.unnamed) != fmt.Sprint(ww.unnamed) || got.watched != ww.watched {
			t.Errorf("%s: ready note %q: named %v, unnamed %v, %d watched; want %v, %v, %d",
				step, w.Notes, got.named, got.unnamed, got.watched, ww.named, ww.unnamed, ww.watched)
		}
	}
}

var (
	gtStoppedRe = regexp.MustCompile(`^(\d+)<socket:[^>]*> \(EPOLLET\) not reported: its last read \(seq (\d+)\) filled all (\d+) bytes of its buffer`)
	gtLeftRe    = regexp.MustCompile(`^found (\d+) bytes left behind on (\d+)<socket:[^>]*> \(EPOLLET\): the handler's last read \(seq (\d+)\) filled its buffer and the wait at seq (\d+) did not report the fd`)
	gtNothingRe = regexp.MustCompile(`^found nothing on (\d+)<socket:[^>]*> \(EAGAIN\)`)
)

// The edge-triggered handler of the article's echo server, one 16-byte read per event: on 96
// queued bytes the wait after the read is not reported and the next read finds the 80 bytes
// FIONREAD counted; on exactly 16 the same wait is noted but the next read finds nothing
// (FIONREAD 0: a full buffer does not prove bytes were left); reading to EAGAIN gets no such
// note at all.
func TestTruthEpollEdge(t *testing.T) {
	for _, sc := range []string{"et", "et-exact", "et-drain"} {
		t.Run(sc, func(t *testing.T) {
			tr, lines := gtRun(t, "epolltruth", sc)
			srv := gtInt(t, lines, "edge", "fd")
			waits := tr.gtWaits()
			if len(waits) != 2 {
				t.Fatalf("want the program's 2 epoll waits, got %d", len(waits))
			}
			w1, w2 := waits[0], waits[1]
			if w2.Ret != gtInt(t, lines, "w2", "n") || w2.Ret != 0 {
				t.Fatalf("the second wait returned %d in the trace, %d in the program; want 0 (no new edge)", w2.Ret, gtInt(t, lines, "w2", "n"))
			}
			var handler []*event.Syscall
			var later *event.Syscall
			for _, s := range tr.kSyscalls("read") {
				if arg(s, "fd") != srv {
					continue
				}
				switch {
				case s.TS > kEnd(w1) && s.TS < w2.TS:
					handler = append(handler, s)
				case s.TS > kEnd(w2) && later == nil:
					later = s
				}
			}
			if len(handler) == 0 || later == nil {
				t.Fatalf("want the handler's reads between the waits and one read after: %d, %v", len(handler), later)
			}
			var read int64
			for _, s := range handler {
				read += max(s.Ret, 0)
			}
			if read != gtInt(t, lines, "handler", "read") || int64(len(handler)) != gtInt(t, lines, "handler", "reads")+boolInt(sc == "et-drain") {
				t.Errorf("the trace's handler reads moved %d bytes in %d calls; the program counted %d in %d (+1 EAGAIN when draining)",
					read, len(handler), gtInt(t, lines, "handler", "read"), gtInt(t, lines, "handler", "reads"))
			}
			queued := gtInt(t, lines, "left", "queued")
			last := handler[len(handler)-1]
			stopped, noted := kNote(w2, gtStoppedRe)
			left, leftNoted := kNote(later, gtLeftRe)
			_, nothingNoted := kNote(later, gtNothingRe)
			switch sc {
			case "et", "et-exact":
				if !noted {
					t.Fatalf("the wait after the handler's full read has no EPOLLET note: %q", w2.Notes)
				}
				if kAtoi(t, stopped[1]) != srv || kAtoi(t, stopped[2]) != int64(last.Seq) || kAtoi(t, stopped[3]) != last.Ret || last.Ret != arg(last, "count") {
					t.Errorf("EPOLLET note %q; want fd %d, the read seq %d that filled its %d-byte buffer (returned %d)", stopped[0], srv, last.Seq, arg(last, "count"), last.Ret)
				}
			case "et-drain":
				if noted || leftNoted || nothingNoted {
					t.Errorf("reading to EAGAIN got EPOLLET notes: wait %q, read %q", w2.Notes, later.Notes)
				}
			}
			switch {
			case sc == "et":
				if !leftNoted {
					t.Fatalf("the read after the unreported wait has no left-behind note: %q", later.Notes)
				}
				n := kAtoi(t, left[1])
				if n != queued || n != later.Ret || later.Ret != gtInt(t, lines, "later", "ret") || queued != gtInt(t, lines, "edge", "sent")-read {
					t.Errorf("left-behind note says %d bytes; FIONREAD counted %d, the read returned %d (program: %d), sent %d - read %d",
						n, queued, later.Ret, gtInt(t, lines, "later", "ret"), gtInt(t, lines, "edge", "sent"), read)
				}
				if kAtoi(t, left[2]) != srv || kAtoi(t, left[3]) != int64(last.Seq) || kAtoi(t, left[4]) != int64(w2.Seq) {
					t.Errorf("left-behind note %q; want fd %d, read seq %d, wait seq %d", left[0], srv, last.Seq, w2.Seq)
				}
			case sc == "et-exact":
				if queued != 0 || later.Errno != "EAGAIN" || gtInt(t, lines, "later", "eagain") != 1 {
					t.Fatalf("the program measured %d bytes queued and its later read %d %s; the scenario needs none", queued, later.Ret, later.Errno)
				}
				if leftNoted || !nothingNoted {
					t.Errorf("nothing was queued (FIONREAD 0, EAGAIN), want a found-nothing note: %q", later.Notes)
				}
			}
		})
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

var (
	gtFillRe     = regexp.MustCompile(`^returned (\d+) of (?:(\d+)|more than (\d+) \((\d+) iovecs; [^)]*\)): (.*)$`)
	gtFillPartRe = regexp.MustCompile(`^iov\[(\d+)(?:\.\.(\d+))?\] (?:(\d+) full|full \((\d+) bytes\)|(\d+) of (\d+)|(untouched)|(empty))$`)
)

// gtFillMap parses a fill-map note into the bytes it says each iovec took (-1: not told), the
// return value and the total it names (the copied iovecs' sum when more were passed), and the
// iovec count.
func gtFillMap(t *testing.T, note string, lens []int64) (got []int64, ret, total int64) {
	t.Helper()
	m := gtFillRe.FindStringSubmatch(note)
	if m == nil {
		t.Fatalf("fill-map note %q not understood", note)
	}
	ret = kAtoi(t, m[1])
	total = kAtoi(t, m[2]+m[3])
	got = make([]int64, len(lens))
	for i := range got {
		got[i] = -1
	}
	for _, part := range strings.Split(m[5], ", ") {
		p := gtFillPartRe.FindStringSubmatch(part)
		if p == nil {
			t.Fatalf("fill-map part %q of %q not understood", part, note)
		}
		from := kAtoi(t, p[1])
		to := from
		if p[2] != "" {
			to = kAtoi(t, p[2])
		}
		if to >= int64(len(lens)) {
			t.Fatalf("fill-map note %q names iov[%d] of %d", note, to, len(lens))
		}
		var sum int64
		for i := from; i <= to; i++ {
			switch {
			case p[3] != "" || p[4] != "":
				got[i] = lens[i]
			case p[5] != "":
				got[i] = kAtoi(t, p[5])
				if kAtoi(t, p[6]) != lens[i] {
					t.Errorf("fill-map note %q: iov[%d] is %s bytes long, the program's is %d", note, i, p[6], lens[i])
				}
			default:
				got[i] = 0
			}
			sum += got[i]
		}
		if n := p[3] + p[4]; n != "" && kAtoi(t, n) != sum {
			t.Errorf("fill-map note %q: %q says %s bytes, the iovecs hold %d", note, part, n, sum)
		}
	}
	return got, ret, total
}

// Each scatter/gather call of iovtruth: a short one's note maps the return value onto the
// iovecs exactly as the bytes really landed (readv's buffers, the iovecs a pipe took); a
// complete one gets no map, nor one whose 20 iovecs went past the 16 iotrace copies (their
// total is unknown to it).
func TestTruthFillMap(t *testing.T) {
	tr, lines := gtRun(t, "iovtruth", filepath.Join(t.TempDir(), "iov.dat"))
	calls := tr.kSyscalls("readv", "preadv", "writev", "pwritev2")
	if len(calls) != len(lines) {
		t.Fatalf("the program made %d scatter/gather calls, the trace shows %d:%s", len(lines), len(calls), brief(calls))
	}
	for i, l := range lines {
		s := calls[i]
		ret, _ := strconv.ParseInt(l.kv["ret"], 10, 64)
		lens, got := gtInts(t, l.kv["lens"]), gtInts(t, l.kv["got"])
		var sum, copied int64
		for j, n := range lens {
			sum += n
			if j < 16 {
				copied += n
			}
		}
		if s.Ret != ret || arg(s, "vlen") != int64(len(lens)) {
			t.Errorf("%s: %s returned %d over %d iovecs in the trace; the program's returned %d over %d", l.step, s.Name, s.Ret, arg(s, "vlen"), ret, len(lens))
		}
		var note string
		for _, n := range s.Notes {
			if strings.HasPrefix(n, "returned ") {
				note = n
			}
		}
		if ret == sum || ret >= copied && len(lens) > 16 {
			if note != "" {
				t.Errorf("%s: returned %d of %d (%d copied): want no fill map, got %q", l.step, ret, sum, copied, note)
			}
			continue
		}
		if note == "" {
			t.Errorf("%s: %s returned %d of %d: no fill-map note: %q", l.step, s.Name, ret, sum, s.Notes)
			continue
		}
		mapped, nret, total := gtFillMap(t, note, lens)
		if want := min(sum, copied); nret != ret || total != want {
			t.Errorf("%s: note %q says %d of %d; the call returned %d of %d", l.step, note, nret, total, ret, want)
		}
		if !slices.Equal(mapped, got) {
			t.Errorf("%s: note %q maps %v; the bytes really taken per iovec were %v", l.step, note, mapped, got)
		}
	}
}
