package annotate

import (
	"fmt"

	"github.com/iotrace/iotrace/internal/event"
)

const pageSize = 4096

// mapping is one mmap'd range of a process.
type mapping struct {
	start, end uint64
	path       string // "" for anonymous memory
	ino        uint64 // the mapped file's inode, when the trace read it
	pgoff      uint64 // file offset in pages
	// What moved through the mapping: file pages it faulted in, and whether read()/write()
	// calls touched the same file meanwhile (the article's mmap copy has none).
	touched map[uint64]bool
	rw      bool
}

// mapped records a successful mmap.
func (p *proc) mapped(s *event.Syscall, path string) {
	length, _ := s.Arg("len")
	off, _ := s.Arg("off")
	ino, _ := s.Decoded.Int("fd_ino")
	start := uint64(s.Ret)
	p.unmap(start, start+roundPage(length))
	p.maps = append(p.maps, &mapping{start: start, end: start + roundPage(length), path: path, ino: uint64(ino),
		pgoff: off / pageSize, touched: map[uint64]bool{}})
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
				kept = append(kept, &head)
			}
			if m.end > end {
				tail := *m
				tail.start, tail.pgoff = end, m.pgoff+(end-m.start)/pageSize
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

func roundPage(n uint64) uint64 { return (n + pageSize - 1) &^ (pageSize - 1) }

// placeFault names the mapping and page a user page fault hit, and counts file pages that
// moved through a mapping by faults (a fault-around maps a whole range at once).
func (a *Annotator) placeFault(k *event.Kernel) {
	switch k.Name {
	case "page_fault_user":
	case "mm_filemap_map_pages", "mm_filemap_fault":
		ino, _ := k.Args.Int("i_ino")
		first, _ := k.Args.Int("index")
		last, ok := k.Args.Int("last_index")
		if !ok {
			last = first
		}
		for _, m := range a.proc(k.PID).maps {
			if m.ino == uint64(ino) && m.ino != 0 {
				for pg := first; pg <= last; pg++ {
					m.touched[uint64(pg)] = true
				}
			}
		}
		return
	default:
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
	if m.path != "" {
		m.touched[page] = true
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

// unmapNote is the article's mmap lesson, stated from the trace: the pages moved through
// faults, not through read()/write().
func unmapNote(m *mapping) string {
	if m.path == "" || m.rw || len(m.touched) == 0 {
		return ""
	}
	n := int64(len(m.touched))
	return fmt.Sprintf("zero read()/write() calls on %s: %s (%s) moved through page faults on this mapping",
		m.path, pages(n), bytesText(n*pageSize))
}
