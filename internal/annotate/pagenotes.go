package annotate

import (
	"fmt"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// pageNotes are a syscall's notes about the page cache, readahead and mappings, from the
// kernel events it caused (see pagecache.go, readahead.go, faults.go for what each shows).
func (a *Annotator) pageNotes(s *event.Syscall, caused []*event.Kernel, e *effects) []string {
	a.endFault(s.TID) // a user fault ends where the thread enters a syscall
	var notes []string
	advice, _ := s.Decoded.Str("advice")
	fadvise := s.Name == "fadvise64" || s.Name == "fadvise64_64" // the arm64 name
	p := a.proc(s.PID)
	var fdFile *file
	if v, ok := s.Arg("fd"); ok {
		if d, ok := p.fds[int64(int32(v))]; ok {
			fdFile = d.f
		}
	}
	what := s.Name
	if fadvise {
		what = fmt.Sprintf("%s %s", s.Name, strings.TrimPrefix(advice, "POSIX_FADV_"))
	}
	c := a.explainedCall(s, fmt.Sprintf("%s (seq %d)", what, s.Seq))
	if fadvise && fdFile != nil && !s.Failed() {
		switch advice {
		case "POSIX_FADV_NORMAL", "POSIX_FADV_SEQUENTIAL", "POSIX_FADV_RANDOM":
			fdFile.advice = advice // the open file's readahead mode
		}
	}

	dontneed := fadvise && advice == "POSIX_FADV_DONTNEED" && !s.Failed()
	for _, ino := range sortedKeys(e.evicted) {
		r := e.evicted[ino]
		if dontneed {
			notes = append(notes, a.dontneedNote(s, uint64(ino), r, c))
			continue
		}
		notes = append(notes, fmt.Sprintf("evicted %s of %s from the page cache (%s)", pages(r.pages), a.fileName(uint64(ino)), r.span()))
	}
	if dontneed && len(e.evicted) == 0 {
		if ino, ok := s.Decoded.Int("fd_ino"); ok {
			notes = append(notes, a.dontneedNote(s, uint64(ino), nil, c))
		} else if path, ok := s.Decoded.Str("fd"); ok {
			notes = append(notes, "DONTNEED evicted nothing of "+path)
		}
	}

	willneed := fadvise && advice == "POSIX_FADV_WILLNEED" && !s.Failed()
	if willneed {
		ino, ok := s.Decoded.Int("fd_ino")
		if !ok && fdFile != nil && fdFile.ino != 0 {
			ino, ok = int64(fdFile.ino), true
		}
		if keys := sortedKeys(e.added); !ok && len(keys) == 1 {
			ino, ok = keys[0], true
		}
		if ok {
			notes = append(notes, a.willneedNote(s, uint64(ino), e.added[ino], caused, c))
		}
	}
	for _, ino := range sortedKeys(e.added) {
		if writes[s.Name] || willneed {
			continue // a write caching the pages it writes is expected; the kernel lines show it
		}
		r := e.added[ino]
		notes = append(notes, fmt.Sprintf("added %s of %s to the page cache (%s)", pages(r.pages), a.fileName(uint64(ino)), r.span()))
	}

	fdAdvice := ""
	if fdFile != nil {
		fdAdvice = fdFile.advice
	}
	if e.readahead {
		notes = append(notes, a.readaheadNotes(caused, fdAdvice, willneed)...)
	} else if a.InferReadahead {
		notes = append(notes, a.inferRA(s, e, fdAdvice)...)
	}

	if n := a.faultAround(caused); n != "" {
		notes = append(notes, n)
	}
	notes = append(notes, a.mappingNotes(s, p, caused)...)
	if e.faults > 0 {
		notes = append(notes, fmt.Sprintf("%d page fault%s inside the call", e.faults, plural(e.faults)))
	}
	return notes
}

// waitNotes say what a call that blocked was waiting for, where the trace shows it: a read
// that filled nothing and blocked while block I/O another call issued (WILLNEED, readahead)
// completed was waiting for pages that were cached but not yet read.
func (a *Annotator) waitNotes(s *event.Syscall, e *effects) []string {
	if len(e.blocked) == 0 || len(e.added) > 0 || e.blockIssued > 0 || !reads[s.Name] {
		return nil
	}
	by := a.waitedOn(s, e.blocked)
	if len(by) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("its pages were in the page cache but not yet read: while it was blocked, the block I/O that %s issued completed", strings.Join(by, " and "))}
}

// mappingNotes are what a call did to mappings: the pages MAP_POPULATE mapped, and the mmap
// lesson for the file mappings munmap or exec removed.
func (a *Annotator) mappingNotes(s *event.Syscall, p *proc, caused []*event.Kernel) []string {
	file, _, fileDrop, anonDrop, told := a.callRSS(caused)
	var notes []string
	switch s.Name {
	case "mmap":
		flags, _ := s.Arg("flags")
		m, ok := p.find(uint64(s.Ret))
		if s.Failed() || !ok || m.path == "" || flags&mapPopulate == 0 {
			break
		}
		if told && file > 0 {
			m.moved += file
			notes = append(notes, fmt.Sprintf("MAP_POPULATE mapped %s of %s inside mmap: touching them later takes no fault", pages(file), m.path))
		} else {
			m.movedKnown = false
		}
	case "munmap":
		gone := a.unmapped[s.TID]
		delete(a.unmapped, s.TID)
		files := 0
		for _, m := range gone {
			if m.path != "" {
				files++
			}
		}
		// the drops are told when rss_stat is traced (some event in the call) and each is known
		dropsTold, seen := true, false
		for _, k := range caused {
			if k.Name == "rss_stat" {
				_, _, ok := rssOf(k)
				dropsTold, seen = dropsTold && ok, true
			}
		}
		dropsTold = dropsTold && seen
		for _, m := range gone {
			unmapped := int64(-1)
			if dropsTold && files == 1 && m.path != "" {
				unmapped = -fileDrop
				if m.private {
					unmapped -= anonDrop // its private copies were file pages once
				}
			}
			if n := mappingLesson(m, unmapped, "munmap"); n != "" {
				notes = append(notes, n)
			}
		}
	case "execve", "execveat":
		gone := a.unmapped[s.TID]
		delete(a.unmapped, s.TID)
		for _, m := range gone {
			if n := mappingLesson(m, -1, "exec"); n != "" {
				notes = append(notes, n)
			}
		}
	}
	return notes
}

// exitLessons are the mmap lessons for the file mappings a process still had when it exited.
func (a *Annotator) exitLessons(p *proc) []string {
	var notes []string
	for _, m := range p.maps {
		if n := mappingLesson(m, -1, "exit"); n != "" {
			notes = append(notes, n)
		}
	}
	return notes
}
