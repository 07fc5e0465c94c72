package annotate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// track updates the model from every kernel event as it arrives, before it is attributed:
// page states, block requests, mapped-page counts, and user-mode page faults.
func (a *Annotator) track(k *event.Kernel) {
	a.trackPages(k)
	a.trackIOThreads(k)
	switch k.Name {
	case "block_rq_issue", "block_rq_requeue", "block_rq_complete":
		a.trackBlock(k)
	case "rss_stat":
		a.trackRSS(k)
	}
	if k.SyscallTS == 0 {
		a.trackFault(k)
	}
}

// pageRun counts pages of one file and the range of their indexes.
type pageRun struct {
	pages    int64
	min, max int64
	runs     [][2]int64 // index, pages: each event's
}

// from counts the pages at index first or later.
func (r *pageRun) from(first int64) int64 {
	var n int64
	for _, x := range r.runs {
		if end := x[0] + x[1]; end > first {
			n += end - max(x[0], first)
		}
	}
	return n
}

func (r *pageRun) add(index, n int64) {
	if r.pages == 0 || index < r.min {
		r.min = index
	}
	if end := index + n - 1; r.pages == 0 || end > r.max {
		r.max = end
	}
	r.pages += n
	r.runs = append(r.runs, [2]int64{index, n})
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
	readahead      bool
	blocked        []*event.Kernel
	blockedNS      int64
	waker          string
	blockIssued    int64
	blockBytes     int64
	blockDone      int64
	punts          int64
	uringSubmits   int64
	uringDone      int64
}

// sum adds up the events raised inside a call that ended at end.
func (a *Annotator) sum(caused []*event.Kernel, end uint64) *effects {
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
		case "page_fault_user", "page-faults":
			e.faults++
		case "page_cache_sync_ra", "page_cache_async_ra", "page_cache_ra_unbounded", "page_cache_ra_order":
			e.readahead = true
		case "sched_blocked":
			e.blocked = append(e.blocked, k)
			off, _ := k.Args.Int("off_cpu_ns")
			e.blockedNS += off
			if w := a.waker(k); w != "" {
				e.waker = w
			}
		case "block_rq_issue":
			if _, again := k.Args.Get("reissued"); again {
				continue // a requeued request issued again: counted once
			}
			e.blockIssued++
			n, _ := k.Args.Int("bytes")
			e.blockBytes += n
		case "block_rq_complete":
			if k.TS <= end {
				e.blockDone++
			}
		case "io_uring_queue_async_work":
			e.punts++
		case "io_uring_submit_req", "io_uring_submit_sqe":
			e.uringSubmits++
		case "io_uring_complete":
			if k.Via == "" { // a worker's are told with the punt
				e.uringDone++
			}
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
	if a.exited[uint32(pid)] {
		return fmt.Sprintf("tid %d (%s), which has exited since", tid, comm) // a child exiting wakes its parent in wait4
	}
	return fmt.Sprintf("an interrupt or a process outside the trace (%s was running)", comm)
}

// explain adds notes to a syscall from the kernel events it caused: only what the trace shows.
func (a *Annotator) explain(s *event.Syscall, caused []*event.Kernel) {
	e := a.sum(caused, s.TS+s.Dur)
	s.Notes = append(s.Notes, a.pageNotes(s, caused, e)...)
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
		s.Notes = append(s.Notes, a.waitNotes(s, e)...)
	}
	s.Notes = append(s.Notes, preemptNote(s, caused)...)
	if e.uringSubmits > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("io_uring: %d submission%s", e.uringSubmits, plural(e.uringSubmits)))
	}
	if e.punts > 0 {
		s.Notes = append(s.Notes, a.workerNote(caused, e.punts, s.TS+s.Dur))
	}
	if e.uringDone > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("io_uring: %d completion%s posted inside the call", e.uringDone, plural(e.uringDone)))
	}
	a.asyncNotes(s, caused, e)
	a.lossNote(s, caused)
}

// asyncNotes adds the notes of native AIO and io_uring calls, which depend on the kernel events
// the call raised (whether it blocked, the io_uring context it drove).
func (a *Annotator) asyncNotes(s *event.Syscall, caused []*event.Kernel, e *effects) {
	switch s.Name {
	case "io_setup", "io_destroy", "io_submit", "io_getevents", "io_pgetevents":
		a.aioCall(s, e)
	case "io_uring_setup":
		a.uringSetup(s, caused)
	case "io_uring_enter":
		a.uringEnter(s, caused)
	}
}

// directNote says whether O_DIRECT io_submit returned with its block requests in flight,
// from the completions of the requests it issued: a fast device can answer inside the call.
func (a *Annotator) directNote(s *event.Syscall) string {
	c := a.blk.calls[callKey{s.TID, s.TS}]
	if c == nil || c.issued == 0 {
		return "O_DIRECT: io_submit returned without a block request issued inside it (the block layer sends them later)"
	}
	reqs := fmt.Sprintf("%d block request%s", c.issued, plural(c.issued))
	switch done := c.doneBy(s.TS + s.Dur); {
	case done >= c.issued:
		return fmt.Sprintf("O_DIRECT: io_submit issued %s and all completed before it returned: the device answered within the call", reqs)
	case done > 0:
		return fmt.Sprintf("O_DIRECT: io_submit issued %s and returned with %d in flight; they complete later", reqs, c.issued-done)
	}
	if c.issued == 1 {
		return fmt.Sprintf("O_DIRECT: io_submit issued %s and returned with it in flight; it completes later", reqs)
	}
	return fmt.Sprintf("O_DIRECT: io_submit issued %s and returned with them in flight; they complete later", reqs)
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
