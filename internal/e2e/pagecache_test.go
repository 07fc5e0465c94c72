package e2e

// The page-cache, readahead and mmap notes held against ground truth: testdata/pagetruth.c runs
// one scenario per test under iotrace and measures, in the same run, what the kernel really did
// (cachestat or mincore for cached, dirty and under-writeback pages, /proc/self/pagemap for
// mapped ones), printing it as "truth STEP key=value" lines on stderr. Each test compares the
// notes with those figures, including the cases that used to be false (pages under writeback
// called dirty, fault-around windows summed as pages mapped, WILLNEED's reads said done while
// in flight), so they cannot come back.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/testutil"
	"github.com/iotrace/iotrace/internal/tracefs"
)

var (
	cprogOnce sync.Once
	cprogDir  string
	cprogErr  error
)

// kCProg returns the path of testdata/NAME.c built with gcc (once per test binary), or of the
// prebuilt NAME in $IOTRACE_E2E_CBIN (the emulated guests have no gcc).
func kCProg(t *testing.T, name string) string {
	t.Helper()
	if dir := os.Getenv("IOTRACE_E2E_CBIN"); dir != "" {
		return filepath.Join(dir, name)
	}
	cprogOnce.Do(func() { cprogDir, cprogErr = os.MkdirTemp("", "iotrace-e2e-c") })
	if cprogErr != nil {
		t.Fatal(cprogErr)
	}
	bin := filepath.Join(cprogDir, name)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	out, err := exec.Command("gcc", "-O1", "-Wall", "-Wextra", "-Werror", "-static", "-o", bin,
		filepath.Join("testdata", name+".c")).CombinedOutput()
	if err != nil {
		if testutil.InCI() {
			t.Fatalf("build testdata/%s.c with gcc: %v\n%s", name, err, out)
		}
		t.Skipf("build testdata/%s.c with gcc: %v\n%s", name, err, out)
	}
	return bin
}

// truth is what pagetruth measured, by step and key.
type truth map[string]map[string]int64

func (tt truth) get(t *testing.T, step, key string) int64 {
	t.Helper()
	v, ok := tt[step][key]
	if !ok {
		t.Fatalf("the program printed no %s=… for step %q (got %v)", key, step, tt)
	}
	return v
}

func (tt truth) has(step, key string) bool { _, ok := tt[step][key]; return ok }

// ptRun traces one pagetruth scenario and returns the trace, its ground truth and the file.
func ptRun(t *testing.T, scenario string) (*kTrace, truth, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), scenario+".dat")
	tr, tt := truthRun(t, "pagetruth", scenario, file)
	return tr, tt, file
}

// truthRun traces testdata/PROG.c run with args and returns the trace and the ground truth the
// program printed on stderr as "truth STEP key=value ..." lines.
func truthRun(t *testing.T, prog string, args ...string) (*kTrace, truth) {
	t.Helper()
	bin := kCProg(t, prog)
	tr := kRun(t, append([]string{"trace", "--", bin}, args...)...)
	tt := truth{}
	parseTruth(tr.stderr, tt)
	if len(tt) == 0 {
		t.Fatalf("%s %s printed no ground truth; stderr:\n%s", prog, strings.Join(args, " "), tr.stderr)
	}
	return tr, tt
}

// parseTruth adds the "truth STEP key=value ..." lines of a program's stderr to tt.
func parseTruth(stderr string, tt truth) {
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "truth" {
			continue
		}
		m := map[string]int64{}
		for _, kv := range f[2:] {
			k, v, _ := strings.Cut(kv, "=")
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				m[k] = n
			} else {
				m[k] = -1 // cachestat=no
			}
		}
		if tt[f[1]] == nil {
			tt[f[1]] = m
		} else {
			for k, v := range m {
				tt[f[1]][k] = v
			}
		}
	}
}

// ptPrivateMap is the scenario's MAP_PRIVATE mapping of the file (mincore's mappings are shared).
func (tr *kTrace) ptPrivateMap(t *testing.T, file string) *event.Syscall {
	t.Helper()
	var out []*event.Syscall
	for _, s := range tr.ptCalls(file, "mmap") {
		if flags, _ := s.Decoded.Str("flags"); strings.Contains(flags, "MAP_PRIVATE") {
			out = append(out, s)
		}
	}
	if len(out) != 1 {
		t.Fatalf("want one MAP_PRIVATE mmap of the file, got %d", len(out))
	}
	return out[0]
}

// ptCalls are the successful calls of any of names on file, in order.
func (tr *kTrace) ptCalls(file string, names ...string) []*event.Syscall {
	var out []*event.Syscall
	for _, s := range tr.kSyscalls(names...) {
		if kFDPath(s) == file && !s.Failed() {
			out = append(out, s)
		}
	}
	return out
}

// ptMark is the write(2) with which pagetruth printed step: events before it happened before
// the step was measured.
func (tr *kTrace) ptMark(t *testing.T, step string) *event.Syscall {
	t.Helper()
	for _, s := range tr.kSyscalls("write") {
		if fd, _ := s.Arg("fd"); fd == 2 && strings.HasPrefix(bufData(s, "buf"), "truth "+step+" ") {
			return s
		}
	}
	t.Fatalf("no write of \"truth %s\" in the trace", step)
	return nil
}

// ptBetween returns the kernel events with a time in (from, to).
func (tr *kTrace) ptBetween(from, to uint64, names ...string) []*event.Kernel {
	var out []*event.Kernel
	for _, k := range tr.kKernel(names...) {
		if k.TS > from && k.TS < to {
			out = append(out, k)
		}
	}
	return out
}

// ptNoteNumber finds the first number re captures in any note of the events.
func ptNotes(ks []*event.Kernel, re *regexp.Regexp) [][]string {
	var out [][]string
	for _, k := range ks {
		for _, n := range k.Notes {
			if m := re.FindStringSubmatch(n); m != nil {
				out = append(out, m)
			}
		}
	}
	return out
}

// ptRSS sums the changes of the file-page (and shmem) counts rss_stat events show.
func ptRSS(t *testing.T, ks []*event.Kernel) (file int64, told bool) {
	told = true
	for _, k := range ks {
		if k.Name != "rss_stat" {
			continue
		}
		member, _ := k.Args.Int("member")
		if member != 0 && member != 3 {
			continue
		}
		v, ok := k.Args.Str("pages")
		if !ok {
			told = false
			continue
		}
		file += kAtoi(t, strings.TrimPrefix(v, "+"))
	}
	return file, told
}

// ptFaultsOn keeps the rss_stat events raised by user faults on path's mapping: each follows
// its fault on the same thread. Faults elsewhere between the marks (the program's own text
// pages, run for the first time) change the process's file-page count too.
func ptFaultsOn(ks []*event.Kernel, path string) []*event.Kernel {
	on := map[uint32]bool{} // by tid: its last fault was on path
	var out []*event.Kernel
	for _, k := range ks {
		switch k.Name {
		case "page_fault_user", "page-faults":
			m, _ := k.Args.Str("mapping")
			on[k.TID] = strings.HasSuffix(m, path)
		case "rss_stat":
			if on[k.TID] {
				out = append(out, k)
			}
		}
	}
	return out
}

var (
	ptLeftRe      = regexp.MustCompile(`; (\d+) pages? left: (.*)$`)
	ptWritebackRe = regexp.MustCompile(`(\d+) under writeback \(this call started it`)
	ptDirtyRe     = regexp.MustCompile(`(\d+) dirty`)
	ptMappedRe    = regexp.MustCompile(`(\d+) mapped \(mmap at`)
	ptEvictedRe   = regexp.MustCompile(`^DONTNEED evicted (\d+|nothing)`)
)

// ptLeft parses a DONTNEED note: pages evicted and what kept the rest.
type ptLeft struct {
	note                             string
	evicted, left, wb, dirty, mapped int64
}

func ptDontneed(t *testing.T, s *event.Syscall) ptLeft {
	t.Helper()
	m, ok := kNote(s, ptEvictedRe)
	if !ok {
		t.Fatalf("DONTNEED (seq %d) has no \"DONTNEED evicted\" note: %q", s.Seq, s.Notes)
	}
	var l ptLeft
	for _, n := range s.Notes {
		if strings.HasPrefix(n, "DONTNEED evicted") {
			l.note = n
		}
	}
	if m[1] != "nothing" {
		l.evicted = kAtoi(t, m[1])
	}
	if lm := ptLeftRe.FindStringSubmatch(l.note); lm != nil {
		l.left = kAtoi(t, lm[1])
		for re, dst := range map[*regexp.Regexp]*int64{ptWritebackRe: &l.wb, ptDirtyRe: &l.dirty, ptMappedRe: &l.mapped} {
			if x := re.FindStringSubmatch(lm[2]); x != nil {
				*dst = kAtoi(t, x[1])
			}
		}
	}
	return l
}

// DONTNEED on freshly written pages: they stay, under the writeback DONTNEED itself started —
// never called dirty when cachestat says they are under writeback.
func TestTruthDontneedDirty(t *testing.T) {
	tr, tt, file := ptRun(t, "dontneed-dirty")
	calls := tr.ptCalls(file, kFadvise...)
	if len(calls) != 1 {
		t.Fatalf("want one fadvise64 on %s, got %d", file, len(calls))
	}
	l := ptDontneed(t, calls[0])
	cached := tt.get(t, "after", "cached")
	if l.left != cached {
		t.Errorf("note %q: %d pages left, cachestat/mincore after the call: %d cached", l.note, l.left, cached)
	}
	if !tt.has("after", "dirty") {
		return // no cachestat (before 6.5): dirty and writeback are not measured
	}
	dirty, wb := tt.get(t, "after", "dirty"), tt.get(t, "after", "writeback")
	if l.dirty > dirty {
		t.Errorf("note %q calls %d pages dirty; cachestat after the call: %d dirty, %d under writeback", l.note, l.dirty, dirty, wb)
	}
	if l.wb < wb {
		t.Errorf("note %q says %d pages under writeback this call started; cachestat after the call: %d under writeback", l.note, l.wb, wb)
	}
	if wb > 0 && len(tr.kCaused(calls[0].Seq, "block_rq_issue")) == 0 {
		t.Errorf("cachestat shows %d pages under writeback after DONTNEED but the call has no block request", wb)
	}
}

// Pages made clean by sync() and kept by a live mapping are "mapped", not "dirty": sync() is
// seen to write everything back.
func TestTruthDontneedSync(t *testing.T) {
	tr, tt, file := ptRun(t, "dontneed-sync")
	if tt.has("synced", "dirty") && tt.get(t, "synced", "dirty") != 0 {
		t.Fatalf("the file is still dirty after sync(): %v", tt["synced"])
	}
	calls := tr.ptCalls(file, kFadvise...)
	if len(calls) != 1 {
		t.Fatalf("want one fadvise64 on %s, got %d", file, len(calls))
	}
	l := ptDontneed(t, calls[0])
	cached, present := tt.get(t, "after", "cached"), tt.get(t, "mapped", "present")
	if l.left != cached {
		t.Errorf("note %q: %d pages left, %d cached after the call", l.note, l.left, cached)
	}
	if l.dirty != 0 || l.wb != 0 {
		t.Errorf("note %q: pages called dirty or under writeback after sync() wrote them back", l.note)
	}
	if l.mapped > present {
		t.Errorf("note %q: %d pages mapped, pagemap shows %d", l.note, l.mapped, present)
	}
	if tr.hasFileFaultEvents() && l.mapped != cached {
		t.Errorf("note %q: %d of the %d pages left are said mapped; pagemap shows %d present", l.note, l.mapped, cached, present)
	}
}

// kRSSExact: the traced kernel (6.2+) raises kmem:rss_stat on every change of a count; before,
// a task's changes are batched and a fault's own is not told.
func kRSSExact(tr *kTrace) bool {
	var major, minor int
	if _, err := fmt.Sscanf(tr.header.Kernel, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 6 || major == 6 && minor >= 2
}

// hasFileFaultEvents: the kernel has filemap:mm_filemap_fault and map_pages (6.11+), from which
// the pages faults mapped are known page by page.
func (tr *kTrace) hasFileFaultEvents() bool {
	return tracefs.Exists("filemap", "mm_filemap_map_pages") && tracefs.Exists("filemap", "mm_filemap_fault")
}

// Clean pages of a live mapping are kept as "mapped"; once it is unmapped the same advice drops
// them all.
func TestTruthDontneedMapped(t *testing.T) {
	tr, tt, file := ptRun(t, "dontneed-mapped")
	calls := tr.ptCalls(file, kFadvise...)
	if len(calls) != 2 {
		t.Fatalf("want two fadvise64 on %s, got %d", file, len(calls))
	}
	l := ptDontneed(t, calls[0])
	cached := tt.get(t, "after", "cached")
	if l.left != cached || l.dirty != 0 || l.wb != 0 {
		t.Errorf("note %q: want %d pages left, none dirty or under writeback (fsync wrote them back)", l.note, cached)
	}
	if tr.hasFileFaultEvents() && l.mapped != cached {
		t.Errorf("note %q: %d said mapped, %d cached and pagemap shows %d present", l.note, l.mapped, cached, tt.get(t, "mapped", "present"))
	}
	l = ptDontneed(t, calls[1])
	if cached := tt.get(t, "unmapped", "cached"); l.left != cached || l.evicted < 64-cached {
		t.Errorf("after munmap: note %q, but %d pages cached (of 64)", l.note, cached)
	}
}

var (
	ptInsertedRe = regexp.MustCompile(`^WILLNEED inserted (\d+) pages? of`)
	ptWaitedRe   = regexp.MustCompile(`not yet read: while it was blocked, the block I/O that fadvise64(?:_64)? WILLNEED \(seq (\d+)\) issued completed`)
)

// WILLNEED inserts the pages at once but returns with their reads in flight: the note must say
// so when the trace shows the reads completing after it returned, and the first read that then
// blocks is said to wait for them. On the cached file WILLNEED adds nothing, and says that.
func TestTruthWillneed(t *testing.T) {
	tr, tt, file := ptRun(t, "willneed")
	var wills []*event.Syscall
	for _, s := range tr.ptCalls(file, kFadvise...) {
		if kAdvice(s) == "POSIX_FADV_WILLNEED" {
			wills = append(wills, s)
		}
	}
	if len(wills) != 2 {
		t.Fatalf("want two WILLNEED calls, got %d", len(wills))
	}
	will := wills[0]
	m, ok := kNote(will, ptInsertedRe)
	if !ok {
		t.Fatalf("WILLNEED on the cold file: no \"WILLNEED inserted N pages\" note: %q", will.Notes)
	}
	if n, cached := kAtoi(t, m[1]), tt.get(t, "willneed", "cached"); n != cached {
		t.Errorf("note %q: %d pages inserted; right after the call %d were cached", m[0], n, cached)
	}
	// requests WILLNEED issued before it returned that completed after
	issuedBefore := map[string]bool{}
	for _, k := range tr.kCaused(will.Seq, "block_rq_issue") {
		if k.TS <= kEnd(will) {
			dev, _ := k.Args.Str("dev")
			sector, _ := k.Args.Int("sector")
			issuedBefore[fmt.Sprintf("%s/%d", dev, sector)] = true
		}
	}
	var late int
	for _, k := range tr.kCaused(will.Seq, "block_rq_complete") {
		dev, _ := k.Args.Str("dev")
		sector, _ := k.Args.Int("sector")
		if k.TS > kEnd(will) && issuedBefore[fmt.Sprintf("%s/%d", dev, sector)] {
			late++
		}
	}
	note := strings.Join(will.Notes, "\n")
	if late > 0 && strings.Contains(note, "had completed") {
		t.Errorf("%d block requests WILLNEED issued completed after it returned, but its note says they had completed: %q", late, will.Notes)
	}
	if late > 0 && !strings.Contains(note, "in flight") {
		t.Errorf("%d of WILLNEED's block requests completed after it returned; the note does not say the reads were in flight: %q", late, will.Notes)
	}

	// The first read: if a WILLNEED request completed while it was blocked, it waited for it.
	reads := tr.ptCalls(file, "pread64")
	if len(reads) == 0 {
		t.Fatal("no pread64 of the file")
	}
	first := reads[0]
	waited := false
	for _, b := range tr.kCaused(first.Seq, "sched_blocked") {
		off, _ := b.Args.Int("off_cpu_ns")
		for _, k := range tr.kKernel("block_rq_complete") {
			if k.CauseSeq == will.Seq && k.TS >= b.TS && k.TS <= b.TS+uint64(off) {
				waited = true
			}
		}
	}
	t.Logf("first read: %d µs by the program's clock, %d µs traced, waited for WILLNEED's I/O: %v", tt.get(t, "first-read", "us"), first.Dur/1000, waited)
	if m, ok := kNote(first, ptWaitedRe); waited && !ok {
		t.Errorf("the first read blocked while WILLNEED's block request completed, but no note says it waited for it: %q", first.Notes)
	} else if ok && kAtoi(t, m[1]) != int64(will.Seq) {
		t.Errorf("note %q names seq %s, WILLNEED is seq %d", m[0], m[1], will.Seq)
	}

	// Each block request once: what WILLNEED issued is at most the file.
	const size = 2048 * 4096
	var bytes int64
	for _, k := range tr.kCaused(will.Seq, "block_rq_issue") {
		if _, again := k.Args.Get("reissued"); !again {
			n, _ := k.Args.Int("bytes")
			bytes += n
		}
	}
	if bytes > size {
		t.Errorf("block requests of WILLNEED on an 8 MiB file add up to %d bytes: a request counted twice", bytes)
	}
	kCheckReissued(t, tr)

	again := wills[1]
	if tt.get(t, "again", "cached") != 2048 {
		t.Fatalf("the file is not all cached before the second WILLNEED: %v", tt["again"])
	}
	if n := strings.Join(again.Notes, "\n"); !strings.Contains(n, "WILLNEED added no page") || strings.Contains(n, "inserted") {
		t.Errorf("WILLNEED on the cached file: notes %q, want \"WILLNEED added no page\"", again.Notes)
	}
}

// kCheckReissued: a request the device sent back (block_rq_requeue) and issued again is marked
// reissued, so it is counted once.
func kCheckReissued(t *testing.T, tr *kTrace) {
	t.Helper()
	requeued := map[string]bool{}
	for _, e := range tr.events {
		k, ok := e.(*event.Kernel)
		if !ok {
			continue
		}
		dev, _ := k.Args.Str("dev")
		sector, _ := k.Args.Int("sector")
		key := fmt.Sprintf("%s/%d", dev, sector)
		switch k.Name {
		case "block_rq_requeue":
			requeued[key] = true
		case "block_rq_issue":
			_, again := k.Args.Get("reissued")
			if requeued[key] && !again {
				t.Errorf("block request %s was requeued, and its next issue is not marked reissued: %v", key, k.Args)
			}
			delete(requeued, key)
		}
	}
}

var (
	ptAddedRe  = regexp.MustCompile(`^added (\d+) pages? of .* to the page cache`)
	ptRAAdded  = regexp.MustCompile(`readahead.*; added (\d+) pages?$|readahead off.*; added (\d+) pages?$`)
	ptRAOffRe  = regexp.MustCompile(`^readahead off \(POSIX_FADV_RANDOM on this open file\)`)
	ptOldRANum = regexp.MustCompile(`window up to|in its windows`)
)

// ptReads checks each read's page-cache notes against the pages mincore saw arrive with it.
func ptReads(t *testing.T, tr *kTrace, tt truth, file string) []*event.Syscall {
	t.Helper()
	reads := tr.ptCalls(file, "read")
	if len(reads) != 128 {
		t.Fatalf("want 128 reads of the file, got %d", len(reads))
	}
	var prev, sum int64
	for i, s := range reads {
		step := fmt.Sprintf("read%d", i)
		var added int64
		if m, ok := kNote(s, ptAddedRe); ok {
			added = kAtoi(t, m[1])
		}
		sum += added
		// cachestat counts what is in the cache, mincore only pages already read: without
		// cachestat (before 6.5) the pages added so far can only bound mincore's count
		delta := added
		if tt.has(step, "cached") {
			res := tt.get(t, step, "cached")
			delta, prev = res-prev, res
			if added != delta {
				t.Errorf("read %d (seq %d): notes say %d pages added; cachestat: %d more cached after it\n%q", i, s.Seq, added, delta, s.Notes)
			}
		} else if up := tt.get(t, step, "uptodate"); sum < up {
			t.Errorf("read %d (seq %d): the notes of the reads so far add %d pages; mincore shows %d read", i, s.Seq, sum, up)
		}
		var ra int64
		haveRA := false
		for _, n := range s.Notes {
			if ptOldRANum.MatchString(n) {
				t.Errorf("read %d: %q reports the readahead cap or the previous window, not the window used", i, n)
			}
			if m := ptRAAdded.FindStringSubmatch(n); m != nil {
				haveRA = true
				ra += kAtoi(t, m[1]+m[2])
			}
		}
		if haveRA && ra != delta {
			t.Errorf("read %d (seq %d): readahead notes say %d pages added; the cache grew by %d\n%q", i, s.Seq, ra, delta, s.Notes)
		}
	}
	if last := tt.get(t, "read127", "uptodate"); sum != last {
		t.Errorf("the reads' notes add %d pages in all; mincore shows %d in the cache at the end", sum, last)
	}
	return reads
}

// Sequential 4 KiB reads of a cold file: each read's readahead adds what mincore sees arrive.
func TestTruthReadahead(t *testing.T) {
	tr, tt, file := ptRun(t, "sequential")
	reads := ptReads(t, tr, tt, file)
	if tracefs.Exists("readahead", "page_cache_ra_order") {
		if _, ok := kNote(reads[0], regexp.MustCompile(`^synchronous readahead of .*the kernel read the window pages 0–`)); !ok {
			t.Errorf("the first read of the cold file has no synchronous readahead note with its window: %q", reads[0].Notes)
		}
	}
}

// Under POSIX_FADV_RANDOM every read caches only its own page, and says readahead is off.
func TestTruthRandom(t *testing.T) {
	tr, tt, file := ptRun(t, "random")
	for i, s := range ptReads(t, tr, tt, file) {
		if _, ok := kNote(s, ptRAOffRe); !ok {
			t.Errorf("read %d (seq %d) under POSIX_FADV_RANDOM: no \"readahead off\" note: %q", i, s.Seq, s.Notes)
		}
	}
}

var (
	ptFaultAroundRe = regexp.MustCompile(`^fault-around mapped (\d+) pages? of`)
	ptFilledRe      = regexp.MustCompile(`^the page fault on page (\d+) of .* filled (\d+) pages? of`)
	ptLessonRe      = regexp.MustCompile(`^zero read\(\)/write\(\) calls on (.*?) while it was mapped: (at least )?(\d+) pages?`)
)

// ptMapSteps checks, between the marks of pagetruth's steps, that the pages mapped (rss_stat)
// and fault-around's notes agree with the pages pagemap shows present in path's mapping.
func ptMapSteps(t *testing.T, tr *kTrace, tt truth, path string, from uint64, steps ...string) {
	t.Helper()
	prev := int64(0)
	for _, step := range steps {
		mark := tr.ptMark(t, step)
		present := tt.get(t, step, "present")
		evs := tr.ptBetween(from, mark.TS)
		file, told := ptRSS(t, ptFaultsOn(evs, path))
		var around int64
		for _, m := range ptNotes(evs, ptFaultAroundRe) {
			around += kAtoi(t, m[1])
		}
		if around > present-prev {
			t.Errorf("step %s: fault-around notes say %d pages mapped; pagemap shows %d more present", step, around, present-prev)
		}
		if told && kRSSExact(tr) && file != present-prev && tt.get(t, step, "anon") == 0 {
			t.Errorf("step %s: rss_stat shows %+d file pages mapped; pagemap shows %d more present", step, file, present-prev)
		}
		prev, from = present, mark.TS
	}
}

// A cold MAP_PRIVATE mapping: the first fault fills the cache (mmap read-around) and maps what
// fault-around could; a write copies the page (copy-on-write); munmap's lesson counts the pages
// pagemap showed mapped.
func TestTruthMmapCold(t *testing.T) {
	tr, tt, file := ptRun(t, "mmap-cold")
	checkTruthMmapCold(t, tr, tt, file, true)
}

// The same with user page faults taken from the software perf event, as on arm64 (which has no
// exceptions:page_fault_user): the fault model and the mmap lessons hold, and copy-on-write is not
// claimed (a perf sample does not say the access was a write).
func TestTruthMmapPerfFaults(t *testing.T) {
	t.Setenv("IOTRACE_PAGE_FAULTS", "perf")
	tr, tt, file := ptRun(t, "mmap-cold")
	var perf, tp int
	for _, e := range tr.events {
		if k, ok := e.(*event.Kernel); ok {
			switch k.Name {
			case "page-faults":
				perf++
			case "page_fault_user":
				tp++
			}
		}
	}
	if perf == 0 || tp != 0 {
		t.Fatalf("with IOTRACE_PAGE_FAULTS=perf: %d page-faults and %d page_fault_user events, want some and none", perf, tp)
	}
	checkTruthMmapCold(t, tr, tt, file, false)

	tr, tt, file = ptRun(t, "mmap-exit")
	checkMmapExit(t, tr, tt, file)
}

// checkTruthMmapCold holds mmap-cold's notes against its ground truth; cow says whether the trace can
// tell a write fault (the copy-on-write note must then be there, and otherwise must not).
func checkTruthMmapCold(t *testing.T, tr *kTrace, tt truth, file string, cow bool) {
	t.Helper()
	m := tr.ptPrivateMap(t, file)
	ptMapSteps(t, tr, tt, file, kEnd(m), "touch0", "touch40")

	touch0 := tr.ptMark(t, "touch0")
	filled := ptNotes(tr.ptBetween(kEnd(m), touch0.TS), ptFilledRe)
	if tr.hasFileFaultEvents() {
		if len(filled) == 0 {
			t.Errorf("the first fault on the cold mapping has no note of the pages it filled")
		} else if n, res := kAtoi(t, filled[0][2]), tt.get(t, "touch0", "resident"); n != res {
			t.Errorf("note %q: %d pages filled; mincore shows %d resident", filled[0][0], n, res)
		}
	}

	// copy-on-write, between the marks around the write
	before, after := tr.ptMark(t, "page0-before"), tr.ptMark(t, "page0-after")
	if tt.get(t, "page0-before", "anon") != 0 || tt.get(t, "page0-after", "anon") != 1 {
		t.Fatalf("pagemap does not show page 0 becoming anonymous: %v, %v", tt["page0-before"], tt["page0-after"])
	}
	cowNotes := ptNotes(tr.ptBetween(kEnd(before), after.TS), regexp.MustCompile(`^copy-on-write: the write to page 0 of (.*) \(MAP_PRIVATE\)`))
	rss := tr.ptBetween(kEnd(before), after.TS, "rss_stat")
	switch _, told := ptRSS(t, rss); {
	case !cow && len(cowNotes) > 0:
		t.Errorf("copy-on-write claimed from faults that do not say they were writes: %q", cowNotes[0][0])
	case cow && told && kRSSExact(tr) && len(rss) > 0 && len(cowNotes) == 0:
		t.Errorf("the write fault on page 0 of the private mapping has no copy-on-write note")
	}

	unmaps := tr.kSyscalls("munmap")
	var lesson []string
	for _, s := range unmaps {
		if m, ok := kNote(s, ptLessonRe); ok && m[1] == file {
			lesson = m
		}
	}
	ptCheckLesson(t, lesson, tt.get(t, "end", "present"))
}

// ptCheckLesson holds the mmap lesson against the pages pagemap showed present at the end.
func ptCheckLesson(t *testing.T, m []string, present int64) {
	t.Helper()
	if m == nil {
		t.Errorf("no \"zero read()/write() calls\" lesson for the mapping")
		return
	}
	n := kAtoi(t, m[3])
	switch {
	case m[2] != "" && n > present:
		t.Errorf("lesson %q: at least %d pages, pagemap showed %d present", m[0], n, present)
	case m[2] == "" && n != present:
		t.Errorf("lesson %q: %d pages, pagemap showed %d present", m[0], n, present)
	}
}

// A program that exits without munmap still gets the lesson, on its exit.
func TestTruthMmapExit(t *testing.T) {
	tr, tt, file := ptRun(t, "mmap-exit")
	checkMmapExit(t, tr, tt, file)
}

func checkMmapExit(t *testing.T, tr *kTrace, tt truth, file string) {
	t.Helper()
	var lesson []string
	for _, e := range tr.events {
		if p, ok := e.(*event.Process); ok && p.Name == "exit" {
			for _, n := range p.Notes {
				if m := ptLessonRe.FindStringSubmatch(n); m != nil && m[1] == file {
					lesson = m
				}
			}
		}
	}
	ptCheckLesson(t, lesson, tt.get(t, "end", "present"))
}

// MAP_POPULATE maps the cold file inside mmap; fault-around's count is pages mapped, not the sum
// of its overlapping windows.
func TestTruthPopulate(t *testing.T) {
	tr, tt, file := ptRun(t, "populate")
	maps := []*event.Syscall{tr.ptPrivateMap(t, file)}
	present := tt.get(t, "populated", "present")
	if m, ok := kNote(maps[0], regexp.MustCompile(`^fault-around mapped (\d+) pages?`)); ok && kAtoi(t, m[1]) > present {
		t.Errorf("note %q: more pages than pagemap shows present (%d)", m[0], present)
	}
	if _, told := ptRSS(t, tr.kCaused(maps[0].Seq, "rss_stat")); told && kRSSExact(tr) {
		if m, ok := kNote(maps[0], regexp.MustCompile(`^MAP_POPULATE mapped (\d+) pages?`)); !ok {
			t.Errorf("mmap(MAP_POPULATE) has no \"MAP_POPULATE mapped N pages\" note: %q", maps[0].Notes)
		} else if n := kAtoi(t, m[1]); n != present {
			t.Errorf("note %q: %d pages, pagemap shows %d present", m[0], n, present)
		}
	}
	var lesson []string
	for _, s := range tr.kSyscalls("munmap") {
		if m, ok := kNote(s, ptLessonRe); ok && m[1] == file {
			lesson = m
		}
	}
	ptCheckLesson(t, lesson, present)
}
