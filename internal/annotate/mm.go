package annotate

import (
	"github.com/iotrace/iotrace/internal/event"
)

const pageSize = 4096

// mapping is one mmap'd range of a process.
type mapping struct {
	start, end uint64
	path       string // "" for anonymous memory
	pgoff      uint64 // file offset in pages
}

// mapped records a successful mmap.
func (p *proc) mapped(s *event.Syscall, path string) {
	length, _ := s.Arg("len")
	off, _ := s.Arg("off")
	start := uint64(s.Ret)
	p.unmap(start, start+roundPage(length))
	p.maps = append(p.maps, mapping{start: start, end: start + roundPage(length), path: path, pgoff: off / pageSize})
}

// unmap removes [start, end), splitting mappings it cuts.
func (p *proc) unmap(start, end uint64) {
	kept := p.maps[:0]
	var tail []mapping
	for _, m := range p.maps {
		if m.end <= start || m.start >= end {
			kept = append(kept, m)
			continue
		}
		if m.start < start {
			kept = append(kept, mapping{start: m.start, end: start, path: m.path, pgoff: m.pgoff})
		}
		if m.end > end {
			tail = append(tail, mapping{start: end, end: m.end, path: m.path, pgoff: m.pgoff + (end-m.start)/pageSize})
		}
	}
	p.maps = append(kept, tail...)
}

func (p *proc) find(addr uint64) (mapping, bool) {
	for _, m := range p.maps {
		if addr >= m.start && addr < m.end {
			return m, true
		}
	}
	return mapping{}, false
}

func roundPage(n uint64) uint64 { return (n + pageSize - 1) &^ (pageSize - 1) }

// placeFault names the mapping and page a user page fault hit.
func (a *Annotator) placeFault(k *event.Kernel) {
	if k.Name != "page_fault_user" {
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
	k.Args = setField(k.Args, "mapping", name)
	k.Args = setField(k.Args, "page", int64(m.pgoff+(uint64(addr)-m.start)/pageSize))
	if ec, ok := k.Args.Int("error_code"); ok && ec&2 != 0 {
		k.Args = setField(k.Args, "write", true)
	}
}
