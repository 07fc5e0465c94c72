package annotate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// track updates the per-file page state the notes rely on, for every kernel event.
func (a *Annotator) track(k *event.Kernel) {
	switch k.Name {
	case "mm_filemap_add_to_page_cache":
		ino, _ := k.Args.Int("i_ino")
		idx, _ := k.Args.Int("index")
		order, _ := k.Args.Int("order")
		a.file(uint64(ino)).folios[uint64(idx)] = 1 << order
	case "writeback_dirty_folio", "writeback_dirty_page":
		ino, _ := k.Args.Int("ino")
		idx, _ := k.Args.Int("index")
		a.file(uint64(ino)).dirty[uint64(idx)] = true
	case "mm_filemap_delete_from_page_cache":
		ino, _ := k.Args.Int("i_ino")
		idx, _ := k.Args.Int("index")
		fi := a.file(uint64(ino))
		delete(fi.dirty, uint64(idx))
		delete(fi.folios, uint64(idx))
	}
}

// pageRun counts pages of one file and the range of their indexes.
type pageRun struct {
	pages    int64
	min, max int64
}

func (r *pageRun) add(index, n int64) {
	if r.pages == 0 || index < r.min {
		r.min = index
	}
	if end := index + n - 1; r.pages == 0 || end > r.max {
		r.max = end
	}
	r.pages += n
}

func (r *pageRun) span() string {
	if r.min == r.max {
		return fmt.Sprintf("page %d", r.min)
	}
	return fmt.Sprintf("pages %d–%d", r.min, r.max)
}

// writes are the calls that fill the page cache by writing into it.
var writes = map[string]bool{"write": true, "writev": true, "pwrite64": true, "pwritev": true, "pwritev2": true}

// effects sums what the kernel did inside one syscall.
type effects struct {
	added, evicted map[int64]*pageRun // by inode
	faults         int64
	faultAround    int64
	readahead      []*event.Kernel
	blockedNS      int64
	waker          string
	blockIssued    int64
	blockBytes     int64
	blockDone      int64
	punts          int64
	uringSubmits   int64
	uringDone      int64
}

func (a *Annotator) sum(caused []*event.Kernel) *effects {
	e := &effects{added: map[int64]*pageRun{}, evicted: map[int64]*pageRun{}}
	page := func(m map[int64]*pageRun, k *event.Kernel) {
		ino, _ := k.Args.Int("i_ino")
		idx, _ := k.Args.Int("index")
		order, _ := k.Args.Int("order")
		if m[ino] == nil {
			m[ino] = &pageRun{}
		}
		m[ino].add(idx, 1<<order)
	}
	for _, k := range caused {
		switch k.Name {
		case "mm_filemap_add_to_page_cache":
			page(e.added, k)
		case "mm_filemap_delete_from_page_cache":
			page(e.evicted, k)
		case "page_fault_user":
			e.faults++
		case "mm_filemap_map_pages":
			first, _ := k.Args.Int("index")
			last, _ := k.Args.Int("last_index")
			e.faultAround += last - first + 1
		case "page_cache_sync_ra", "page_cache_async_ra", "page_cache_ra_unbounded":
			e.readahead = append(e.readahead, k)
		case "sched_blocked":
			off, _ := k.Args.Int("off_cpu_ns")
			e.blockedNS += off
			if w := a.waker(k); w != "" {
				e.waker = w
			}
		case "block_rq_issue":
			e.blockIssued++
			n, _ := k.Args.Int("bytes")
			e.blockBytes += n
		case "block_rq_complete":
			e.blockDone++
		case "io_uring_queue_async_work":
			e.punts++
		case "io_uring_submit_req", "io_uring_submit_sqe":
			e.uringSubmits++
		case "io_uring_complete":
			e.uringDone++
		}
	}
	return e
}

// waker says who woke a blocked thread, as far as the trace can tell: a task of the traced tree
// or a kernel thread by name; anything else ran when an interrupt did the wakeup, or is a
// process outside the tree — the trace cannot tell which.
func (a *Annotator) waker(k *event.Kernel) string {
	tid, ok := k.Args.Int("waker_tid")
	if !ok {
		return ""
	}
	comm, _ := k.Args.Str("waker_comm")
	pid, _ := k.Args.Int("waker_pid")
	if _, kthread := k.Args.Get("waker_kthread"); kthread {
		return fmt.Sprintf("kernel thread %s", comm)
	}
	if _, traced := a.procs[uint32(pid)]; traced {
		return fmt.Sprintf("tid %d (%s)", tid, comm)
	}
	return fmt.Sprintf("an interrupt or a process outside the trace (%s was running)", comm)
}

// readaheadNotes says what readahead did, one line per kind and file: where it started and how
// big its window was.
func (a *Annotator) readaheadNotes(ks []*event.Kernel) []string {
	type key struct {
		name string
		ino  int64
	}
	var order []key
	groups := map[key][]*event.Kernel{}
	for _, k := range ks {
		ino, _ := k.Args.Int("i_ino")
		kk := key{k.Name, ino}
		if groups[kk] == nil {
			order = append(order, kk)
		}
		groups[kk] = append(groups[kk], k)
	}
	var notes []string
	for _, kk := range order {
		g := groups[kk]
		name := a.fileName(uint64(kk.ino))
		var at []string
		var total int64
		for _, k := range g {
			idx, _ := k.Args.Int("index")
			at = append(at, fmt.Sprint(idx))
			size, ok := k.Args.Int("size")
			if !ok {
				size, _ = k.Args.Int("nr_to_read")
			}
			total += size
		}
		where := "at page " + strings.Join(at, ", ")
		if len(at) > 1 {
			where = "at pages " + strings.Join(at, ", ")
		}
		switch kk.name {
		case "page_cache_sync_ra":
			ra, _ := g[0].Args.Int("ra_pages")
			notes = append(notes, fmt.Sprintf("synchronous readahead of %s %s (window up to %s)", name, where, pages(ra)))
		case "page_cache_async_ra":
			notes = append(notes, fmt.Sprintf("asynchronous readahead of %s %s: %s in its windows", name, where, pages(total)))
		default:
			notes = append(notes, fmt.Sprintf("forced readahead of %s %s: %s", name, where, pages(total)))
		}
	}
	return notes
}

// explain adds notes to a syscall from the kernel events it caused: only what the trace shows.
func (a *Annotator) explain(s *event.Syscall, caused []*event.Kernel) {
	e := a.sum(caused)
	advice, _ := s.Decoded.Str("advice")
	fadvise := s.Name == "fadvise64" || s.Name == "fadvise64_64" // the arm64 name
	for _, ino := range sortedKeys(e.evicted) {
		r := e.evicted[ino]
		name := a.fileName(uint64(ino))
		if fadvise && advice == "POSIX_FADV_DONTNEED" {
			s.Notes = append(s.Notes, a.dontneedNote(s, uint64(ino), r))
			continue
		}
		s.Notes = append(s.Notes, fmt.Sprintf("evicted %s of %s from the page cache (%s)", pages(r.pages), name, r.span()))
	}
	if fadvise && advice == "POSIX_FADV_DONTNEED" && len(e.evicted) == 0 {
		if ino, ok := s.Decoded.Int("fd_ino"); ok {
			s.Notes = append(s.Notes, "DONTNEED evicted nothing of "+a.fileName(uint64(ino))+a.dirtyNote(uint64(ino)))
		} else if path, ok := s.Decoded.Str("fd"); ok {
			s.Notes = append(s.Notes, "DONTNEED evicted nothing of "+path)
		}
	}
	for _, ino := range sortedKeys(e.added) {
		if writes[s.Name] {
			continue // a write caching the pages it writes is expected; the kernel lines show it
		}
		r := e.added[ino]
		verb := "added"
		if fadvise && advice == "POSIX_FADV_WILLNEED" {
			verb = "WILLNEED read ahead:"
		}
		s.Notes = append(s.Notes, fmt.Sprintf("%s %s of %s to the page cache (%s)", verb, pages(r.pages), a.fileName(uint64(ino)), r.span()))
	}
	s.Notes = append(s.Notes, a.readaheadNotes(e.readahead)...)
	if a.InferReadahead && len(e.readahead) == 0 {
		a.inferReadahead(s, e)
	}
	if e.faultAround > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("fault-around mapped %s", pages(e.faultAround)))
	}
	if e.faults > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d page fault%s inside the call", e.faults, plural(e.faults)))
	}
	if e.blockIssued > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("issued %d block request%s (%s)", e.blockIssued, plural(e.blockIssued), bytesText(e.blockBytes)))
	}
	if e.blockDone > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d block request%s completed meanwhile", e.blockDone, plural(e.blockDone)))
	}
	if e.blockedNS > 0 {
		n := fmt.Sprintf("blocked %s in %s", durText(e.blockedNS), s.Name)
		if e.waker != "" {
			n += ", woken by " + e.waker
		}
		s.Notes = append(s.Notes, n)
	}
	if e.uringSubmits > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("io_uring: %d submission%s", e.uringSubmits, plural(e.uringSubmits)))
	}
	if e.punts > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("io_uring punted %d request%s to io-wq worker threads", e.punts, plural(e.punts)))
	}
	if e.uringDone > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("io_uring: %d completion%s posted inside the call", e.uringDone, plural(e.uringDone)))
	}
	a.aioNote(s, e)
}

// reads are the calls whose page-cache fills beyond the bytes asked for are readahead.
var reads = map[string]bool{"read": true, "pread64": true, "readv": true, "preadv": true, "preadv2": true}

// inferReadahead notes pages a read cached beyond what it asked for, on kernels without the
// readahead tracepoints.
func (a *Annotator) inferReadahead(s *event.Syscall, e *effects) {
	if !reads[s.Name] || s.Failed() {
		return
	}
	asked := (max(s.Ret, 0) + pageSize - 1) / pageSize
	for _, ino := range sortedKeys(e.added) {
		if r := e.added[ino]; r.pages > asked {
			s.Notes = append(s.Notes, fmt.Sprintf("readahead (inferred from page-cache fills; this kernel has no readahead tracepoints): cached %s of %s, %d beyond the %d read",
				pages(r.pages), a.fileName(uint64(ino)), r.pages-asked, asked))
		}
	}
}

// dontneedNote is "DONTNEED evicted 256 of 256 pages of data.bin (1 MiB)" — the file's size
// as the call returned, read by the BPF side — plus the dirty pages the trace saw stay.
func (a *Annotator) dontneedNote(s *event.Syscall, ino uint64, r *pageRun) string {
	n := "DONTNEED evicted " + pages(r.pages)
	if size, ok := s.Decoded.Int("fd_size"); ok && size > 0 {
		total := (size + pageSize - 1) / pageSize
		n = fmt.Sprintf("DONTNEED evicted %d of %s of %s (%s)", r.pages, pages(total), a.fileName(ino), bytesText(size))
	} else {
		n += " of " + a.fileName(ino)
	}
	return n + a.dirtyNote(ino)
}

// dirtyNote is "; 16 pages left: dirty" when the trace shows dirty pages that stayed cached.
func (a *Annotator) dirtyNote(ino uint64) string {
	if d := a.file(ino).dirtyPages(); d > 0 {
		return fmt.Sprintf("; %s left: dirty", pages(d))
	}
	return ""
}

// aioNote says where native AIO did its work, from the file's O_DIRECT flag and the trace.
func (a *Annotator) aioNote(s *event.Syscall, e *effects) {
	if s.Name != "io_submit" || s.Failed() {
		return
	}
	iocbs, _ := s.Decoded.Get("iocbpp")
	list, _ := iocbs.([]any)
	p := a.proc(s.PID)
	for _, it := range list {
		f, _ := it.(event.Fields)
		fdv, ok := f.Int("fd")
		if !ok {
			continue
		}
		d, ok := p.fds[fdv]
		if !ok {
			continue
		}
		if d.f.direct {
			if e.blockIssued > 0 {
				s.Notes = append(s.Notes, "O_DIRECT: io_submit issued the block request and returned; it completes later")
			} else {
				s.Notes = append(s.Notes, "O_DIRECT: io_submit queued the I/O and returned")
			}
		} else {
			s.Notes = append(s.Notes, fmt.Sprintf("buffered file: io_submit returned after the I/O completed (%s): buffered AIO runs synchronously", durText(int64(s.Dur))))
		}
		return
	}
}

func sortedKeys(m map[int64]*pageRun) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func pages(n int64) string {
	if n == 1 {
		return "1 page"
	}
	return fmt.Sprintf("%d pages", n)
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func durText(ns int64) string {
	switch {
	case ns >= 1e9:
		return strings.TrimSuffix(fmt.Sprintf("%.2f", float64(ns)/1e9), "0") + " s"
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", float64(ns)/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", float64(ns)/1e3)
	}
	return fmt.Sprintf("%d ns", ns)
}
