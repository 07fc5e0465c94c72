package annotate

import (
	"fmt"
	"os"
	"syscall"
)

// fileInfo is what the trace showed of a file's pages, by inode: which folios are cached and
// in which state. Pages cached before tracing began are unknown to it; notes built from it count
// only the pages the trace saw.
type fileInfo struct {
	path  string
	dev   string           // "MAJ:MIN", from the page-cache events
	size  int64            // bytes, as a call on it last saw (-1: unknown)
	folio map[uint64]int64 // page index -> pages in the folio starting there, as the cache fills
	// dirty folios (by start index), dirtied and not yet seen written back.
	dirty map[uint64]bool
	// writeback holds the folios whose writeback the trace saw start (DONTNEED,
	// sync_file_range) and not yet end, with the writeback that covers them.
	writeback map[uint64]*writeback
}

// pagesOf counts the pages of the folio starting at idx (1 when its size is unknown).
func (fi *fileInfo) pagesOf(idx uint64) int64 { return max(fi.folio[idx], 1) }

// clean marks the folios in [first, last] written back: neither dirty nor under writeback.
func (fi *fileInfo) clean(first, last uint64) {
	for idx := range fi.dirty {
		if idx >= first && idx <= last {
			delete(fi.dirty, idx)
		}
	}
	for idx := range fi.writeback {
		if idx >= first && idx <= last {
			delete(fi.writeback, idx)
		}
	}
}

const allPages = ^uint64(0)

func (a *Annotator) file(ino uint64) *fileInfo {
	fi, ok := a.inodes[ino]
	if !ok {
		fi = &fileInfo{size: -1, folio: map[uint64]int64{}, dirty: map[uint64]bool{}, writeback: map[uint64]*writeback{}}
		a.inodes[ino] = fi
	}
	return fi
}

// knowFile names an inode; kernel events name files by inode.
func (a *Annotator) knowFile(ino uint64, path string) {
	if ino != 0 && path != "" {
		a.file(ino).path = path
	}
}

// statIno finds the inode of a descriptor a process already had when tracing began (read from
// /proc while the process cannot change it: before it is released, or once at attach).
func statIno(statPath string) uint64 {
	st, err := os.Stat(statPath)
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Ino
	}
	return 0
}

// fileName names an inode for a note.
func (a *Annotator) fileName(ino uint64) string {
	if fi, ok := a.inodes[ino]; ok && fi.path != "" {
		return fi.path
	}
	return fmt.Sprintf("inode %d", ino)
}
