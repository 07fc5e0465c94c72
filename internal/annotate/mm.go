package annotate

import (
	"github.com/iotrace/iotrace/internal/event"
)

const pageSize = 4096

// mmap flags the model needs (the same on both arches).
const (
	mapShared   = 0x01
	mapPrivate  = 0x02
	mapPopulate = 0x8000
)

// mapping is one mmap'd range of a process.
type mapping struct {
	start, end uint64
	path       string // "" for anonymous memory
	ino        uint64 // the mapped file's inode, when the trace read it
	pgoff      uint64 // file offset in pages
	shared     bool   // MAP_SHARED: writes reach the file
	private    bool   // MAP_PRIVATE: a write copies the page (copy-on-write)
	// touched holds the file pages the trace saw mapped here: the faulted page of each fault,
	// and the cached pages of each fault-around window (filemap_map_pages skips the others).
	touched map[uint64]bool
	faults  int64 // page faults seen in it
	lossy   bool  // kernel events were lost while it was mapped: its counts are lower bounds
	// rwCalls counts read/write-family calls on the mapped file while it was mapped, and the
	// bytes they moved: the lesson says "zero read()/write() calls" only when there were none.
	rwCalls, rwBytes int64
	// moved counts the pages faults mapped into it, from kmem:rss_stat: file pages mapped,
	// plus private copies made of pages that were not mapped yet. movedKnown is false when
	// some fault's count was not told (no rss_stat, or counters that lag: kernels before 6.2
	// batch them per task).
	moved      int64
	movedKnown bool
	// rw: read()/write() calls touched the same file meanwhile (the article's mmap copy has none).
	rw bool
}

// mapped records a successful mmap.
func (p *proc) mapped(s *event.Syscall, path string) *mapping {
	length, _ := s.Arg("len")
	off, _ := s.Arg("off")
	flags, _ := s.Arg("flags")
	ino, _ := s.Decoded.Int("fd_ino")
	start := uint64(s.Ret)
	p.unmap(start, start+roundPage(length))
	m := &mapping{start: start, end: start + roundPage(length), path: path, ino: uint64(ino),
		pgoff: off / pageSize, shared: flags&mapShared != 0, private: flags&mapPrivate != 0,
		touched: map[uint64]bool{}, movedKnown: true}
	p.maps = append(p.maps, m)
	return m
}

// unmap removes [start, end), splitting mappings it cuts, and returns the mappings it removed
// entirely.
func (p *proc) unmap(start, end uint64) []*mapping {
	var kept, gone []*mapping
	for _, m := range p.maps {
		switch {
		case m.end <= start || m.start >= end:
			kept = append(kept, m)
		case m.start >= start && m.end <= end:
			gone = append(gone, m)
		default:
			if m.start < start {
				head := *m
				head.end = start
				head.movedKnown = false // the split's pages are not told apart
				kept = append(kept, &head)
			}
			if m.end > end {
				tail := *m
				tail.start, tail.pgoff = end, m.pgoff+(end-m.start)/pageSize
				tail.movedKnown = false
				kept = append(kept, &tail)
			}
		}
	}
	p.maps = kept
	return gone
}

func (p *proc) find(addr uint64) (*mapping, bool) {
	for _, m := range p.maps {
		if addr >= m.start && addr < m.end {
			return m, true
		}
	}
	return nil, false
}

// byIno finds the one mapping of a file in p (nil when none, or several: then a file fault
// without an address cannot be placed).
func (p *proc) byIno(ino uint64) *mapping {
	var found *mapping
	for _, m := range p.maps {
		if m.ino == ino && ino != 0 {
			if found != nil {
				return nil
			}
			found = m
		}
	}
	return found
}

func roundPage(n uint64) uint64 { return (n + pageSize - 1) &^ (pageSize - 1) }

// placeFault names the mapping and page a user page fault hit.
func (a *Annotator) placeFault(k *event.Kernel) {
	if !isUserFault(k.Name) {
		return
	}
	addr, ok := k.Args.Int("address")
	if !ok {
		return
	}
	m, ok := a.proc(k.PID).find(uint64(addr))
	if !ok {
		return
	}
	name := m.path
	if name == "" {
		name = "[anon]"
	}
	page := m.pgoff + (uint64(addr)-m.start)/pageSize
	k.Args = setField(k.Args, "mapping", name)
	k.Args = setField(k.Args, "page", int64(page))
	if ec, ok := k.Args.Int("error_code"); ok && ec&2 != 0 {
		k.Args = setField(k.Args, "write", true)
	}
}

// fileIO marks the mappings of a file that a read()/write() family call touched.
func (p *proc) fileIO(ino uint64) {
	for _, m := range p.maps {
		if m.ino == ino && ino != 0 {
			m.rw = true
		}
	}
}
