package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/testutil"
	"github.com/iotrace/iotrace/workloads/catalog"
)

// check asserts one variant's facts in its part of the timeline.
type check func(t *testing.T, r *run, tl timeline)

// facts holds, for every built-in workload and variant, what its timeline must show.
var facts = map[string]map[string]check{
	"vectored": {
		"writev": checkWritev, "writes": checkWrites, "readv": checkReadv,
		"nowait": checkNowait, "iov-max": checkIovMax,
	},
	"epoll": {
		"echo": checkEcho, "et-stranded": checkETStranded, "et-drain": checkETDrain,
		"level": checkLevel, "poll-vs-epoll": checkPollVsEpoll, "netpoller": checkNetpoller,
	},
	"mmap": {
		"copy":     func(t *testing.T, _ *run, tl timeline) { checkMmapCopy(t, tl, "copy") },
		"cold":     checkMmapCold,
		"warm":     checkMmapWarm,
		"populate": checkPopulate, "cow": checkCOW, "msync": checkMsync,
	},
	"fadvise": {
		"copy": checkFadviseCopy, "willneed": checkWillneed,
		"random-vs-seq": checkRandomVsSeq, "dontneed-dirty": checkDontneedDirty,
	},
	"aio": {
		"native": checkNative, "native-direct": checkNativeDirect, "uring": checkUring,
		"sqpoll": checkSQPoll, "goroutine-pread": checkGoroutinePread,
	},
	"dup": {
		"stdout": checkDupStdout, "dup2-file": checkDup2File, "shared-offset": checkSharedOffset,
		"cloexec-exec": checkCloexecExec, "dup2-close": checkDup2Close,
	},
}

// TestWorkloads traces every variant of every workload and checks its facts in the timeline from
// the variant's start. --all shows every syscall: "no read() touched the mapped files" and "the
// child's stat failed" are only facts when nothing was filtered out. Workloads run in parallel,
// the variants of one in order, each run kept for the checks that compare variants.
func TestWorkloads(t *testing.T) {
	for _, w := range catalog.All() {
		t.Run(w.Name, func(t *testing.T) {
			t.Parallel()
			runs := map[string]*run{}
			for _, v := range w.Variants {
				t.Run(v.Name, func(t *testing.T) {
					c := facts[w.Name][v.Name]
					if c == nil {
						t.Fatal("no facts are asserted for this variant: add them to facts")
					}
					r := traceRun(t, w.Name, "--variant", v.Name, "--all")
					r.siblings = runs
					runs[v.Name] = r
					c(t, r, r.variant(t, v.Name))
					checkPredictions(t, r, w.Name, v)
				})
			}
		})
	}
}

// sibling returns the timeline of another variant of the same workload, run before this one.
func sibling(t *testing.T, r *run, variant string) (*run, timeline) {
	t.Helper()
	s := r.siblings[variant]
	if s == nil {
		t.Fatalf("this check compares with variant %s, whose run failed or was not selected", variant)
	}
	return s, s.variant(t, variant)
}

// TestFactsMatchCatalog keeps facts in step with the catalog the other way round: a check for a
// variant that no longer exists would never run.
func TestFactsMatchCatalog(t *testing.T) {
	for name, variants := range facts {
		w, err := catalog.Lookup(name)
		if err != nil {
			t.Errorf("facts: %v", err)
			continue
		}
		for v := range variants {
			if _, err := w.Lookup(v); err != nil {
				t.Errorf("facts: %v", err)
			}
		}
	}
}

// --- vectored ---

// articleIovs are the article's four buffers as the decoder shows them (strace escapes).
var articleIovs = []iov{{8, "HEADER: "}, {11, "Data part 1"}, {11, "Data part 2"}, {8, `\nFOOTER\n`}}

func checkWritev(t *testing.T, _ *run, tl timeline) {
	ws := tl.calls("writev")
	if len(ws) != 1 {
		t.Fatalf("want exactly one writev, got %d:%s", len(ws), brief(ws))
	}
	w := ws[0]
	if !onFile(w, "fd", "writev/output.txt") {
		t.Errorf("writev's fd is %q, want writev/output.txt", str(w, "fd"))
	}
	if n := arg(w, "vlen"); n != 4 {
		t.Errorf("vlen = %d, want 4", n)
	}
	if got := iovecs(w, "vec"); !slices.Equal(got, articleIovs) {
		t.Errorf("iovecs = %v, want %v", got, articleIovs)
	}
	if w.Ret != 38 {
		t.Errorf("writev returned %d, want 38", w.Ret)
	}
}

func checkWrites(t *testing.T, _ *run, tl timeline) {
	if ws := tl.calls("writev"); len(ws) > 0 {
		t.Errorf("the write() contrast issued writev:%s", brief(ws))
	}
	ws := tl.where("write", func(s *event.Syscall) bool { return onFile(s, "fd", "writes/output-writes.txt") })
	if len(ws) != len(articleIovs) {
		t.Fatalf("want %d write calls to output-writes.txt, got %d:%s", len(articleIovs), len(ws), brief(ws))
	}
	for i, w := range ws {
		want := articleIovs[i]
		if got := (iov{arg(w, "count"), bufData(w, "buf")}); got != want || w.Ret != want.len {
			t.Errorf("write %d: count %d, data %q, ret %d; want %d, %q, %d", i, got.len, got.data, w.Ret, want.len, want.data, want.len)
		}
	}
}

func checkReadv(t *testing.T, r *run, tl timeline) {
	input := func(s *event.Syscall) bool { return onFile(s, "fd", "readv/input.txt") }
	size := tl.first(t, "pwrite64", "writing input.txt", input).Ret
	rv := tl.first(t, "readv", "of input.txt", input)
	if n := arg(rv, "vlen"); n != 3 {
		t.Errorf("vlen = %d, want 3", n)
	}
	if rv.Ret != size {
		t.Errorf("readv returned %d, want the file's size %d", rv.Ret, size)
	}
	// Decoded at exit: what readv put in each buffer; the last one only partly filled.
	want := []iov{{8, "HEADER: "}, {22, "Data part 1Data part 2"}, {16, `\nFOOTER\n`}}
	if got := iovecs(rv, "vec"); !slices.Equal(got, want) {
		t.Errorf("iovecs = %v, want %v", got, want)
	}
	checkReadvFill(t, r, rv)
}

var readvBufferRe = regexp.MustCompile(`^readv buffer (\d+): (\d+) of (\d+) bytes`)

// checkReadvFill holds readv's fill map against what the workload found in each buffer.
func checkReadvFill(t *testing.T, r *run, rv *event.Syscall) {
	t.Helper()
	var lens, got []int64
	for _, line := range r.narration("vectored/readv") {
		if m := readvBufferRe.FindStringSubmatch(line); m != nil {
			got = append(got, int64(atoi(m[2])))
			lens = append(lens, int64(atoi(m[3])))
		}
	}
	if len(lens) != 3 {
		t.Fatalf("the workload described %d readv buffers, want 3", len(lens))
	}
	var note string
	for _, n := range rv.Notes {
		if strings.HasPrefix(n, "returned ") {
			note = n
		}
	}
	if note == "" {
		t.Fatalf("readv returned %d into buffers of %v: no fill-map note: %q", rv.Ret, lens, rv.Notes)
	}
	if mapped, _, _ := gtFillMap(t, note, lens); !slices.Equal(mapped, got) {
		t.Errorf("fill map %q gives %v; the workload found %v in its buffers", note, mapped, got)
	}
}

func checkNowait(t *testing.T, r *run, tl timeline) {
	if r.narrated("vectored/nowait", regexp.MustCompile(`still cached`)) != nil {
		t.Skip("the workload's evicted page was still cached (tmpfs?): no cold page to show EAGAIN on")
	}
	ps := tl.where("preadv2", func(s *event.Syscall) bool {
		return onFile(s, "fd", "nowait/nowait.dat") && hasFlags(str(s, "flags"), "RWF_NOWAIT")
	})
	if len(ps) != 2 {
		t.Fatalf("want 2 preadv2(RWF_NOWAIT) calls, got %d:%s", len(ps), brief(ps))
	}
	cold, warm := ps[0], ps[1]
	if cold.Errno != "EAGAIN" {
		t.Errorf("preadv2(RWF_NOWAIT) on the cold page: ret %d errno %q, want EAGAIN", cold.Ret, cold.Errno)
	}
	tl.first(t, "pread64", "caching the page between the two preadv2 calls", func(s *event.Syscall) bool {
		return onFile(s, "fd", "nowait/nowait.dat") && s.TS > end(cold) && end(s) < warm.TS
	})
	if warm.Ret <= 0 {
		t.Errorf("preadv2(RWF_NOWAIT) on the warm page: ret %d errno %q, want data", warm.Ret, warm.Errno)
	}
	if v := iovecs(warm, "vec"); len(v) != 1 || !strings.HasPrefix(v[0].data, "aaaa") {
		t.Errorf("warm preadv2's iovec = %v, want the first page's bytes (aaaa…)", v)
	}
}

func checkIovMax(t *testing.T, _ *run, tl timeline) {
	ws := tl.where("writev", func(s *event.Syscall) bool { return onFile(s, "fd", "iov-max/iov.dat") })
	byVlen := map[int64]*event.Syscall{}
	for _, w := range ws {
		byVlen[arg(w, "vlen")] = w
	}
	if w := byVlen[1024]; w == nil || w.Ret != 1024 {
		t.Errorf("want writev with vlen 1024 returning 1024, got:%s", brief(ws))
	}
	if w := byVlen[1025]; w == nil || w.Errno != "EINVAL" {
		t.Errorf("want writev with vlen 1025 failing with EINVAL, got:%s", brief(ws))
	}
}

// --- epoll ---

// readyFds returns the descriptors an epoll wait reported ready: the workload stores each fd in
// its event's data.
func readyFds(s *event.Syscall) []int64 {
	var fds []int64
	for _, e := range objects(s, "events") {
		if fd, ok := e.Int("data"); ok {
			fds = append(fds, fd)
		}
	}
	return fds
}

// eventMask returns the decoded event mask of an epoll_ctl.
func eventMask(s *event.Syscall) string {
	m, _ := object(s, "event").Str("events")
	return m
}

// workloadEpoll returns the open-file identity of the epoll instance the variant's own code
// created (the Go runtime's was created at start-up, before any variant).
func workloadEpoll(t *testing.T, tl timeline) int64 {
	t.Helper()
	return fileID(tl.first(t, "epoll_create1", "by the workload", func(s *event.Syscall) bool { return s.Ret >= 0 }), "ret")
}

// epollWaits returns the workload's waits on the epoll instance ep.
func epollWaits(r *run, tl timeline, ep int64) []*event.Syscall {
	return tl.where(r.names().epollWait, func(s *event.Syscall) bool { return fileID(s, "epfd") == ep })
}

// addrOf returns a decoded sockaddr's address.
func addrOf(sa event.Fields) string {
	a, _ := sa.Str("addr")
	return a
}

// accepted returns the server's accept4 of the client connection.
func accepted(t *testing.T, tl timeline) *event.Syscall {
	t.Helper()
	return tl.first(t, "accept4", "of the client", func(s *event.Syscall) bool { return s.Ret >= 0 })
}

func checkEcho(t *testing.T, r *run, tl timeline) {
	ep := workloadEpoll(t, tl)
	acc := accepted(t, tl)
	if peer := object(acc, "upeer_sockaddr"); addrOf(peer) != "127.0.0.1" {
		t.Errorf("accept4's peer address = %v, want 127.0.0.1", peer)
	}
	listener, conn := arg(acc, "fd"), acc.Ret
	added := func(fd int64) *event.Syscall {
		return tl.first(t, "epoll_ctl", fmt.Sprintf("EPOLL_CTL_ADD of fd %d", fd), func(s *event.Syscall) bool {
			return fileID(s, "epfd") == ep && str(s, "op") == "EPOLL_CTL_ADD" && arg(s, "fd") == fd
		})
	}
	if m := eventMask(added(listener)); !hasFlags(m, "EPOLLIN") {
		t.Errorf("the listening socket was added with %q, want EPOLLIN", m)
	}
	if m := eventMask(added(conn)); !sameFlags(m, "EPOLLIN", "EPOLLET") {
		t.Errorf("the connection was added with %q, want EPOLLIN|EPOLLET", m)
	}
	waits := epollWaits(r, tl, ep)
	for _, fd := range []int64{listener, conn} {
		if !slices.ContainsFunc(waits, func(w *event.Syscall) bool { return slices.Contains(readyFds(w), fd) }) {
			t.Errorf("no %s ready list holds fd %d:%s", r.names().epollWait, fd, brief(waits))
		}
	}
}

// checkAdded checks the event mask the workload's epoll_ctl ADD gave the accepted connection.
func checkAdded(t *testing.T, tl timeline, acc *event.Syscall, want ...string) {
	t.Helper()
	add := tl.first(t, "epoll_ctl", "EPOLL_CTL_ADD of the connection", func(s *event.Syscall) bool {
		return str(s, "op") == "EPOLL_CTL_ADD" && fileID(s, "fd") == fileID(acc, "ret")
	})
	if m := eventMask(add); !sameFlags(m, want...) {
		t.Errorf("the connection was added with %q, want %s", m, strings.Join(want, "|"))
	}
}

// transferred sums the bytes successful calls moved through the open file id.
func transferred(tl timeline, id int64, keep func(*event.Syscall) bool, names ...string) int64 {
	var n int64
	for _, s := range tl.calls(names...) {
		if fileID(s, "fd") == id && s.Ret > 0 && keep(s) {
			n += s.Ret
		}
	}
	return n
}

func checkETStranded(t *testing.T, r *run, tl timeline) {
	acc := accepted(t, tl)
	checkAdded(t, tl, acc, "EPOLLIN", "EPOLLET")
	conn := fileID(acc, "ret")
	client := fileID(tl.first(t, "connect", "by the client", func(s *event.Syscall) bool { return s.Ret == 0 }), "fd")
	sent := transferred(tl, client, func(*event.Syscall) bool { return true }, "write", "sendto", "writev")
	waits := epollWaits(r, tl, workloadEpoll(t, tl))
	i := slices.IndexFunc(waits, func(w *event.Syscall) bool { return slices.Contains(readyFds(w), acc.Ret) })
	if i < 0 || i+1 >= len(waits) {
		t.Fatalf("want a wait reporting fd %d and one after it:%s", acc.Ret, brief(waits))
	}
	next := waits[i+1]
	read := transferred(tl, conn, func(s *event.Syscall) bool { return s.TS > end(waits[i]) && s.TS < next.TS }, "read", "recvfrom")
	if sent == 0 || read >= sent {
		t.Errorf("the client sent %d bytes and the server read %d of them before the next %s; edge-triggered with one short read must strand some",
			sent, read, next.Name)
	}
	if next.Ret != 0 {
		t.Errorf("the wait after the short read returned %d; the stranded bytes must get no new edge (want 0)", next.Ret)
	}
	checkStrandedNotes(t, r, tl, conn, next)
}

var strandedRe = regexp.MustCompile(`with (\d+) bytes stranded`)

// checkStrandedNotes holds the EPOLLET notes against the workload's own SIOCINQ count: the wait
// after the handler's full read says the fd was not reported, and the last read finds as many
// bytes as SIOCINQ counted.
func checkStrandedNotes(t *testing.T, r *run, tl timeline, conn int64, next *event.Syscall) {
	t.Helper()
	m := r.narrated("epoll/et-stranded", strandedRe)
	if m == nil {
		t.Fatalf("the workload did not say how many bytes were stranded")
	}
	stranded := int64(atoi(m[1]))
	reads := tl.where("read", func(s *event.Syscall) bool { return fileID(s, "fd") == conn })
	i := slices.IndexFunc(reads, func(s *event.Syscall) bool { return s.TS > end(next) })
	if i < 1 {
		t.Fatalf("want the handler's read before the last wait and a read after it:%s", brief(reads))
	}
	handler, last := reads[i-1], reads[i]
	want := fmt.Sprintf("(EPOLLET) not reported: its last read (seq %d) filled all %d bytes", handler.Seq, handler.Ret)
	if !slices.ContainsFunc(next.Notes, func(n string) bool { return strings.Contains(n, want) }) {
		t.Errorf("the wait after the handler's read lacks %q: %q", want, next.Notes)
	}
	found := fmt.Sprintf("found %d bytes left behind on", stranded)
	if last.Ret != stranded || !slices.ContainsFunc(last.Notes, func(n string) bool { return strings.HasPrefix(n, found) }) {
		t.Errorf("SIOCINQ counted %d stranded bytes; the last read returned %d with notes %q, want one starting %q", stranded, last.Ret, last.Notes, found)
	}
}

func checkETDrain(t *testing.T, r *run, tl timeline) {
	acc := accepted(t, tl)
	checkAdded(t, tl, acc, "EPOLLIN", "EPOLLET")
	conn := fileID(acc, "ret")
	waits := epollWaits(r, tl, workloadEpoll(t, tl))
	events := 0
	for i, w := range waits {
		if !slices.Contains(readyFds(w), acc.Ret) {
			continue
		}
		events++
		until := ^uint64(0)
		if i+1 < len(waits) {
			until = waits[i+1].TS
		}
		reads := tl.where("read", func(s *event.Syscall) bool { return fileID(s, "fd") == conn && s.TS > end(w) && s.TS < until })
		if len(reads) == 0 || reads[len(reads)-1].Errno != "EAGAIN" {
			t.Errorf("the reads after event %d must end with one returning EAGAIN:%s", events, brief(reads))
			continue
		}
		for _, rd := range reads[:len(reads)-1] {
			if rd.Ret <= 0 {
				t.Errorf("a read before the draining EAGAIN returned %d %s", rd.Ret, rd.Errno)
			}
		}
	}
	if events == 0 {
		t.Errorf("no wait reported fd %d:%s", acc.Ret, brief(waits))
	}
}

// readyCount counts the waits that reported the accepted connection ready.
func readyCount(t *testing.T, r *run, tl timeline) int {
	t.Helper()
	fd := accepted(t, tl).Ret
	n := 0
	for _, w := range epollWaits(r, tl, workloadEpoll(t, tl)) {
		if slices.Contains(readyFds(w), fd) {
			n++
		}
	}
	return n
}

func checkLevel(t *testing.T, r *run, tl timeline) {
	checkAdded(t, tl, accepted(t, tl), "EPOLLIN")
	level := readyCount(t, r, tl)
	for _, et := range []string{"et-stranded", "et-drain"} {
		sr, stl := sibling(t, r, et)
		if edge := readyCount(t, sr, stl); level <= edge {
			t.Errorf("level-triggered reported the connection %d times, %s %d times: want more for level", level, et, edge)
		}
	}
}

// epollWithAdds returns the identity of the epoll instance that got exactly n EPOLL_CTL_ADDs,
// and the descriptors added.
func epollWithAdds(t *testing.T, tl timeline, n int) (int64, []int64) {
	t.Helper()
	adds := map[int64][]int64{}
	for _, s := range tl.where("epoll_ctl", func(s *event.Syscall) bool { return str(s, "op") == "EPOLL_CTL_ADD" && s.Ret == 0 }) {
		id := fileID(s, "epfd")
		adds[id] = append(adds[id], arg(s, "fd"))
	}
	for id, fds := range adds {
		if len(fds) == n {
			return id, fds
		}
	}
	t.Fatalf("no epoll instance got %d EPOLL_CTL_ADDs", n)
	return 0, nil
}

func checkPollVsEpoll(t *testing.T, r *run, tl timeline) {
	const pipes = 1000 // the variant's default count
	n := r.names()
	p := tl.first(t, n.poll, "of the idle pipes", func(s *event.Syscall) bool { return s.Ret >= 0 })
	if nfds := arg(p, "nfds"); nfds != pipes || p.Ret != 1 {
		t.Errorf("%s: nfds %d, ret %d; want %d fds, one ready", n.poll, nfds, p.Ret, pipes)
	}
	ep, added := epollWithAdds(t, tl, pipes)
	polled := objects(p, "ufds")
	if len(polled) == 0 {
		t.Errorf("%s's pollfd array was not decoded", n.poll)
	}
	for _, pfd := range polled {
		if fd, _ := pfd.Int("fd"); !slices.Contains(added, fd) {
			t.Errorf("%s watched fd %d, which the epoll instance does not: not the same pipes", n.poll, fd)
			break
		}
	}
	w := tl.first(t, n.epollWait, "on the pipes' epoll instance", func(s *event.Syscall) bool { return fileID(s, "epfd") == ep })
	if ready := readyFds(w); w.Ret != 1 || len(ready) != 1 || !slices.Contains(added, ready[0]) {
		t.Errorf("%s returned %d with ready list %v; want the one pipe holding a byte", w.Name, w.Ret, ready)
	}
}

func checkNetpoller(t *testing.T, _ *run, tl timeline) {
	if c := tl.calls("epoll_create", "epoll_create1"); len(c) > 0 {
		t.Errorf("the variant has no epoll code, yet an epoll instance was created:%s", brief(c))
	}
	pw := tl.calls("epoll_pwait")
	if len(pw) == 0 {
		t.Fatal("no epoll_pwait: the Go runtime's netpoller did not show")
	}
	runtimeEpoll := fileID(pw[0], "epfd")
	if ctl := tl.where("epoll_ctl", func(s *event.Syscall) bool { return fileID(s, "epfd") != runtimeEpoll }); len(ctl) > 0 {
		t.Errorf("epoll_ctl on an epoll instance other than the runtime's:%s", brief(ctl))
	}
	acc := accepted(t, tl)
	if peer := object(acc, "upeer_sockaddr"); addrOf(peer) != "127.0.0.1" {
		t.Errorf("accept4's peer address = %v, want 127.0.0.1", peer)
	}
	reg := tl.first(t, "epoll_ctl", "of the accepted connection by the runtime", func(s *event.Syscall) bool {
		return str(s, "op") == "EPOLL_CTL_ADD" && fileID(s, "fd") == fileID(acc, "ret")
	})
	if m := eventMask(reg); !hasFlags(m, "EPOLLIN", "EPOLLET") {
		t.Errorf("the runtime registered the connection with %q, want EPOLLIN and EPOLLET", m)
	}
	checkRuntimeReady(t, tl, reg, acc.Ret)
	const msg = `hello, netpoller\n`
	w := tl.first(t, "write", "of the client's message", func(s *event.Syscall) bool { return bufData(s, "buf") == msg && s.Ret == 17 })
	client := fileID(w, "fd")
	tl.first(t, "read", "of the echo by the client", func(s *event.Syscall) bool {
		return fileID(s, "fd") == client && s.Ret == 17 && bufData(s, "buf") == msg
	})
	conn := tl.first(t, "connect", "of the client socket", func(s *event.Syscall) bool { return fileID(s, "fd") == client })
	if addr := object(conn, "uservaddr"); addrOf(addr) != "127.0.0.1" {
		t.Errorf("the client's connect (ret %d %s) has address %v, want 127.0.0.1", conn.Ret, conn.Errno, addr)
	}
}

// checkRuntimeReady: the runtime stores a tagged pointer to its pollDesc in epoll_data, not the
// fd; the waits that report that data name the connection through its registration.
func checkRuntimeReady(t *testing.T, tl timeline, reg *event.Syscall, fd int64) {
	t.Helper()
	data, ok := object(reg, "event").Int("data")
	if !ok || data == fd {
		t.Fatalf("the runtime's registration of fd %d has data %d (decoded: %v); want a pointer", fd, data, ok)
	}
	want := fmt.Sprintf("%d<socket:", fd)
	tag := fmt.Sprintf(" (data=%d)", uint64(data))
	waits := tl.where("epoll_pwait", func(s *event.Syscall) bool {
		return s.TS > reg.TS && slices.Contains(readyFds(s), data)
	})
	if len(waits) == 0 {
		t.Fatalf("no epoll_pwait after the registration reported its data %d", uint64(data))
	}
	for _, w := range waits {
		if !slices.ContainsFunc(w.Notes, func(n string) bool {
			i := strings.Index(n, want)
			return strings.HasPrefix(n, "ready: ") && i >= 0 && strings.Contains(n[i:], tag)
		}) {
			t.Errorf("a wait reporting data %d does not name fd %d with it: %q", uint64(data), fd, w.Notes)
		}
	}
}

// --- mmap ---

// ioCalls move data through a descriptor.
var ioCalls = []string{
	"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2",
	"sendfile64", "copy_file_range", "splice",
}

// namesFile reports whether any decoded descriptor of s names a path ending in one of suffixes.
func namesFile(s *event.Syscall, suffixes ...string) bool {
	for _, f := range s.Decoded {
		if p, ok := f.Val.(string); ok {
			for _, suf := range suffixes {
				if strings.HasSuffix(p, "/"+suf) {
					return true
				}
			}
		}
	}
	return false
}

// mmapOf returns the successful mmap of a variant's file.
func mmapOf(t *testing.T, tl timeline, file string) *event.Syscall {
	t.Helper()
	return tl.first(t, "mmap", "of "+file, func(s *event.Syscall) bool { return onFile(s, "fd", file) && s.Errno == "" })
}

// checkMmapCopy checks the article's copy: the source mapped PROT_READ/MAP_PRIVATE, the
// destination PROT_READ|PROT_WRITE/MAP_SHARED, and no read or write syscall on either file from
// the first mmap to the last munmap. It returns the source's mmap.
func checkMmapCopy(t *testing.T, tl timeline, variant string) *event.Syscall {
	t.Helper()
	srcFile, dstFile := variant+"/source.dat", variant+"/dest.dat"
	src, dst := mmapOf(t, tl, srcFile), mmapOf(t, tl, dstFile)
	if prot, flags := str(src, "prot"), str(src, "flags"); !sameFlags(prot, "PROT_READ") || !hasFlags(flags, "MAP_PRIVATE") {
		t.Errorf("the source is mapped %s, %s; want PROT_READ, MAP_PRIVATE", prot, flags)
	}
	if prot, flags := str(dst, "prot"), str(dst, "flags"); !sameFlags(prot, "PROT_READ", "PROT_WRITE") || !hasFlags(flags, "MAP_SHARED") {
		t.Errorf("the destination is mapped %s, %s; want PROT_READ|PROT_WRITE, MAP_SHARED", prot, flags)
	}
	from, until := min(src.TS, dst.TS), uint64(0)
	for _, m := range []*event.Syscall{src, dst} {
		u := tl.first(t, "munmap", fmt.Sprintf("of the mapping at %#x", m.Ret), func(s *event.Syscall) bool {
			return arg(s, "addr") == m.Ret && s.TS > m.TS
		})
		until = max(until, end(u))
		// The timeline says so at the munmap (DESIGN.md §5).
		lesson := "zero read()/write() calls on " + str(m, "fd") + " while it was mapped:"
		if !slices.ContainsFunc(u.Notes, func(n string) bool { return strings.HasPrefix(n, lesson) }) {
			t.Errorf("munmap of %s: notes %q lack one starting %q", str(m, "fd"), u.Notes, lesson)
		}
	}
	var moved []*event.Syscall
	for _, s := range tl.calls(ioCalls...) {
		if s.TS >= from && s.TS <= until && namesFile(s, srcFile, dstFile) {
			moved = append(moved, s)
		}
	}
	if len(moved) > 0 {
		t.Errorf("the copy goes through the mappings, yet syscalls moved data to or from the files:%s", brief(moved))
	}
	return src
}

func checkMmapCold(t *testing.T, r *run, tl timeline) {
	src := checkMmapCopy(t, tl, "cold")
	tl.first(t, r.names().fadvise, "POSIX_FADV_DONTNEED making the source cold before it is mapped", func(s *event.Syscall) bool {
		return onFile(s, "fd", "cold/source.dat") && str(s, "advice") == "POSIX_FADV_DONTNEED" && end(s) < src.TS
	})
}

func checkMmapWarm(t *testing.T, r *run, tl timeline) {
	src := checkMmapCopy(t, tl, "warm")
	tl.first(t, "fdatasync", "writing the source back before it is mapped", func(s *event.Syscall) bool {
		return onFile(s, "fd", "warm/source.dat") && end(s) < src.TS
	})
	if d := tl.where(r.names().fadvise, func(s *event.Syscall) bool { return onFile(s, "fd", "warm/source.dat") }); len(d) > 0 {
		t.Errorf("the warm source was advised away:%s", brief(d))
	}
}

func checkPopulate(t *testing.T, _ *run, tl timeline) {
	m := mmapOf(t, tl, "populate/source.dat")
	if flags := str(m, "flags"); !hasFlags(flags, "MAP_PRIVATE", "MAP_POPULATE") {
		t.Errorf("mmap flags = %s, want MAP_PRIVATE|MAP_POPULATE", flags)
	}
}

func checkCOW(t *testing.T, _ *run, tl timeline) {
	m := mmapOf(t, tl, "cow/private.dat")
	if prot, flags := str(m, "prot"), str(m, "flags"); !hasFlags(prot, "PROT_WRITE") || !hasFlags(flags, "MAP_PRIVATE") {
		t.Errorf("mapped %s, %s; want a writable MAP_PRIVATE mapping", prot, flags)
	}
	// The workload wrote 'X' through the mapping; the file must still hold its 'a'.
	p := tl.first(t, "pread64", "reading the file back", func(s *event.Syscall) bool {
		return onFile(s, "fd", "cow/private.dat") && s.TS > end(m)
	})
	if got := bufData(p, "buf"); got != "a" {
		t.Errorf("the file's first byte after the private write is %q, want %q", got, "a")
	}
}

func checkMsync(t *testing.T, _ *run, tl timeline) {
	m := mmapOf(t, tl, "msync/shared.dat")
	if prot, flags := str(m, "prot"), str(m, "flags"); !hasFlags(prot, "PROT_WRITE") || !hasFlags(flags, "MAP_SHARED") {
		t.Errorf("mapped %s, %s; want a writable MAP_SHARED mapping", prot, flags)
	}
	ms := tl.first(t, "msync", "of the shared mapping", func(s *event.Syscall) bool { return arg(s, "start") == m.Ret })
	if flags := str(ms, "flags"); !hasFlags(flags, "MS_SYNC") || ms.Ret != 0 || arg(ms, "len") != arg(m, "len") {
		t.Errorf("msync(len %d, %s) = %d %s; want the whole mapping (%d), MS_SYNC, 0", arg(ms, "len"), flags, ms.Ret, ms.Errno, arg(m, "len"))
	}
}

// --- fadvise ---

// advised returns the fadvise calls on a variant's file with the given advice.
func advised(r *run, tl timeline, file, advice string) []*event.Syscall {
	return tl.where(r.names().fadvise, func(s *event.Syscall) bool {
		return onFile(s, "fd", file) && str(s, "advice") == advice
	})
}

// readsAfter returns the successful read() calls through the open file id after the call after.
func readsAfter(tl timeline, id int64, after *event.Syscall) []*event.Syscall {
	return tl.where("read", func(s *event.Syscall) bool { return fileID(s, "fd") == id && s.TS > end(after) && s.Ret >= 0 })
}

var evictedCount = regexp.MustCompile(`evicted (\d+) of (\d+) pages`)

// checkEvictionNotes checks what the annotator says a DONTNEED evicted: it must name the
// advised file, and cannot evict more pages than there were.
func checkEvictionNotes(t *testing.T, r *run, tl timeline) {
	t.Helper()
	for _, s := range tl.where(r.names().fadvise, func(s *event.Syscall) bool { return str(s, "advice") == "POSIX_FADV_DONTNEED" }) {
		path := str(s, "fd")
		for _, note := range s.Notes {
			if !strings.HasPrefix(note, "DONTNEED evicted") {
				continue
			}
			if !strings.Contains(note, " of "+path) {
				t.Errorf("DONTNEED on %s has the note %q, which names another file", path, note)
			}
			if m := evictedCount.FindStringSubmatch(note); m != nil {
				if n, of := atoi(m[1]), atoi(m[2]); n > of {
					t.Errorf("DONTNEED on %s: note %q evicts more pages than there were", path, note)
				}
			}
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func checkFadviseCopy(t *testing.T, r *run, tl timeline) {
	seq := advised(r, tl, "copy/source.txt", "POSIX_FADV_SEQUENTIAL")
	if len(seq) != 1 {
		t.Fatalf("want one POSIX_FADV_SEQUENTIAL on the source, got:%s", brief(seq))
	}
	src := fileID(seq[0], "fd")
	reads := readsAfter(tl, src, seq[0])
	if len(reads) == 0 {
		t.Fatal("no read of the source after POSIX_FADV_SEQUENTIAL")
	}
	if early := tl.where("read", func(s *event.Syscall) bool { return fileID(s, "fd") == src && s.TS < seq[0].TS }); len(early) > 0 {
		t.Errorf("the source was read before the advice:%s", brief(early))
	}
	last := reads[len(reads)-1]
	tl.first(t, r.names().fadvise, "POSIX_FADV_DONTNEED on the source after its last read", func(s *event.Syscall) bool {
		return fileID(s, "fd") == src && str(s, "advice") == "POSIX_FADV_DONTNEED" && s.TS > end(last)
	})
	if d := advised(r, tl, "copy/dest.txt", "POSIX_FADV_DONTNEED"); len(d) == 0 {
		t.Error("no POSIX_FADV_DONTNEED on the destination")
	}
	read := transferred(tl, src, func(*event.Syscall) bool { return true }, "read")
	dst := tl.first(t, "write", "to the destination", func(s *event.Syscall) bool { return onFile(s, "fd", "copy/dest.txt") })
	if written := transferred(tl, fileID(dst, "fd"), func(*event.Syscall) bool { return true }, "write"); read == 0 || read != written {
		t.Errorf("read %d bytes from the source and wrote %d to the destination; want the same", read, written)
	}
	checkEvictionNotes(t, r, tl)
}

func checkWillneed(t *testing.T, r *run, tl timeline) {
	wn := advised(r, tl, "willneed/willneed.dat", "POSIX_FADV_WILLNEED")
	if len(wn) != 1 {
		t.Fatalf("want one POSIX_FADV_WILLNEED, got:%s", brief(wn))
	}
	id := fileID(wn[0], "fd")
	all := tl.where("read", func(s *event.Syscall) bool { return fileID(s, "fd") == id })
	if len(all) == 0 {
		t.Fatal("no read of the advised file")
	}
	if all[0].TS < end(wn[0]) {
		t.Errorf("the first read (at %d) came before WILLNEED returned (at %d)", all[0].TS, end(wn[0]))
	}
}

func checkRandomVsSeq(t *testing.T, r *run, tl timeline) {
	var ids []int64
	for _, advice := range []string{"POSIX_FADV_RANDOM", "POSIX_FADV_SEQUENTIAL"} {
		a := advised(r, tl, "random-vs-seq/advice.dat", advice)
		if len(a) != 1 {
			t.Errorf("want one %s on advice.dat, got:%s", advice, brief(a))
			continue
		}
		id := fileID(a[0], "fd")
		if len(readsAfter(tl, id, a[0])) == 0 {
			t.Errorf("no read of advice.dat after %s", advice)
		}
		ids = append(ids, id)
	}
	// Advice belongs to the open file description: each pass opens the file afresh.
	if len(ids) == 2 && ids[0] == ids[1] {
		t.Errorf("both advices went to open file #%d; want one open per pass", ids[0])
	}
}

func checkDontneedDirty(t *testing.T, r *run, tl timeline) {
	d := advised(r, tl, "dontneed-dirty/dirty.dat", "POSIX_FADV_DONTNEED")
	if len(d) != 2 || fileID(d[0], "fd") != fileID(d[1], "fd") {
		t.Fatalf("want two POSIX_FADV_DONTNEED on one open dirty.dat, got:%s", brief(d))
	}
	tl.first(t, "fdatasync", "of dirty.dat between the two DONTNEEDs", func(s *event.Syscall) bool {
		return fileID(s, "fd") == fileID(d[0], "fd") && s.TS > end(d[0]) && end(s) < d[1].TS
	})
	checkEvictionNotes(t, r, tl)
}

// --- aio ---

const aioBlock = 4096 // the workload's request size

// checkNativeAIO checks io_setup, the io_submit of preads of the variant's aio.dat and the
// completions io_getevents collects. It returns io_submit and the io_getevents calls after it.
func checkNativeAIO(t *testing.T, tl timeline, variant string) (*event.Syscall, []*event.Syscall) {
	t.Helper()
	open := tl.first(t, "openat", "of aio.dat for the reads", func(s *event.Syscall) bool {
		return onFile(s, "ret", variant+"/aio.dat") && !hasFlags(str(s, "flags"), "O_CREAT")
	})
	tl.first(t, "io_setup", "creating the AIO context", func(s *event.Syscall) bool { return s.Ret == 0 })
	sub := tl.first(t, "io_submit", "of the reads", func(s *event.Syscall) bool { return s.Ret > 0 })
	cbs := objects(sub, "iocbpp")
	if int64(len(cbs)) != sub.Ret || arg(sub, "nr") != sub.Ret {
		t.Errorf("io_submit(nr %d) = %d with %d decoded iocbs; want all submitted and decoded", arg(sub, "nr"), sub.Ret, len(cbs))
	}
	nbytes := map[int64]int64{} // by aio_data
	for _, cb := range cbs {
		op, _ := cb.Str("opcode")
		fd, _ := cb.Int("fd")
		n, _ := cb.Int("nbytes")
		data, _ := cb.Int("data")
		if op != "IOCB_CMD_PREAD" || fd != open.Ret || n != aioBlock {
			t.Errorf("iocb %v: want IOCB_CMD_PREAD of %d bytes on fd %d", cb, aioBlock, open.Ret)
		}
		nbytes[data] = n
	}
	gets := tl.where("io_getevents", func(s *event.Syscall) bool { return s.TS > end(sub) })
	done := 0
	for _, g := range gets {
		for _, ev := range objects(g, "events") {
			data, _ := ev.Int("data")
			res, _ := ev.Int("res")
			if want, ok := nbytes[data]; !ok || res != want {
				t.Errorf("io_event %v: want res equal to its iocb's nbytes (%d)", ev, want)
			}
			done++
		}
	}
	if int64(done) != sub.Ret {
		t.Errorf("io_getevents collected %d events for %d submitted reads:%s", done, sub.Ret, brief(gets))
	}
	return sub, gets
}

func checkNative(t *testing.T, _ *run, tl timeline) {
	sub, gets := checkNativeAIO(t, tl, "native")
	// Buffered AIO reads run inside io_submit: the zero-timeout peek right after finds them all.
	if len(gets) == 0 || arg(gets[0], "min_nr") != 0 || gets[0].Ret != sub.Ret {
		t.Errorf("the first io_getevents after io_submit should be the peek (min_nr 0) finding all %d reads done:%s", sub.Ret, brief(gets))
	}
}

func checkNativeDirect(t *testing.T, r *run, tl timeline) {
	if r.narrated("aio/native-direct", regexp.MustCompile(`refuses O_DIRECT`)) != nil {
		tl.first(t, "openat", "with O_DIRECT failing with EINVAL", func(s *event.Syscall) bool {
			return hasFlags(str(s, "flags"), "O_DIRECT") && s.Errno == "EINVAL"
		})
		t.Skip("this filesystem refuses O_DIRECT; the workload said so and the open's EINVAL is in the trace")
	}
	tl.first(t, "openat", "of aio.dat with O_DIRECT", func(s *event.Syscall) bool {
		return onFile(s, "ret", "native-direct/aio.dat") && hasFlags(str(s, "flags"), "O_DIRECT")
	})
	sub, gets := checkNativeAIO(t, tl, "native-direct")
	// io_submit returned before the reads were done: a later io_getevents finds them.
	i := slices.IndexFunc(gets, func(g *event.Syscall) bool { return g.Ret > 0 })
	if i < 0 {
		t.Fatal("no io_getevents found the reads")
	}
	if g := gets[i]; g.TS < end(sub) || end(sub) >= end(g) {
		t.Errorf("io_submit ran %d–%d and the io_getevents that found the reads %d–%d; want the wait after io_submit returned",
			sub.TS, end(sub), g.TS, end(g))
	}
}

// uringRefused matches the narration of a kernel that will not set the ring up.
var uringRefused = regexp.MustCompile(`not available here: io_uring_setup = (E[A-Z0-9]+)`)

// uringSetup returns the variant's io_uring_setup, or nil when the workload said the kernel
// refused it, after checking that the trace shows that refusal.
func uringSetup(t *testing.T, r *run, tl timeline, variant string) *event.Syscall {
	t.Helper()
	if m := r.narrated("aio/"+variant, uringRefused); m != nil {
		tl.first(t, "io_uring_setup", "failing with "+m[1], func(s *event.Syscall) bool { return s.Errno == m[1] })
		return nil
	}
	return tl.first(t, "io_uring_setup", "creating the ring", func(s *event.Syscall) bool { return s.Ret >= 0 })
}

func checkUring(t *testing.T, r *run, tl timeline) {
	setup := uringSetup(t, r, tl, "uring")
	if setup == nil {
		return
	}
	ring := fileID(setup, "ret")
	enters := tl.where("io_uring_enter", func(s *event.Syscall) bool { return fileID(s, "fd") == ring && arg(s, "to_submit") > 0 })
	if len(enters) < 2 {
		t.Fatalf("want an io_uring_enter per batch (writes, then reads), got:%s", brief(enters))
	}
	for _, e := range enters {
		if e.Ret != arg(e, "to_submit") || !hasFlags(str(e, "flags"), "IORING_ENTER_GETEVENTS") {
			t.Errorf("io_uring_enter(to_submit %d, %s) = %d %s; want every SQE submitted and waited for",
				arg(e, "to_submit"), str(e, "flags"), e.Ret, e.Errno)
		}
	}
}

func checkSQPoll(t *testing.T, r *run, tl timeline) {
	setup := uringSetup(t, r, tl, "sqpoll")
	if setup == nil {
		return
	}
	if flags, _ := object(setup, "params").Str("flags"); !hasFlags(flags, "IORING_SETUP_SQPOLL") {
		t.Errorf("io_uring_setup flags = %q, want IORING_SETUP_SQPOLL", flags)
	}
	if r.narrated("aio/sqpoll", regexp.MustCompile(`needs registered files`)) != nil {
		return // the workload stops after the setup on such kernels
	}
	ring := fileID(setup, "ret")
	if subs := tl.where("io_uring_enter", func(s *event.Syscall) bool { return fileID(s, "fd") == ring && arg(s, "to_submit") > 0 }); len(subs) > 0 {
		t.Errorf("with SQPOLL the kernel's poller submits, yet io_uring_enter submitted:%s", brief(subs))
	}
	if r.narrated("aio/sqpoll", regexp.MustCompile(`\d+ reads of \d+ bytes from the cold file completed`)) == nil {
		t.Errorf("the workload did not report its reads complete; narration: %q", r.narration("aio/sqpoll"))
	}
}

func checkGoroutinePread(t *testing.T, r *run, tl timeline) {
	const prefix = "aio/goroutine-pread"
	caller := r.narrated(prefix, regexp.MustCompile(`caller on tid (\d+)`))
	reader := r.narrated(prefix, regexp.MustCompile(`pread64 on tid (\d+) read (\d+) bytes`))
	if caller == nil || reader == nil {
		t.Fatalf("the narration lacks the tids: %q", r.narration(prefix))
	}
	p := tl.first(t, "pread64", "of testfile.txt", func(s *event.Syscall) bool { return onFile(s, "fd", "goroutine-pread/testfile.txt") })
	if tid := strconv.Itoa(int(p.TID)); tid != reader[1] || tid == caller[1] {
		t.Errorf("pread64 ran on tid %s; the workload says tid %s read and tid %s called", tid, reader[1], caller[1])
	}
	if strconv.FormatInt(p.Ret, 10) != reader[2] || !strings.HasPrefix(bufData(p, "buf"), "Asynchronous I/O") {
		t.Errorf("pread64 = %d with %q; want %s bytes of the article's text", p.Ret, bufData(p, "buf"), reader[2])
	}
}

// --- dup ---

func checkDupStdout(t *testing.T, _ *run, tl timeline) {
	d := tl.first(t, "dup", "of fd 1", func(s *event.Syscall) bool { return arg(s, "fildes") == 1 && s.Ret > 1 })
	if fileID(d, "ret") != fileID(d, "fildes") || fileID(d, "ret") < 0 {
		t.Errorf("dup(1) = %d: open files #%d and #%d, want one", d.Ret, fileID(d, "fildes"), fileID(d, "ret"))
	}
	c := tl.first(t, "close", "of fd 1 after the dup", func(s *event.Syscall) bool { return arg(s, "fd") == 1 && s.TS > end(d) && s.Ret == 0 })
	w := tl.first(t, "write", "through the duplicate after close(1)", func(s *event.Syscall) bool { return arg(s, "fd") == d.Ret && s.TS > end(c) })
	if got := bufData(w, "buf"); got != `Hello World\n` || w.Ret != 12 {
		t.Errorf("write(%d) = %d with %q, want 12 bytes of Hello World", d.Ret, w.Ret, got)
	}
}

func checkDup2File(t *testing.T, r *run, tl timeline) {
	name := r.names().dup2
	d := tl.first(t, name, "of output.txt onto fd 1", func(s *event.Syscall) bool {
		return arg(s, "newfd") == 1 && onFile(s, "ret", "dup2-file/output.txt")
	})
	w := tl.first(t, "write", "to fd 1 after the "+name, func(s *event.Syscall) bool { return arg(s, "fd") == 1 && s.TS > end(d) })
	if !onFile(w, "fd", "dup2-file/output.txt") || bufData(w, "buf") != `This will go to output.txt\n` {
		t.Errorf("write(1) went to %q with %q; want output.txt and the article's line", str(w, "fd"), bufData(w, "buf"))
	}
}

func checkSharedOffset(t *testing.T, _ *run, tl timeline) {
	d := tl.first(t, "dup", "of shared.txt", func(s *event.Syscall) bool { return onFile(s, "fildes", "shared-offset/shared.txt") && s.Ret >= 0 })
	a, b := arg(d, "fildes"), d.Ret
	if fileID(d, "ret") != fileID(d, "fildes") {
		t.Errorf("fd %d and its dup %d are open files #%d and #%d, want one", a, b, fileID(d, "fildes"), fileID(d, "ret"))
	}
	w := tl.first(t, "write", fmt.Sprintf("through fd %d", a), func(s *event.Syscall) bool { return arg(s, "fd") == a && s.Ret > 0 && s.TS > end(d) })
	seek := func(fd int64) *event.Syscall {
		return tl.first(t, "lseek", fmt.Sprintf("of fd %d after the write", fd), func(s *event.Syscall) bool { return arg(s, "fd") == fd && s.TS > end(w) })
	}
	sa, sb := seek(a), seek(b)
	if sa.Ret != w.Ret || sb.Ret != w.Ret || fileID(sa, "fd") != fileID(sb, "fd") {
		t.Errorf("after writing %d bytes through fd %d: lseek(%d) = %d on #%d, lseek(%d) = %d on #%d; want one offset on one open file",
			w.Ret, a, a, sa.Ret, fileID(sa, "fd"), b, sb.Ret, fileID(sb, "fd"))
	}
	set := tl.first(t, "fcntl", fmt.Sprintf("F_SETFL O_APPEND on fd %d", b), func(s *event.Syscall) bool {
		return arg(s, "fd") == b && str(s, "cmd") == "F_SETFL" && hasFlags(str(s, "arg"), "O_APPEND")
	})
	get := tl.first(t, "fcntl", fmt.Sprintf("F_GETFL on fd %d after it", a), func(s *event.Syscall) bool {
		return arg(s, "fd") == a && str(s, "cmd") == "F_GETFL" && s.TS > end(set)
	})
	if get.Ret&unix.O_APPEND == 0 {
		t.Errorf("F_GETFL on fd %d = %#o after O_APPEND was set through fd %d; status flags are shared", a, get.Ret, b)
	}
}

var cloexecClosed = regexp.MustCompile(`^close-on-exec closed fds? ([0-9, ]+)$`)

func checkCloexecExec(t *testing.T, r *run, tl timeline) {
	d3 := tl.first(t, "dup3", "with O_CLOEXEC", func(s *event.Syscall) bool { return hasFlags(str(s, "flags"), "O_CLOEXEC") && s.Ret >= 0 })
	d2 := tl.first(t, r.names().dup2, "the plain duplicate", func(s *event.Syscall) bool {
		return s.PID == d3.PID && s.TS > end(d3) && arg(s, "oldfd") == arg(d3, "oldfd") && !hasFlags(str(s, "flags"), "O_CLOEXEC")
	})
	closed, kept := d3.Ret, d2.Ret

	var child uint32
	for _, e := range tl {
		if p, ok := e.(*event.Process); ok && p.Name == "fork" && p.PID == d3.PID && !p.Thread && p.TS > end(d2) {
			child = p.ChildPID
			break
		}
	}
	if child == 0 {
		t.Fatal("no fork of a child process after the dups")
	}
	exec := tl.first(t, "execve", "of /bin/sh in the child", func(s *event.Syscall) bool { return s.PID == child && s.Ret == 0 })
	var listed []int64
	for _, note := range exec.Notes {
		if m := cloexecClosed.FindStringSubmatch(note); m != nil {
			for _, f := range strings.Split(m[1], ",") {
				listed = append(listed, int64(atoi(strings.TrimSpace(f))))
			}
		}
	}
	if !slices.Contains(listed, closed) || slices.Contains(listed, kept) {
		t.Errorf("execve's notes %q: want a close-on-exec note listing fd %d and not fd %d", exec.Notes, closed, kept)
	}
	stat := func(fd int64) *event.Syscall {
		path := fmt.Sprintf("/proc/self/fd/%d", fd)
		got := tl.all(func(s *event.Syscall) bool {
			return s.PID == child && strings.Contains(s.Name, "stat") && (str(s, "filename") == path || str(s, "pathname") == path)
		})
		if len(got) == 0 {
			t.Fatalf("the child shell never stat'ed %s", path)
		}
		return got[0]
	}
	if s := stat(closed); s.Errno != "ENOENT" {
		t.Errorf("the child's %s of the close-on-exec fd %d: ret %d %s, want ENOENT", s.Name, closed, s.Ret, s.Errno)
	}
	if s := stat(kept); s.Ret != 0 {
		t.Errorf("the child's %s of the plain duplicate fd %d: ret %d %s, want 0", s.Name, kept, s.Ret, s.Errno)
	}
}

func checkDup2Close(t *testing.T, r *run, tl timeline) {
	name := r.names().dup2
	open := tl.first(t, "openat", "of b.txt", func(s *event.Syscall) bool { return onFile(s, "ret", "dup2-close/b.txt") })
	d := tl.first(t, name, "onto the open b.txt", func(s *event.Syscall) bool { return onFile(s, "newfd", "dup2-close/b.txt") })
	b := arg(d, "newfd")
	want := fmt.Sprintf("fd %d (%s) was open: %s closed it silently", b, str(d, "newfd"), name)
	if !slices.Contains(d.Notes, want) {
		t.Errorf("%s's notes %q lack %q", name, d.Notes, want)
	}
	if c := tl.where("close", func(s *event.Syscall) bool { return arg(s, "fd") == b && s.TS > open.TS && s.TS < d.TS }); len(c) > 0 {
		t.Errorf("fd %d was closed explicitly before the %s:%s", b, name, brief(c))
	}
	w := tl.first(t, "write", fmt.Sprintf("through fd %d after the %s", b, name), func(s *event.Syscall) bool { return arg(s, "fd") == b && s.TS > end(d) })
	if !onFile(w, "fd", "dup2-close/a.txt") {
		t.Errorf("the write through fd %d after the %s went to %q, want a.txt", b, name, str(w, "fd"))
	}
}

// --- poll against epoll, and the CLI around the workloads ---

// TestPollVsEpoll runs the variant over 100 and 1000 pipes: poll() checks every descriptor on
// every call, so its duration grows with the count, while epoll_wait only reads its ready list.
// These are kernel facts, so the margin is wide (3×). The test is not parallel: it compares
// durations, and runs alone after TestWorkloads. Its runs keep the default narrowed syscall set.
func TestPollVsEpoll(t *testing.T) {
	if testutil.Timeout(1) > 1 {
		// an emulated guest (the run on another kernel): its timings are noise of the emulation,
		// so this comparison of durations runs on the host, where CI runs it too
		t.Skip("durations in an emulated guest do not measure the kernel: compared on the host run")
	}
	// Each run makes one call of each; the median of three runs per count keeps one interrupted
	// microsecond-long epoll wait from deciding the result.
	const small, large, runs = 100, 1000, 3
	type durations struct{ poll, wait uint64 }
	got := map[int]durations{}
	for _, count := range []int{small, large} {
		var polls, waits []uint64
		for range runs {
			r := traceRun(t, "epoll", "--variant", "poll-vs-epoll", "--count", strconv.Itoa(count))
			checkNarrowed(t, r)
			tl, n := r.workload(), r.names()
			p := tl.where(n.poll, func(s *event.Syscall) bool { return arg(s, "nfds") == int64(count) && s.Ret == 1 })
			ep, _ := epollWithAdds(t, tl, count)
			w := tl.where(n.epollWait, func(s *event.Syscall) bool { return fileID(s, "epfd") == ep && s.Ret == 1 })
			if len(p) != 1 || len(w) != 1 {
				t.Fatalf("--count %d: want one %s over %d fds and one %s on their epoll instance, each finding one ready; got %d and %d",
					count, n.poll, count, n.epollWait, len(p), len(w))
			}
			polls, waits = append(polls, p[0].Dur), append(waits, w[0].Dur)
		}
		got[count] = durations{median(polls), median(waits)}
	}
	pollGrowth := float64(got[large].poll) / float64(got[small].poll)
	waitGrowth := float64(got[large].wait) / float64(got[small].wait)
	t.Logf("poll: %d ns over %d fds, %d ns over %d (%.1f×); epoll wait: %d ns, %d ns (%.1f×)",
		got[small].poll, small, got[large].poll, large, pollGrowth, got[small].wait, got[large].wait, waitGrowth)
	// poll scans every fd: the 900 more add time; epoll_wait reads a ready list: they add
	// (next to) none. Judged on the time added, not the ratio alone: under emulation (the run on
	// another kernel) a call's fixed cost is large and flattens the ratios.
	pollAdded := int64(got[large].poll) - int64(got[small].poll)
	waitAdded := max(int64(got[large].wait)-int64(got[small].wait), 0)
	if pollGrowth < 1.5 || pollAdded <= 10*waitAdded || waitGrowth >= 3 {
		t.Errorf("with 10× the fds poll took %.1f× as long (+%d ns) and the epoll wait %.1f× (+%d ns); want poll ≥ 1.5× adding over 10× what epoll_wait adds, and epoll_wait < 3×",
			pollGrowth, pollAdded, waitGrowth, waitAdded)
	}
}

// checkNarrowed checks that a run without --all shows only the syscalls its header's filter names.
func checkNarrowed(t *testing.T, r *run) {
	t.Helper()
	names, ok := strings.CutPrefix(r.header.Filter, "trace=")
	if !ok {
		t.Fatalf("header filter = %q, want the workload's trace= set", r.header.Filter)
	}
	allowed := strings.Split(names, ",")
	for _, s := range calls(r.events) {
		if !slices.Contains(allowed, s.Name) {
			t.Errorf("%s is outside the run's filter %q", s.Name, r.header.Filter)
			return
		}
	}
}

// iotrace runs the binary with args, without BPF, and returns stdout, stderr and the exit code.
func iotrace(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	t.Fatalf("run %s: %v", cmd, err)
	return "", "", 0
}

func TestList(t *testing.T) {
	out, errOut, code := iotrace(t, exec.Command(testutil.Binary(t), "list"))
	if code != 0 {
		t.Fatalf("iotrace list: exit %d, stderr %q", code, errOut)
	}
	fields := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			fields[f[0]] = true
		}
	}
	for _, w := range catalog.All() {
		for _, name := range append([]string{w.Name}, w.VariantNames()...) {
			if !fields[name] {
				t.Errorf("iotrace list does not list %s:\n%s", name, out)
			}
		}
	}
}

func TestRunUnknownWorkload(t *testing.T) {
	out, errOut, code := iotrace(t, exec.Command(testutil.Binary(t), "run", "nosuch"))
	if code != 2 || out != "" {
		t.Errorf("iotrace run nosuch: exit %d, stdout %q; want exit 2 and nothing on stdout", code, out)
	}
	first, _, _ := strings.Cut(errOut, "\n")
	if !strings.Contains(first, `"nosuch"`) || strings.Count(strings.TrimSuffix(first, "."), ". ") > 0 {
		t.Errorf("the error's first line %q should be one sentence naming nosuch", first)
	}
	for _, w := range catalog.All() {
		if !strings.Contains(first, w.Name) {
			t.Errorf("the error %q does not list the valid workload %s", first, w.Name)
		}
	}
}

// TestRunNoTrace runs a workload untraced, as an unprivileged user when the tests run as root:
// --no-trace must need no BPF and print only the narration.
func TestRunNoTrace(t *testing.T) {
	bin := testutil.Binary(t)
	cmd := exec.Command(bin, "run", "vectored", "--variant", "writev", "--no-trace")
	if os.Geteuid() == 0 {
		// A copy the user nobody may execute, and a TMPDIR it may write to.
		dir, err := os.MkdirTemp("", "iotrace-e2e-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		tmp := filepath.Join(dir, "tmp")
		if err := os.Mkdir(tmp, 0o777); err != nil {
			t.Fatal(err)
		}
		for path, mode := range map[string]os.FileMode{dir: 0o755, tmp: 0o777 | os.ModeSticky} {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(dir, "iotrace")
		if err := os.WriteFile(copied, data, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(copied, cmd.Args[1:]...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/", "TMPDIR=" + tmp}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out, errOut, code := iotrace(t, cmd)
	if code != 0 {
		t.Fatalf("iotrace run --no-trace: exit %d, stderr %q", code, errOut)
	}
	if want := "vectored/writev: wrote 38 bytes with 1 writev of 4 iovecs (8+11+11+8)\n"; out != want {
		t.Errorf("stdout = %q, want only the narration %q", out, want)
	}
}
