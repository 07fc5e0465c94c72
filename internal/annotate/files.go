package annotate

import (
	"fmt"
	"os"
	"syscall"
)

// fileInfo is what the trace showed of a file's pages, by inode.
type fileInfo struct {
	path   string
	folios map[uint64]int64 // page index -> pages in the folio starting there, as the cache fills
	dirty  map[uint64]bool  // folio start indexes dirtied and not yet written back
}

// dirtyPages counts the pages of the dirty folios.
func (fi *fileInfo) dirtyPages() int64 {
	var n int64
	for idx := range fi.dirty {
		n += max(fi.folios[idx], 1)
	}
	return n
}

func (a *Annotator) file(ino uint64) *fileInfo {
	fi, ok := a.inodes[ino]
	if !ok {
		fi = &fileInfo{folios: map[uint64]int64{}, dirty: map[uint64]bool{}}
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
