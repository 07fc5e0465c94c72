package e2e

// The kernel facts DESIGN.md §5 promises, asserted from real traced runs of the built-in
// workloads: what the kernel did, attributed to the call that caused it, and the notes that say
// so. Every test runs as root (testutil.RequireBPF) and reads the run back from its recording.

import (
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/probe"
	"github.com/iotrace/iotrace/internal/tracefs"
)

var (
	kSizeArg    = fmt.Sprint(kFileSize)
	kFadvise    = []string{"fadvise64", "fadvise64_64"}
	kDontneedRe = regexp.MustCompile(`^DONTNEED evicted (\d+|nothing)(?: of (\d+) pages)?`)
	kDirtyRe    = regexp.MustCompile(`; (\d+) pages? left: (\d+) under writeback \(this call started it`)
)

// kDontneedCalls returns the DONTNEED calls on the file whose path ends in name.
func (tr *kTrace) kDontneedCalls(name string) []*event.Syscall {
	var out []*event.Syscall
	for _, s := range tr.kSyscalls(kFadvise...) {
		if kAdvice(s) == "POSIX_FADV_DONTNEED" && strings.HasSuffix(kFDPath(s), "/"+name) && !s.Failed() {
			out = append(out, s)
		}
	}
	return out
}

// kCheckDontneedNote checks the note of a DONTNEED call against the evictions it caused: those
// within the file, and apart those past its end (5.15 caches a page on a read at EOF).
func kCheckDontneedNote(t *testing.T, s *event.Syscall, ev []*event.Kernel) {
	t.Helper()
	past := kPagesFrom(ev, kFilePages)
	evicted := kPages(ev) - past
	pastRe := regexp.MustCompile(fmt.Sprintf(`, and %d pages? past its end`, past))
	if past > 0 && !pastRe.MatchString(strings.Join(s.Notes, "\n")) {
		t.Errorf("DONTNEED (seq %d) evicted %d pages past the end of the file; its notes do not say so: %q", s.Seq, past, s.Notes)
	}
	m, ok := kNote(s, kDontneedRe)
	if !ok {
		t.Errorf("fadvise64 DONTNEED (seq %d) has no \"DONTNEED evicted N of M pages\" note; notes: %q", s.Seq, s.Notes)
		return
	}
	n := int64(0)
	if m[1] != "nothing" {
		n = kAtoi(t, m[1])
	}
	if n != evicted {
		t.Errorf("note %q says %d pages evicted; the trace has %d (sum of 1<<order over the evictions it caused)", m[0], n, evicted)
	}
	if n > 0 && m[2] == "" {
		t.Errorf("note %q does not say how many pages the file has (want \"of %d pages\")", m[0], kFilePages)
	} else if m[2] != "" && kAtoi(t, m[2]) != kFilePages {
		t.Errorf("note %q: the file has %d pages (%d bytes), the note says %s", m[0], kFilePages, kFileSize, m[2])
	}
}

// DONTNEED on a clean cached file evicts all of it, and the note says how much.
func TestKernelDontneedClean(t *testing.T) {
	tr := kRun(t, "run", "fadvise", "--variant", "copy", "--all", "--size", kSizeArg)
	calls := tr.kDontneedCalls("source.txt")
	if len(calls) == 0 {
		t.Fatal("no fadvise64(DONTNEED) on source.txt")
	}
	// The last one is the article's, after the copy read the whole source into the cache.
	s := calls[len(calls)-1]
	ev := tr.kCaused(s.Seq, "mm_filemap_delete_from_page_cache")
	if got := kPages(ev); got < kFilePages {
		t.Errorf("DONTNEED on the clean, cached source evicted %d pages, want at least the file's %d\n%s", got, kFilePages, kSummary(ev))
	}
	kCheckDontneedNote(t, s, ev)
}

// DONTNEED on dirty pages evicts fewer than the file has; after fdatasync it evicts them all.
func TestKernelDontneedDirty(t *testing.T) {
	tr := kRun(t, "run", "fadvise", "--variant", "dontneed-dirty", "--all", "--size", kSizeArg)
	calls := tr.kDontneedCalls("dirty.dat")
	syncs := tr.kSyscalls("fdatasync")
	if len(calls) != 2 || len(syncs) == 0 {
		t.Fatalf("want DONTNEED, fdatasync, DONTNEED on dirty.dat; got %d DONTNEED and %d fdatasync calls", len(calls), len(syncs))
	}
	dirty, clean := calls[0], calls[1]
	if !(dirty.TS < syncs[len(syncs)-1].TS && syncs[len(syncs)-1].TS < clean.TS) {
		t.Fatalf("calls out of order: DONTNEED at %d, fdatasync at %d, DONTNEED at %d", dirty.TS, syncs[len(syncs)-1].TS, clean.TS)
	}

	ev := tr.kCaused(dirty.Seq, "mm_filemap_delete_from_page_cache")
	n := kPages(ev) - kPagesFrom(ev, kFilePages)
	if n >= kFilePages {
		t.Errorf("DONTNEED on dirty pages evicted %d pages; dirty pages must stay (want fewer than %d)", n, kFilePages)
	}
	kCheckDontneedNote(t, dirty, ev)
	// Every page the call left was dirty when it was made (the file had just been written), and
	// the call started their writeback: its block write requests show it.
	if m, ok := kNote(dirty, kDirtyRe); !ok {
		t.Errorf("DONTNEED on dirty pages: no \"N pages left: N under writeback (this call started it\" note; notes: %q", dirty.Notes)
	} else if got := kAtoi(t, m[1]); got != kFilePages-n || kAtoi(t, m[2]) != got {
		t.Errorf("notes %q: %d pages were dirty and stayed (%d of %d evicted), all under the writeback the call started", dirty.Notes, kFilePages-n, n, kFilePages)
	}

	ev = tr.kCaused(clean.Seq, "mm_filemap_delete_from_page_cache")
	if got := kPages(ev); got < kFilePages {
		t.Errorf("DONTNEED after fdatasync evicted %d pages, want at least the file's %d", got, kFilePages)
	}
	kCheckDontneedNote(t, clean, ev)
}

// WILLNEED reads the file into the cache inside the call, before the first read().
func TestKernelWillneed(t *testing.T) {
	tr := kRun(t, "run", "fadvise", "--variant", "willneed", "--all", "--size", kSizeArg)
	var will *event.Syscall
	for _, s := range tr.kSyscalls(kFadvise...) {
		if kAdvice(s) == "POSIX_FADV_WILLNEED" && strings.HasSuffix(kFDPath(s), "/willneed.dat") {
			will = s
		}
	}
	if will == nil {
		t.Fatal("no fadvise64(WILLNEED) on willneed.dat")
	}
	id, ok := kFDFile(will)
	if !ok {
		t.Fatalf("fadvise64(WILLNEED) has no fd_file: %v", will.Decoded)
	}
	var firstRead *event.Syscall
	for _, s := range tr.kSyscalls("read") {
		if f, _ := kFDFile(s); f == id && s.TS > will.TS {
			firstRead = s
			break
		}
	}
	if firstRead == nil {
		t.Fatal("no read() of the advised file after WILLNEED")
	}
	added := tr.kCaused(will.Seq, "mm_filemap_add_to_page_cache")
	idx := kIndexes(added)
	for i := range int64(kFilePages) {
		if !idx[i] {
			t.Errorf("page %d of the file was not added to the cache by WILLNEED (%d pages added)\n%s", i, kPages(added), kSummary(added))
			break
		}
	}
	for _, k := range added {
		if k.TS >= firstRead.TS || k.TS < will.TS || k.TS > kEnd(will) {
			t.Errorf("page-cache fill at %d attributed to WILLNEED [%d, %d] is not inside it, before the first read at %d", k.TS, will.TS, kEnd(will), firstRead.TS)
		}
	}
}

// The cold mmap copy fills the cache through page faults in the source mapping, with no read()
// or write() on either file.
func TestKernelMmapCold(t *testing.T) {
	tr := kRun(t, "run", "mmap", "--variant", "cold", "--all", "--size", kSizeArg)
	var src, dst *event.Syscall
	for _, s := range tr.kSyscalls("mmap") {
		switch {
		case strings.HasSuffix(kFDPath(s), "/source.dat"):
			src = s
		case strings.HasSuffix(kFDPath(s), "/dest.dat"):
			dst = s
		}
	}
	if src == nil || dst == nil {
		t.Fatal("no mmap of source.dat and dest.dat")
	}
	srcPath, dstPath := kFDPath(src), kFDPath(dst)
	var unmapped uint64 // the end of the copy: the first munmap after both mappings
	for _, s := range tr.kSyscalls("munmap") {
		if s.TS > dst.TS {
			unmapped = s.TS
			break
		}
	}
	if unmapped == 0 {
		t.Fatal("no munmap after the copy")
	}
	rw := []string{"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2"}
	for _, s := range tr.kSyscalls(rw...) {
		if p := kFDPath(s); s.TS > src.TS && s.TS < unmapped && (p == srcPath || p == dstPath) {
			t.Errorf("%s on %s during the mmap copy (seq %d): the copy must move no bytes through read/write", s.Name, p, s.Seq)
		}
	}

	// The source's inode: what the workload's own DONTNEED on it evicted.
	var ino int64 = -1
	for _, s := range tr.kDontneedCalls("source.dat") {
		if ev := tr.kCaused(s.Seq, "mm_filemap_delete_from_page_cache"); len(ev) > 0 && s.TS < src.TS {
			ino, _ = ev[0].Args.Int("i_ino")
		}
	}
	if ino < 0 {
		t.Fatal("the source was never evicted before the copy: it is not cold")
	}
	var fills int
	for _, k := range tr.kKernel("mm_filemap_add_to_page_cache") {
		if i, _ := k.Args.Int("i_ino"); i == ino && k.TS > kEnd(src) && k.TS < unmapped {
			fills++
		}
	}
	if fills == 0 {
		t.Errorf("no page-cache fill of the cold source (inode %d) during the copy", ino)
	}
	// user faults: exceptions:page_fault_user on x86, the software perf event elsewhere (arm64)
	var faults int
	for _, k := range tr.kKernel("page_fault_user", "page-faults") {
		if m, _ := k.Args.Str("mapping"); m == srcPath && k.TS > kEnd(src) && k.TS < unmapped {
			faults++
		}
	}
	if faults == 0 {
		t.Errorf("no user page fault with mapping=%s during the copy", srcPath)
	}
}

// MAP_POPULATE does the faulting inside mmap: nothing faults in that mapping afterwards.
func TestKernelMmapPopulate(t *testing.T) {
	tr := kRun(t, "run", "mmap", "--variant", "populate", "--all", "--size", kSizeArg)
	var pop *event.Syscall
	for _, s := range tr.kSyscalls("mmap") {
		if flags, _ := s.Decoded.Str("flags"); strings.Contains(flags, "MAP_POPULATE") && strings.HasSuffix(kFDPath(s), "/source.dat") {
			pop = s
		}
	}
	if pop == nil {
		t.Fatal("no mmap(MAP_POPULATE) of source.dat")
	}
	filled := tr.kCaused(pop.Seq, "mm_filemap_add_to_page_cache")
	if got := kPages(filled); got < kFilePages {
		t.Errorf("mmap(MAP_POPULATE) of the cold file added %d pages to the cache, want its %d", got, kFilePages)
	}
	if runtime.GOARCH == "amd64" {
		if len(tr.kKernel("page_fault_user")) == 0 {
			t.Fatal("no page_fault_user events at all: the check below would prove nothing")
		}
		for _, k := range tr.kKernel("page_fault_user") {
			if m, _ := k.Args.Str("mapping"); m == kFDPath(pop) && k.TS > kEnd(pop) {
				t.Errorf("page fault in the populated mapping after mmap returned: %v", k.Args)
			}
		}
	} else {
		ino, _ := filled[0].Args.Int("i_ino")
		for _, k := range tr.kKernel("mm_filemap_fault") {
			if i, _ := k.Args.Int("i_ino"); i == ino && k.TS > kEnd(pop) {
				t.Errorf("file fault on the populated file after mmap returned: %v", k.Args)
			}
		}
	}
}

// kAIORun finds the io_submit of the aio workload and the io_getevents calls after it.
func kAIORun(t *testing.T, tr *kTrace) (*event.Syscall, []*event.Syscall) {
	t.Helper()
	subs := tr.kSyscalls("io_submit")
	if len(subs) != 1 || subs[0].Failed() {
		t.Fatalf("want one successful io_submit, got %d", len(subs))
	}
	var gets []*event.Syscall
	for _, s := range tr.kSyscalls("io_getevents", "io_pgetevents") {
		if s.TS > subs[0].TS {
			gets = append(gets, s)
		}
	}
	if len(gets) == 0 {
		t.Fatal("no io_getevents after io_submit")
	}
	return subs[0], gets
}

// kAIOResults returns each completion's res, from the io_getevents calls.
func kAIOResults(gets []*event.Syscall) []int64 {
	var res []int64
	for _, g := range gets {
		evs, _ := g.Decoded.Get("events")
		list, _ := evs.([]any)
		for _, it := range list {
			f, _ := it.(event.Fields)
			r, _ := f.Int("res")
			res = append(res, r)
		}
	}
	return res
}

// kAIOBytes is the nbytes of each iocb io_submit submitted.
func kAIOBytes(t *testing.T, sub *event.Syscall) []int64 {
	t.Helper()
	v, _ := sub.Decoded.Get("iocbpp")
	list, _ := v.([]any)
	var n []int64
	for _, it := range list {
		f, _ := it.(event.Fields)
		b, ok := f.Int("nbytes")
		if !ok {
			t.Fatalf("iocb without nbytes: %v", f)
		}
		n = append(n, b)
	}
	if int64(len(n)) != sub.Ret {
		t.Fatalf("io_submit returned %d but %d iocbs are decoded", sub.Ret, len(n))
	}
	return n
}

// Buffered native AIO does the read inside io_submit: the page-cache fill and the block I/O are
// its own, and io_getevents finds every result ready.
func TestKernelAIOBuffered(t *testing.T) {
	tr := kRun(t, "run", "aio", "--variant", "native", "--all", "--size", kSizeArg)
	sub, gets := kAIORun(t, tr)
	nbytes := kAIOBytes(t, sub)

	caused := tr.kCaused(sub.Seq)
	for _, k := range caused {
		if k.TS < sub.TS || k.TS > kEnd(sub) {
			t.Errorf("%s at %d attributed to io_submit [%d, %d] is outside it", k.Name, k.TS, sub.TS, kEnd(sub))
		}
	}
	if len(tr.kCaused(sub.Seq, "mm_filemap_add_to_page_cache")) == 0 {
		t.Errorf("io_submit of reads on a cold buffered file caused no page-cache fill\n%s", kSummary(caused))
	}
	issued, done := tr.kCaused(sub.Seq, "block_rq_issue"), tr.kCaused(sub.Seq, "block_rq_complete")
	if len(issued) == 0 || len(done) < len(issued) {
		t.Errorf("io_submit read a cold buffered file: want its block requests issued and completed inside it, got %d issued, %d completed", len(issued), len(done))
	}

	// The first io_getevents finds all results at once, without blocking.
	g := gets[0]
	res := kAIOResults(gets[:1])
	if int64(len(res)) != sub.Ret {
		t.Errorf("the first io_getevents after io_submit returned %d results, want all %d ready", len(res), sub.Ret)
	}
	for i, r := range res {
		if i < len(nbytes) && r != nbytes[i] {
			t.Errorf("completion %d: res %d, want nbytes %d", i, r, nbytes[i])
		}
	}
	if b := tr.kCaused(g.Seq, "sched_blocked"); len(b) > 0 {
		t.Errorf("io_getevents blocked although every result was ready: %s", kSummary(b))
	}
}

// With O_DIRECT, io_submit issues the block requests itself; they complete by the time
// io_getevents collects them, and the note says whether io_submit returned before they did.
func TestKernelAIODirect(t *testing.T) {
	tr := kRun(t, "run", "aio", "--variant", "native-direct", "--all", "--size", kSizeArg)
	if strings.Contains(tr.stderr, "refuses O_DIRECT") {
		t.Skip("this filesystem refuses O_DIRECT")
	}
	sub, gets := kAIORun(t, tr)
	nbytes := kAIOBytes(t, sub)
	res := kAIOResults(gets)
	if int64(len(res)) != sub.Ret {
		t.Fatalf("io_getevents collected %d results, want %d", len(res), sub.Ret)
	}
	for i, r := range res {
		if r != nbytes[i] {
			t.Errorf("completion %d: res %d, want nbytes %d", i, r, nbytes[i])
		}
	}
	collected := gets[len(gets)-1]
	issued := tr.kCaused(sub.Seq, "block_rq_issue")
	if len(issued) == 0 {
		t.Fatal("O_DIRECT io_submit issued no block request linked to it")
	}
	// Each request it issued completes, linked to it; nothing else is.
	type req struct{ sector, n int64 }
	open := map[req]bool{}
	for _, k := range issued {
		s, _ := k.Args.Int("sector")
		n, _ := k.Args.Int("nr_sector")
		open[req{s, n}] = true
	}
	for _, k := range tr.kCaused(sub.Seq, "block_rq_complete") {
		s, _ := k.Args.Int("sector")
		n, _ := k.Args.Int("nr_sector")
		if !open[req{s, n}] {
			t.Errorf("block_rq_complete (seq %d, sector %d, %d sectors) linked to io_submit, which issued no such request", k.Seq, s, n)
		}
		delete(open, req{s, n})
	}
	for r := range open {
		t.Errorf("the block request io_submit issued at sector %d (%d sectors) never completed in the trace", r.sector, r.n)
	}
	// Each completes by the time io_getevents returns its result; whether before io_submit
	// returned depends on the device (an emulated disk can answer inside the call), and the
	// note must say which the trace shows.
	var before, after int
	for _, k := range tr.kCaused(sub.Seq, "block_rq_complete") {
		switch {
		case k.TS <= kEnd(sub):
			before++
		case k.TS <= kEnd(collected):
			after++
		default:
			t.Errorf("block_rq_complete (seq %d) at %d, after io_getevents returned its result (%d)", k.Seq, k.TS, kEnd(collected))
		}
	}
	t.Logf("%d of %d block requests completed before io_submit returned, %d after", before, len(issued), after)
	note := strings.Join(sub.Notes, "\n")
	if after > 0 && !strings.Contains(note, "in flight") {
		t.Errorf("%d requests completed after io_submit returned, but its note does not say it returned with them in flight: %q", after, sub.Notes)
	}
	if after == 0 && !strings.Contains(note, "all completed before it returned") {
		t.Errorf("every request completed before io_submit returned, but its note does not say so: %q", sub.Notes)
	}
}

// epoll_wait's time off the CPU and its waker are reported, and the note says so. Whether the
// echo server's epoll_wait sleeps depends on who runs first, so the workload runs until one does.
func TestKernelEpollBlocked(t *testing.T) {
	for range 5 {
		if kCheckEpoll(t, kRun(t, "run", "epoll", "--variant", "echo", "--all")) > 0 {
			return
		}
	}
	t.Error("in 5 runs no epoll_wait had a sched_blocked event naming its waker")
}

// kCheckEpoll checks every epoll_wait that blocked and returns how many there were.
func kCheckEpoll(t *testing.T, tr *kTrace) int {
	t.Helper()
	_, tids := tr.kProcesses()
	waits := tr.kSyscalls("epoll_wait", "epoll_pwait", "epoll_pwait2")
	if len(waits) == 0 {
		t.Fatal("no epoll_wait")
	}
	var checked int
	for _, w := range waits {
		var waker int64
		var kthread string
		for _, k := range tr.kCaused(w.Seq, "sched_blocked") {
			off, _ := k.Args.Int("off_cpu_ns")
			if off <= 0 {
				t.Errorf("sched_blocked in epoll_wait (seq %d) with off_cpu_ns %d", w.Seq, off)
			}
			if tid, ok := k.Args.Int("waker_tid"); ok {
				waker = tid
				kthread = ""
				if _, ok := k.Args.Get("waker_kthread"); ok {
					kthread, _ = k.Args.Str("waker_comm")
				}
			}
		}
		if waker == 0 {
			continue
		}
		checked++
		if kthread != "" {
			// the loopback wakeup ran in a kernel thread (ksoftirqd when softirqs are deferred,
			// as on a slow or busy machine): the note must name that thread
			want := "woken by kernel thread " + kthread
			if _, ok := kNote(w, regexp.MustCompile(`^blocked .+ in `+w.Name+`, `+regexp.QuoteMeta(want)+`$`)); !ok {
				t.Errorf("%s (seq %d) was woken by kernel thread %s, but no note says so: %q", w.Name, w.Seq, kthread, w.Notes)
			}
			continue
		}
		if !tids[uint32(waker)] {
			// the wakeup ran in interrupt context (loopback's softirq) on a CPU where a task
			// outside the tree was current: the note must not name that task as the waker
			re := regexp.MustCompile(`^blocked .+ in ` + w.Name + `, woken by an interrupt or a process outside the trace`)
			if _, ok := kNote(w, re); !ok {
				t.Errorf("%s (seq %d) was woken while tid %d, outside the traced tree, was running, but the note does not say an interrupt or a process outside the trace: %q", w.Name, w.Seq, waker, w.Notes)
			}
			continue
		}
		re := regexp.MustCompile(`^blocked .+ in ` + w.Name + `, woken by tid (\d+)`)
		m, ok := kNote(w, re)
		if !ok {
			t.Errorf("%s (seq %d) blocked and was woken by tid %d, but no note says so: %q", w.Name, w.Seq, waker, w.Notes)
			continue
		}
		if got := kAtoi(t, m[1]); got != waker {
			t.Errorf("note %q names tid %d, the trace's waker is %d", m[0], got, waker)
		}
	}
	return checked
}

// io_uring's submissions and completions appear as kernel events.
func TestKernelIOUring(t *testing.T) {
	tr := kRun(t, "run", "aio", "--variant", "uring", "--all", "--size", kSizeArg)
	if len(tr.kSyscalls("io_uring_setup")) == 0 {
		t.Fatal("no io_uring_setup")
	}
	subs := tr.kKernel("io_uring_submit_req", "io_uring_submit_sqe")
	done := tr.kKernel("io_uring_complete")
	// 4 writes, then 4 reads.
	if len(subs) < 8 || len(done) < 8 {
		t.Errorf("want at least 8 io_uring submissions and completions, got %d and %d", len(subs), len(done))
	}
	for _, k := range done {
		if res, _ := k.Args.Int("res"); res < 0 {
			t.Errorf("io_uring completion with error res %d", res)
		}
	}
	enters := map[uint64]bool{}
	for _, s := range tr.kSyscalls("io_uring_enter") {
		enters[s.Seq] = true
	}
	for _, k := range subs {
		if !enters[k.CauseSeq] {
			t.Errorf("io_uring submission (seq %d) not attributed to an io_uring_enter (cause_seq %d)", k.Seq, k.CauseSeq)
		}
	}
}

// kCheckTree asserts that every kernel event belongs to the traced tree: raised by one of its
// processes (a block completion is reported as its issuer's), or by a kernel thread working on a
// file the tree's own page-cache events named first (writeback, reclaim), which the BPF side
// admits on purpose.
func kCheckTree(t *testing.T, tr *kTrace) {
	t.Helper()
	pids, _ := tr.kProcesses()
	if len(pids) == 0 {
		t.Fatal("no exec or fork events: the traced tree is unknown")
	}
	// Inodes the tree's own page-cache events named. By inode alone: writeback events name the
	// bdi, not s_dev.
	touched := map[int64]bool{}
	for _, k := range tr.kKernel() {
		ino, ok := kInode(k)
		if pids[k.PID] {
			if ok && kIn(k.Name, kCacheEvents) {
				touched[ino] = true
			}
			continue
		}
		switch {
		case !ok || !kIn(k.Name, kFileEvents):
			t.Errorf("%s (seq %d) from pid %d, outside the traced tree %v", k.Name, k.Seq, k.PID, pids)
		case !touched[ino]:
			t.Errorf("%s (seq %d) from pid %d, outside the traced tree, on inode %d, which the tree never touched", k.Name, k.Seq, k.PID, ino)
		default:
			if kthread, known := kKernelThread(k.PID); known && !kthread {
				t.Errorf("%s (seq %d) from pid %d, a user process outside the traced tree", k.Name, k.Seq, k.PID)
			}
		}
	}
}

// Only the target tree: no kernel event of another process.
func TestKernelOnlyTargetTree(t *testing.T) {
	for _, w := range [][]string{
		{"dup", "cloexec-exec"}, // a fork and an exec
		{"fadvise", "dontneed-dirty"},
		{"aio", "native-direct"}, // block completions in interrupt context
		{"aio", "uring"},         // io-wq worker threads
		{"epoll", "echo"},        // a client thread
	} {
		t.Run(w[0]+"/"+w[1], func(t *testing.T) {
			kCheckTree(t, kRun(t, "run", w[0], "--variant", w[1], "--all"))
		})
	}
}

// Missing probes are listed in the header, never fatal; on this kernel exactly those tracefs
// lacks are missing.
func TestKernelMissingProbes(t *testing.T) {
	tr := kRun(t, "trace", "--kernel-events", "readahead", "--", "true")
	if _, err := tracefs.Path(); err != nil {
		t.Skipf("no tracefs to compare with: %v", err)
	}
	missing := strings.Join(tr.header.MissingProbes, "\n")
	var want int
	for _, k := range probe.KernelEvents {
		if k.Group != "readahead" {
			continue
		}
		have := false
		for _, n := range k.Names {
			have = have || tracefs.Exists(k.Group, n)
		}
		listed := strings.Contains(missing, k.Group+":"+k.Name())
		// what was traced is listed by the name its records carry, what was not is not: the
		// predictions tell an event not looked for from one that did not happen
		traced := slices.ContainsFunc(k.Names, func(n string) bool { return slices.Contains(tr.header.KernelEvents, n) })
		if traced != have {
			t.Errorf("%s:%s: on this kernel %v, in the header's kernel_events %v (%q)", k.Group, k.Name(), have, traced, tr.header.KernelEvents)
		}
		switch {
		case have && listed:
			t.Errorf("%s:%s exists on this kernel but the header lists it missing: %q", k.Group, k.Name(), tr.header.MissingProbes)
		case !have && !listed:
			t.Errorf("%s:%s is missing on this kernel but the header does not say so: %q", k.Group, k.Name(), tr.header.MissingProbes)
		}
		if !have {
			want++
		}
	}
	for _, n := range tr.header.KernelEvents {
		if !slices.ContainsFunc(probe.KernelEvents, func(k probe.KernelEvent) bool { return k.Group == "readahead" && slices.Contains(k.Names, n) }) {
			t.Errorf("kernel_events lists %s, which --kernel-events readahead did not ask for", n)
		}
	}
	if len(tr.header.MissingProbes) != want {
		t.Errorf("header lists %d missing probes, want %d: %q", len(tr.header.MissingProbes), want, tr.header.MissingProbes)
	}
}
