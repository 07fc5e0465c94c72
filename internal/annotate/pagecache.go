package annotate

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// The page-cache model: which folios of a file the trace saw cached, dirty or under writeback.
//
// Tracepoints: filemap:mm_filemap_add_to_page_cache and mm_filemap_delete_from_page_cache (a
// folio cached and dropped), writeback:writeback_dirty_folio (dirtied, by write() or through a
// shared mapping), writeback:sb_clear_inode_writeback (the file has no page under writeback
// any more; raised where the I/O completes, so it is missed when that CPU ran another process),
// and the block requests of the call that started writeback (block.go).
//
// A folio stops being dirty when a call is seen to write it back and wait (fsync, fdatasync,
// sync, syncfs, msync MS_SYNC, sync_file_range with WRITE|WAIT_AFTER), or when the writeback a
// call started (DONTNEED, sync_file_range WRITE) is seen to complete. Writeback the flusher
// threads do on their own is not traced per page: a page they wrote stays "dirty" here, which
// the notes say as "dirty as far as the trace shows".

// writeback is one start of writeback the trace saw, by a call that issued block writes.
type writeback struct {
	ino    uint64
	call   *ioCall
	folios []uint64
	bytes  int64 // the page bytes it covers: complete once the call's writes reached that much
	done   bool
}

// trackPages updates the page states for one kernel event.
func (a *Annotator) trackPages(k *event.Kernel) {
	switch k.Name {
	case "mm_filemap_add_to_page_cache":
		ino, _ := k.Args.Int("i_ino")
		idx, _ := k.Args.Int("index")
		order, _ := k.Args.Int("order")
		fi := a.file(uint64(ino))
		fi.folio[uint64(idx)] = 1 << order
		if dev, ok := k.Args.Str("s_dev"); ok {
			fi.dev = dev
		}
	case "writeback_dirty_folio", "writeback_dirty_page":
		ino, _ := k.Args.Int("ino")
		idx, _ := k.Args.Int("index")
		a.file(uint64(ino)).dirty[uint64(idx)] = true
	case "mm_filemap_delete_from_page_cache":
		ino, _ := k.Args.Int("i_ino")
		idx, _ := k.Args.Int("index")
		fi := a.file(uint64(ino))
		delete(fi.dirty, uint64(idx))
		delete(fi.writeback, uint64(idx))
		delete(fi.folio, uint64(idx))
	case "sb_clear_inode_writeback":
		ino, _ := k.Args.Int("ino")
		fi := a.file(uint64(ino))
		var n int64
		for idx := range fi.writeback {
			n += fi.pagesOf(idx)
		}
		clear(fi.writeback)
		if n > 0 {
			k.Notes = append(k.Notes, fmt.Sprintf("no page of %s is under writeback any more: %s written back", a.fileName(uint64(ino)), pages(n)))
		}
	}
}

// finishWriteback marks the folios of wb written back and returns how many pages that cleans.
func (a *Annotator) finishWriteback(wb *writeback) int64 {
	wb.done = true
	fi := a.file(wb.ino)
	var n int64
	for _, idx := range wb.folios {
		if fi.writeback[idx] == wb {
			delete(fi.writeback, idx)
			n += fi.pagesOf(idx)
		}
	}
	return n
}

// Flags of msync and sync_file_range.
const (
	msSync           = 4
	syncFileRangeWr  = 2
	syncFileRangeWai = 4
)

// synced applies a successful call that wrote pages back and waited for them.
func (a *Annotator) synced(p *proc, s *event.Syscall) {
	argU := func(name string) uint64 { v, _ := s.Arg(name); return v }
	fdIno := func() uint64 {
		if ino, ok := s.Decoded.Int("fd_ino"); ok {
			return uint64(ino)
		}
		if d, ok := p.fds[int64(int32(argU("fd")))]; ok {
			return d.f.ino
		}
		return 0
	}
	switch s.Name {
	case "fsync", "fdatasync":
		if ino := fdIno(); ino != 0 {
			a.file(ino).clean(0, allPages)
		}
	case "sync":
		for _, fi := range a.inodes {
			fi.clean(0, allPages)
		}
	case "syncfs":
		ino := fdIno()
		if ino == 0 {
			return
		}
		dev := a.file(ino).dev
		for other, fi := range a.inodes {
			if other == ino || dev != "" && fi.dev == dev {
				fi.clean(0, allPages)
			}
		}
	case "msync":
		if argU("flags")&msSync == 0 {
			return // MS_ASYNC writes nothing back (since Linux 2.6.19)
		}
		start, end := argU("start"), argU("start")+roundPage(argU("len"))
		for _, m := range p.maps {
			if !m.shared || m.ino == 0 || m.end <= start || m.start >= end {
				continue
			}
			lo, hi := max(start, m.start), min(end, m.end)
			a.file(m.ino).clean(m.pgoff+(lo-m.start)/pageSize, m.pgoff+(hi-m.start-1)/pageSize)
		}
	case "sync_file_range":
		flags := argU("flags")
		if flags&syncFileRangeWr == 0 || flags&syncFileRangeWai == 0 {
			return // writeback started but not waited for: explain follows it through its requests
		}
		if ino := fdIno(); ino != 0 {
			first, last := byteRange(argU("offset"), argU("nbytes"))
			a.file(ino).clean(first, last)
		}
	}
}

// byteRange is the pages [first, last] the bytes [off, off+n) touch; n == 0 runs to the end.
func byteRange(off, n uint64) (uint64, uint64) {
	if n == 0 || off+n < off {
		return off / pageSize, allPages
	}
	return off / pageSize, (off + n - 1) / pageSize
}

// startWriteback records that call c, having issued block writes, started the writeback of
// the dirty folios of ino in [first, last].
func (a *Annotator) startWriteback(c *ioCall, ino uint64, first, last uint64) *writeback {
	if c == nil || c.writes == 0 {
		return nil
	}
	fi := a.file(ino)
	wb := &writeback{ino: ino, call: c}
	for idx := range fi.dirty {
		if idx >= first && idx <= last {
			delete(fi.dirty, idx)
			fi.writeback[idx] = wb
			wb.folios = append(wb.folios, idx)
			wb.bytes += fi.pagesOf(idx) * pageSize
		}
	}
	if len(wb.folios) == 0 {
		return nil
	}
	c.wb = wb
	return wb
}

// fadviseRange is the pages DONTNEED drops: only those wholly inside [offset, offset+len)
// (len 0: to the end of the file), as mm/fadvise.c computes them.
func fadviseRange(s *event.Syscall) (first, last uint64, ok bool) {
	off, _ := s.Arg("offset")
	n, _ := s.Arg("len")
	if int64(off) < 0 {
		return 0, 0, false
	}
	end := uint64(math.MaxInt64)
	if n != 0 && off+n-1 >= off && off+n-1 < end {
		end = off + n - 1
	}
	first = (off + pageSize - 1) / pageSize
	last = end / pageSize
	if end%pageSize != pageSize-1 {
		if last == 0 {
			return 0, 0, false
		}
		last--
	}
	if end == math.MaxInt64 {
		last = allPages
	}
	return first, last, first <= last
}

// dontneedNote is what POSIX_FADV_DONTNEED did: "DONTNEED evicted 0 of 256 pages of F
// (1 MiB); 256 pages left: 256 under writeback (this call started it: …)". The file's size is
// the one the BPF side read as the call returned. Each page the trace saw cached in the range
// and still there gets the reason that kept it:
//   - under writeback: DONTNEED starts writeback of the range's dirty pages (the call's block
//     write requests show it) and cannot drop a page while its write is in flight;
//   - dirty: dirty, and no writeback of it seen starting;
//   - mapped: clean, in a live mapping of the file where faults mapped it;
//   - not told by the trace: none of these is shown (pages locked for a read in flight, in a
//     per-CPU LRU batch, or mapped by a process outside the trace look like this).
//
// Pages cached before tracing began are not counted as left: the trace never saw them.
func (a *Annotator) dontneedNote(s *event.Syscall, ino uint64, evicted *pageRun, c *ioCall) string {
	fi := a.file(ino)
	if size, ok := s.Decoded.Int("fd_size"); ok {
		fi.size = size
	}
	name := a.fileName(ino)
	var n string
	switch size := fi.size; {
	case evicted == nil:
		n = "DONTNEED evicted nothing of " + name
	case size > 0:
		// a read at end of file can cache a page past it (5.15 does), and DONTNEED drops it
		filePages := (size + pageSize - 1) / pageSize
		past := evicted.from(filePages)
		n = fmt.Sprintf("DONTNEED evicted %d of %s of %s (%s)", evicted.pages-past, pages(filePages), name, bytesText(size))
		if past > 0 {
			n += fmt.Sprintf(", and %s past its end", pages(past))
		}
	default:
		n = "DONTNEED evicted " + pages(evicted.pages) + " of " + name
	}
	first, last, ok := fadviseRange(s)
	if !ok {
		return n
	}
	off, _ := s.Arg("offset")
	ln, _ := s.Arg("len")
	wfirst, wlast := byteRange(off, ln)
	wb := a.startWriteback(c, ino, wfirst, wlast)
	wbDone := wb != nil && c.wdone >= c.writes && c.wdoneB >= wb.bytes
	if wbDone {
		a.finishWriteback(wb)
	}

	var mine, earlier, dirty, mapped, untold int64
	earlierBy := ""
	var mappedAt []string
	for idx, np := range fi.folio {
		if idx < first || idx > last {
			continue
		}
		np = max(np, 1)
		switch w := fi.writeback[idx]; {
		case w != nil && w == wb, wb != nil && slices.Contains(wb.folios, idx):
			mine += np
		case w != nil:
			earlier += np
			if w.call != nil && w.call.what != "" {
				earlierBy = w.call.what
			}
		case fi.dirty[idx]:
			dirty += np
		default:
			if at := a.mappedAt(ino, idx); at != "" {
				mapped += np
				if !slices.Contains(mappedAt, at) {
					mappedAt = append(mappedAt, at)
				}
			} else {
				untold += np
			}
		}
	}
	left := mine + earlier + dirty + mapped + untold
	if left == 0 {
		return n
	}
	var why []string
	if mine > 0 {
		state := "still in flight when it returned"
		if wbDone {
			state = "completed before it returned, after DONTNEED had tried to drop them"
		}
		why = append(why, fmt.Sprintf("%d under writeback (this call started it: %d block write request%s, %s, %s)",
			mine, c.writes, plural(c.writes), bytesText(c.wbytes), state))
	}
	if earlier > 0 {
		by := "started earlier"
		if earlierBy != "" {
			by = "started by " + earlierBy
		}
		why = append(why, fmt.Sprintf("%d under writeback (%s, not seen completing)", earlier, by))
	}
	if dirty > 0 {
		why = append(why, fmt.Sprintf("%d dirty (no writeback of them seen)", dirty))
	}
	if mapped > 0 {
		why = append(why, fmt.Sprintf("%d mapped (mmap at %s alive)", mapped, strings.Join(mappedAt, ", ")))
	}
	if untold > 0 {
		why = append(why, fmt.Sprintf("%d clean, unmapped as far as the trace shows: what kept them is not told by the trace", untold))
	}
	return fmt.Sprintf("%s; %s left: %s", n, pages(left), strings.Join(why, ", "))
}

// mappedAt names a live mapping of a traced process in which the trace saw page idx of ino
// mapped ("" when none).
func (a *Annotator) mappedAt(ino, idx uint64) string {
	for _, p := range a.procs {
		for _, m := range p.maps {
			if m.ino == ino && m.touched[idx] {
				return fmt.Sprintf("%#x", m.start)
			}
		}
	}
	return ""
}

// cached reports whether the trace saw every page of [first, last] of fi cached.
func (fi *fileInfo) cached(first, last uint64) bool {
	have := map[uint64]bool{}
	for idx, n := range fi.folio {
		for i := range uint64(max(n, 1)) {
			if idx+i >= first && idx+i <= last {
				have[idx+i] = true
			}
		}
	}
	return uint64(len(have)) == last-first+1
}

// willneedNote is what POSIX_FADV_WILLNEED did, from the page-cache fills inside it, its
// forced readahead window (readahead:page_cache_ra_unbounded) and its block requests: the
// pages it inserted, and whether their reads had completed when it returned — the pages are
// in the cache at once, but readable only when their read completes, so a read right after
// can still block.
func (a *Annotator) willneedNote(s *event.Syscall, ino uint64, added *pageRun, window []*event.Kernel, c *ioCall) string {
	name := a.fileName(ino)
	if added == nil {
		lo, hi, ok := windowSpan(window)
		if !ok {
			off, _ := s.Arg("offset")
			ln, _ := s.Arg("len")
			lo, hi = byteRange(off, ln)
			if size, ok := s.Decoded.Int("fd_size"); ok && size > 0 {
				hi = min(hi, uint64(size-1)/pageSize)
			}
		}
		n := fmt.Sprintf("WILLNEED added no page of %s to the page cache", name)
		if hi != allPages && a.file(ino).cached(lo, hi) {
			return n + fmt.Sprintf(": pages %d–%d were cached already", lo, hi)
		}
		return n + " (its pages were cached already, or could not be allocated: the trace shows no fill)"
	}
	n := fmt.Sprintf("WILLNEED inserted %s of %s into the page cache (%s)", pages(added.pages), name, added.span())
	var done int64
	if c != nil {
		done = c.doneBy(s.TS + s.Dur)
	}
	switch {
	case c == nil || c.issued == 0:
		return n + "; no block request went out before it returned (the reads were still queued)"
	case done >= c.issued && c.bytes >= added.pages*pageSize:
		// requests the block layer dispatches later for the call (kblockd) are not known yet
		return n + fmt.Sprintf("; the block requests it issued before returning, as many bytes as the pages (%d, %s), had completed", c.issued, bytesText(c.bytes))
	}
	n += fmt.Sprintf(" and returned with their reads in flight: %d block request%s (%s) issued", c.issued, plural(c.issued), bytesText(c.bytes))
	if done > 0 {
		n += fmt.Sprintf(", %d completed", done)
	} else {
		n += ", none completed"
	}
	if c.bytes < added.pages*pageSize {
		n += fmt.Sprintf("; the requests for the other %s went out after it returned", bytesText(added.pages*pageSize-c.bytes))
	}
	return n + ": a read of those pages waits for them"
}

// windowSpan is the pages the forced-readahead events of a call cover.
func windowSpan(ks []*event.Kernel) (uint64, uint64, bool) {
	var lo, hi uint64
	found := false
	for _, k := range ks {
		if k.Name != "page_cache_ra_unbounded" {
			continue
		}
		idx, _ := k.Args.Int("index")
		nr, _ := k.Args.Int("nr_to_read")
		if nr <= 0 {
			continue
		}
		if !found || uint64(idx) < lo {
			lo = uint64(idx)
		}
		if e := uint64(idx + nr - 1); !found || e > hi {
			hi = e
		}
		found = true
	}
	return lo, hi, found
}
