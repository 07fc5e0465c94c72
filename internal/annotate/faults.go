package annotate

import (
	"fmt"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// Page faults on file mappings, and what they did.
//
// Tracepoints: exceptions:page_fault_user (x86 only: a fault's address, at its entry), or where
// that is missing (arm64) the software perf event page-faults (the address, at the fault's
// entry; not whether it was a write, so no copy-on-write notes come from it),
// filemap:mm_filemap_fault (a fault that had to look the page up: the file and page),
// filemap:mm_filemap_map_pages (fault-around: the window of pages it was asked to map, raised
// only when it found a cached page), kmem:rss_stat (a process's count of mapped file,
// anonymous and shmem pages, raised as each changes) and the page-cache fills and readahead
// raised while the fault ran.
//
// A fault-around window is what filemap_map_pages was asked, not what it mapped: it skips pages
// not cached or still being read, and pages mapped already, and windows of successive faults
// overlap. The pages it mapped are the rise of the file-page count (rss_stat) raised just
// before its event. Since 6.2 every change of the count is traced; before, the counts are
// batched per task (64 faults) and a fault's own change is not told: then fault-around counts
// are not said and the mmap lesson counts faults, as a lower bound.
//
// rss_stat's size is the whole count: a change is the difference from the previous event of
// the same mm and counter. A count is known from the first event of an mm the trace saw being
// built (exec's new mm, a fork child's; raised by another task, curr=0); an mm that existed
// before tracing (-p) has no known start, so its first change is not told. Concurrent faults of
// several threads in one mm can shift a change onto the wrong fault; the totals stay right.

// isUserFault reports whether a kernel event is a user page fault's entry: the tracepoint, or the
// perf event standing in for it.
func isUserFault(name string) bool { return name == "page_fault_user" || name == "page-faults" }

// rss members (enum of MM_FILEPAGES…).
const (
	mmFilePages  = 0
	mmAnonPages  = 1
	mmShmemPages = 3
)

// mmCounts is the last rss_stat count of one mm, by member, in pages.
type mmCounts map[int64]int64

// userFault is a page fault outside any syscall, from its first event on, per thread.
type userFault struct {
	first    *event.Kernel // page_fault_user, or the first file-fault event (arm64)
	m        *mapping
	page     uint64
	write    bool
	io       []*event.Kernel // fills, readahead, block requests
	noted    bool            // its I/O has been said
	lookedUp bool            // filemap_fault ran for its file: fills of that file are its own
	file     int64           // change of the file (and shmem) page count in it
	anon     int64
	counted  bool // some rss change was seen
	// last is the latest event taken as this fault's (the fault itself, its lookup, its I/O, its
	// count changes): when the fault began with a user page fault, such an event was raised in
	// user mode, between calls, and no call caused it.
	last *event.Kernel
	ino  uint64 // the file filemap_fault or fault-around named, mapping modelled or not
}

// inUserFault reports whether k was taken as part of a page fault its thread took in user mode.
func (a *Annotator) inUserFault(k *event.Kernel) bool {
	f := a.faults[k.TID]
	return f != nil && f.last == k && isUserFault(f.first.Name)
}

// trackRSS computes the change an rss_stat event shows, in pages, and records it on the event
// (pages=+16), for every rss_stat in arrival order (the count is per mm, shared by threads).
func (a *Annotator) trackRSS(k *event.Kernel) {
	id, _ := k.Args.Int("mm_id")
	member, _ := k.Args.Int("member")
	size, _ := k.Args.Int("size")
	n := size / pageSize
	c, seen := a.mms[id]
	if !seen {
		c = mmCounts{}
		a.mms[id] = c
		if curr, _ := k.Args.Int("curr"); curr == 0 {
			c[-1] = 1 // a new mm being built: every count starts at zero
		}
	}
	prev, have := c[member]
	if !have && c[-1] == 1 {
		prev, have = 0, true
	}
	c[member] = n
	if have {
		k.Args = setField(k.Args, "pages", fmt.Sprintf("%+d", n-prev))
	}
}

// rssOf reads the change trackRSS recorded on an rss_stat event.
func rssOf(k *event.Kernel) (member, delta int64, ok bool) {
	member, _ = k.Args.Int("member")
	v, ok := k.Args.Str("pages")
	if !ok {
		return member, 0, false
	}
	_, err := fmt.Sscanf(v, "%d", &delta)
	return member, delta, err == nil
}

// trackFault follows the page faults a thread takes outside syscalls, and says on their
// events what each did: the pages it filled into the cache and the readahead, fault-around's
// count, copy-on-write. It also counts, per mapping, the pages faults mapped.
func (a *Annotator) trackFault(k *event.Kernel) {
	if k.UntracedCall != "" {
		// raised inside a call -e does not trace: the thread has left any fault it was in
		a.endFault(k.TID)
		return
	}
	prev := a.prevEv[k.TID]
	a.prevEv[k.TID] = k
	p := a.proc(k.PID)
	f := a.faults[k.TID]
	switch k.Name {
	case "page_fault_user", "page-faults":
		a.endFault(k.TID)
		f = &userFault{first: k, last: k}
		if addr, ok := k.Args.Int("address"); ok {
			if m, ok := p.find(uint64(addr)); ok && m.path != "" {
				f.m = m
				f.page = m.pgoff + (uint64(addr)-m.start)/pageSize
				m.faults++
				m.touched[f.page] = true
			}
		}
		if ec, ok := k.Args.Int("error_code"); ok && ec&2 != 0 {
			f.write = true
		}
		a.faults[k.TID] = f
		return
	case "mm_filemap_fault", "mm_filemap_map_pages":
		ino, _ := k.Args.Int("i_ino")
		idx, _ := k.Args.Int("index")
		if f == nil || f.m != nil && f.m.ino != uint64(ino) {
			a.endFault(k.TID)
			f = &userFault{first: k, m: p.byIno(uint64(ino)), page: uint64(idx)}
			if f.m != nil {
				f.m.faults++
			}
			a.faults[k.TID] = f
		} else if f.m == nil {
			f.m = p.byIno(uint64(ino))
		}
		f.last, f.ino = k, uint64(ino)
		if f.m == nil {
			return
		}
		if k.Name == "mm_filemap_fault" {
			f.m.touched[uint64(idx)] = true
			f.lookedUp = true
			return
		}
		a.noteFaultIO(k, f)
		last, _ := k.Args.Int("last_index")
		for pg := idx; pg <= last; pg++ {
			if a.file(uint64(ino)).cached(uint64(pg), uint64(pg)) {
				f.m.touched[uint64(pg)] = true
			}
		}
		if prev != nil && prev.Name == "rss_stat" && !a.RSSBatched {
			if member, n, ok := rssOf(prev); ok && (member == mmFilePages || member == mmShmemPages) {
				k.Notes = append(k.Notes, fmt.Sprintf("fault-around mapped %s of %s (asked pages %d–%d)", pages(n), a.fileName(uint64(ino)), idx, last))
			}
		}
		return
	}
	if f == nil {
		return
	}
	if f.m != nil && namesInode(k, f.m.ino) || f.ino != 0 && namesInode(k, f.ino) ||
		k.Name == "block_rq_issue" && (f.m != nil || f.ino != 0) {
		// the fault's own file, or a block request, raised by the faulting thread before its
		// next call: the fault's work (its fills, readahead and reads, the dirtying of a written
		// page)
		f.last = k
	}
	switch k.Name {
	case "mm_filemap_add_to_page_cache", "page_cache_sync_ra", "page_cache_async_ra", "page_cache_ra_order",
		"page_cache_ra_unbounded", "block_rq_issue":
		// Calls -e does not trace are told apart (UntracedCall) and end the fault; of what else
		// comes between calls (execve's and exit_group's work, recorded at their entry), only I/O
		// a fault can cause is taken as its own — on the file of its mapping, after filemap_fault
		// looked the page up (kernels without mm_filemap_fault get no fault I/O notes).
		if !f.lookedUp {
			return
		}
		if ino, ok := k.Args.Int("i_ino"); ok && uint64(ino) != f.m.ino {
			return
		}
		if k.Name == "block_rq_issue" && len(f.io) == 0 {
			return
		}
		f.io = append(f.io, k)
		f.last = k
		if f.first.Seq != 0 {
			k.Args = setField(k.Args, "fault_seq", int64(f.first.Seq))
		}
	case "rss_stat":
		f.last = k
		member, delta, ok := rssOf(k)
		if !ok {
			return
		}
		f.counted = true
		switch member {
		case mmFilePages, mmShmemPages:
			f.file += delta
		case mmAnonPages:
			f.anon += delta
		}
		a.noteFaultIO(k, f)
		if member == mmAnonPages && delta == 1 && f.write && f.m != nil && f.m.private && !a.RSSBatched {
			how := fmt.Sprintf("file pages mapped %d, anonymous %+d", f.file, delta)
			if f.file >= 0 {
				how = fmt.Sprintf("anonymous %+d: the page was not mapped before", delta)
			}
			k.Notes = append(k.Notes, fmt.Sprintf("copy-on-write: the write to page %d of %s (MAP_PRIVATE) gave this process its own copy (%s); the file's page is unchanged",
				f.page, f.m.path, how))
		}
	}
}

// namesInode reports whether a kernel event is about inode ino (i_ino, or writeback's ino).
func namesInode(k *event.Kernel, ino uint64) bool {
	n, ok := k.Args.Int("i_ino")
	if !ok {
		n, ok = k.Args.Int("ino")
	}
	return ok && uint64(n) == ino
}

// noteFaultIO says, on the first event after a fault's page-cache fills, what the fault read.
func (a *Annotator) noteFaultIO(k *event.Kernel, f *userFault) {
	if f.noted || len(f.io) == 0 {
		return
	}
	f.noted = true
	where := "a page fault"
	if f.m != nil {
		where = fmt.Sprintf("the page fault on page %d of %s", f.page, f.m.path)
	}
	if f.first.Seq != 0 {
		where += fmt.Sprintf(" (seq %d)", f.first.Seq)
	}
	var added pageRun
	var ino int64
	var reqs, bytes int64
	for _, e := range f.io {
		switch e.Name {
		case "mm_filemap_add_to_page_cache":
			ino, _ = e.Args.Int("i_ino")
			idx, _ := e.Args.Int("index")
			order, _ := e.Args.Int("order")
			added.add(idx, 1<<order)
		case "block_rq_issue":
			if _, again := e.Args.Get("reissued"); !again {
				reqs++
				n, _ := e.Args.Int("bytes")
				bytes += n
			}
		}
	}
	if added.pages == 0 {
		return
	}
	n := fmt.Sprintf("%s filled %s of %s into the page cache (%s)", where, pages(added.pages), a.fileName(uint64(ino)), added.span())
	if ra := a.readaheadNotes(f.io, "", false); len(ra) > 0 {
		n += ": " + strings.Join(ra, "; ")
	}
	if reqs > 0 {
		n += fmt.Sprintf("; %d block request%s (%s)", reqs, plural(reqs), bytesText(bytes))
	}
	k.Notes = append(k.Notes, n)
}

// endFault closes a thread's fault: its mapping's count of pages moved.
func (a *Annotator) endFault(tid uint32) {
	f := a.faults[tid]
	delete(a.faults, tid)
	delete(a.prevEv, tid)
	if f == nil || f.m == nil {
		return
	}
	switch {
	case !f.counted || a.RSSBatched:
		// a fault on a file mapping that changed no count: the counts lag (before 6.2), or
		// kmem:rss_stat is not traced
		f.m.movedKnown = false
	case f.file > 0:
		f.m.moved += f.file
	case f.file == 0 && f.anon > 0:
		f.m.moved += f.anon // a private copy of a page that was not mapped yet
	}
}

// callRSS sums the rss changes inside one syscall, by member, and the drops alone; told says
// whether every change was told. Before 6.2 the counts are batched: a call's rises may be other
// faults' (told is false), but a drop is the call's own unmapping, exactly.
func (a *Annotator) callRSS(caused []*event.Kernel) (file, anon, fileDrop, anonDrop int64, told bool) {
	told = !a.RSSBatched
	for _, k := range caused {
		if k.Name != "rss_stat" {
			continue
		}
		member, delta, ok := rssOf(k)
		if !ok {
			told = false
			continue
		}
		switch member {
		case mmFilePages, mmShmemPages:
			file += delta
			fileDrop += min(delta, 0)
		case mmAnonPages:
			anon += delta
			anonDrop += min(delta, 0)
		}
	}
	return
}

// faultAround says what fault-around did inside a syscall (MAP_POPULATE, a read into a mapped
// buffer): the pages it mapped — the rise of the file-page count just before each
// mm_filemap_map_pages — and the windows it was asked.
func (a *Annotator) faultAround(caused []*event.Kernel) string {
	var asked, mapped int64
	told := true
	var prev *event.Kernel
	windows := 0
	for _, k := range caused {
		if k.Name == "mm_filemap_map_pages" {
			windows++
			first, _ := k.Args.Int("index")
			last, _ := k.Args.Int("last_index")
			asked += last - first + 1
			member, n, ok := int64(-1), int64(0), false
			if prev != nil && prev.Name == "rss_stat" {
				member, n, ok = rssOf(prev)
			}
			if ok && !a.RSSBatched && (member == mmFilePages || member == mmShmemPages) {
				mapped += max(n, 0)
			} else {
				told = false
			}
		}
		prev = k
	}
	if windows == 0 {
		return ""
	}
	if !told {
		if windows == 1 {
			return fmt.Sprintf("fault-around was asked to map %s (how many it mapped is not told by this trace: no kmem:rss_stat)", pages(asked))
		}
		return fmt.Sprintf("fault-around was asked to map %s in %d windows (they overlap; how many it mapped is not told by this trace: no kmem:rss_stat)", pages(asked), windows)
	}
	if windows == 1 {
		return fmt.Sprintf("fault-around mapped %s of the %s it was asked (it skips pages not cached or not yet read)", pages(mapped), pages(asked))
	}
	return fmt.Sprintf("fault-around mapped %s (%d windows asked for %s in all: they overlap, and it skips pages not cached or not yet read)", pages(mapped), windows, pages(asked))
}

// mappingLesson is the article's mmap lesson, stated from the trace when a file mapping goes
// (munmap, exec, exit): the file's pages moved through page faults, not read()/write().
// unmapped is the drop of the file-page count the removal itself caused (-1: not told).
func mappingLesson(m *mapping, unmapped int64, how string) string {
	if m.path == "" || m.rw || m.faults == 0 && m.moved == 0 && unmapped <= 0 {
		return ""
	}
	n := fmt.Sprintf("zero read()/write() calls on %s while it was mapped: ", m.path)
	if m.rwCalls > 0 {
		n = fmt.Sprintf("while it was mapped, %d read()/write() call%s on %s moved %s, and ", m.rwCalls, plural(m.rwCalls), m.path, bytesText(m.rwBytes))
	}
	switch {
	case m.movedKnown && m.moved > 0:
		n += fmt.Sprintf("%s (%s) moved through page faults on this mapping", pages(m.moved), bytesText(m.moved*pageSize))
		if unmapped >= 0 {
			n += fmt.Sprintf("; %s unmapped %s", how, pages(unmapped))
		}
	case unmapped > 0:
		n += fmt.Sprintf("%s (%s) were mapped through page faults when %s removed the mapping", pages(unmapped), bytesText(unmapped*pageSize), how)
	default:
		n += fmt.Sprintf("at least %s moved through page faults on this mapping (%d fault%s seen; the pages fault-around added are not told by this trace)",
			pages(m.faults), m.faults, plural(m.faults))
	}
	if m.lossy {
		n += "; kernel events were lost while it was mapped, so these counts are lower bounds"
	}
	return n
}
