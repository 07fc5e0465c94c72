package annotate

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// file is one open file description: what open(), socket(), pipe()… created. Descriptors made
// by dup and inherited across fork point at the same one, which is what makes them share an
// offset and status flags.
type file struct {
	id     int // short per-run identity, shown as #id
	path   string
	ino    uint64 // 0 when unknown (not a regular file)
	direct bool   // opened with O_DIRECT
	advice string // the POSIX_FADV_NORMAL/SEQUENTIAL/RANDOM mode fadvise set, "" if none
	// interest is the interest list, when this is an epoll instance.
	interest *interest
	// regs are the epoll registrations watching this file.
	regs []*registration
	// ring is the io_uring instance, when this is one.
	ring *ring
}

type fd struct {
	f       *file
	cloexec bool
}

// proc is the model of one traced process.
type proc struct {
	fds  map[int64]fd
	cwd  string
	maps []*mapping
	aio  map[string]*aioContext // by context id
}

func newProc() *proc { return &proc{fds: make(map[int64]fd), aio: map[string]*aioContext{}} }

func (p *proc) clone() *proc {
	// AIO contexts are not inherited across fork
	c := &proc{fds: make(map[int64]fd, len(p.fds)), cwd: p.cwd, maps: cloneMaps(p.maps), aio: map[string]*aioContext{}}
	for n, d := range p.fds {
		c.fds[n] = d
	}
	return c
}

// execed drops the descriptors marked close-on-exec and reports them.
func (p *proc) execed() []int64 {
	var closed []int64
	for n, d := range p.fds {
		if d.cloexec {
			delete(p.fds, n)
			closed = append(closed, n)
		}
	}
	return closed
}

// Seed is what a process already had when tracing began — its descriptors and working
// directory, read from /proc (stdin/stdout/stderr of a launched command, everything of a -p
// target). It is taken once, live, and kept in the recording, so re-reading a recording models
// the same process.
type Seed struct {
	PID int      `json:"pid"`
	CWD string   `json:"cwd,omitempty"`
	FDs []SeedFD `json:"fds,omitempty"`
	// ForExec: the process is about to exec its command, so only what survives the exec stays.
	ForExec bool `json:"for_exec,omitempty"`
}

// SeedFD is one descriptor of a Seed.
type SeedFD struct {
	FD      int64  `json:"fd"`
	Path    string `json:"path"`
	Ino     uint64 `json:"ino,omitempty"`
	Cloexec bool   `json:"cloexec,omitempty"`
}

// ReadSeed reads pid's descriptors from /proc, leaving out skip (the launcher's own).
func ReadSeed(pid int, forExec bool, skip ...int64) Seed {
	s := Seed{PID: pid, ForExec: forExec}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return s
	}
next:
	for _, e := range ents {
		n, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		for _, k := range skip {
			if n == k {
				continue next
			}
		}
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		s.FDs = append(s.FDs, SeedFD{FD: n, Path: target, Ino: statIno(filepath.Join(dir, e.Name())), Cloexec: fdCloexec(uint32(pid), n)})
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil {
		s.CWD = cwd
	}
	return s
}

// seeded builds the model of a seeded process.
func (a *Annotator) seeded(s Seed) *proc {
	p := newProc()
	for _, d := range s.FDs {
		f := a.newFile(d.Path)
		f.ino = d.Ino
		a.knowFile(f.ino, d.Path)
		p.fds[d.FD] = fd{f: f, cloexec: d.Cloexec}
	}
	p.cwd = s.CWD
	if s.ForExec {
		p.execed()
	}
	return p
}

// fdCloexec reads the close-on-exec flag from /proc/PID/fdinfo/N.
func fdCloexec(pid uint32, n int64) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, n))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && flags&0o2000000 != 0
		}
	}
	return false
}

func (a *Annotator) newFile(path string) *file {
	a.nextFile++
	return &file{id: a.nextFile, path: path}
}

// cloneMaps copies a process's mappings for its fork child.
func cloneMaps(maps []*mapping) []*mapping {
	out := make([]*mapping, len(maps))
	for i, m := range maps {
		c := *m
		c.touched = make(map[uint64]bool, len(m.touched))
		for k, v := range m.touched {
			c.touched[k] = v
		}
		out[i] = &c
	}
	return out
}
