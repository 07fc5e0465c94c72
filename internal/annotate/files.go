package annotate

import (
	"fmt"
	"os"
	"syscall"
)

// fileInfo is what the model knows of a file by inode.
type fileInfo struct {
	path   string
	size   int64
	direct bool            // opened with O_DIRECT
	dirty  map[uint64]bool // page indexes dirtied and not yet written back, as the trace shows
}

// learnFile stats an opened file (live runs only) so kernel events, which name inodes, can be
// told in file names.
func (a *Annotator) learnFile(statPath, path string, direct bool) uint64 {
	if !a.FromProc {
		return 0
	}
	st, err := os.Stat(statPath)
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	fi := a.inodes[sys.Ino]
	fi.path, fi.size = path, st.Size()
	fi.direct = fi.direct || direct
	a.inodes[sys.Ino] = fi
	return sys.Ino
}

// fileName names an inode for a note.
func (a *Annotator) fileName(ino uint64) string {
	if fi, ok := a.inodes[ino]; ok && fi.path != "" {
		return fi.path
	}
	return fmt.Sprintf("inode %d", ino)
}

func procFD(pid uint32, fd int64) string { return fmt.Sprintf("/proc/%d/fd/%d", pid, fd) }
