// Package annotate keeps a model of the kernel state the target builds — per process, its
// descriptor table with open-file-description identities — and uses it to say what a
// descriptor refers to, and to add notes that state only what the trace shows.
package annotate

import (
	"fmt"
	"path"
	"slices"
	"strconv"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

const oCloexec = 0o2000000 // O_CLOEXEC, SOCK_CLOEXEC and EPOLL_CLOEXEC on both arches

// oDirect is O_DIRECT, whose value differs between the arches.
func oDirect(arch string) uint64 {
	if arch == "arm64" {
		return 0x10000
	}
	return 0x4000
}

// Annotator is the annotation stage. It sees every event in order, once.
type Annotator struct {
	arch     string
	procs    map[uint32]*proc // by pid
	nextFile int
	seq      uint64
	pending  map[uint32][]*event.Kernel // by tid: raised inside a syscall not yet seen
	recent   map[uint32][]recentCall    // by tid: the last syscalls shown
	inodes   map[uint64]*fileInfo       // what the trace showed of a file, by inode
	// FromProc seeds a process first seen from /proc (a live run); off when re-reading a file.
	FromProc bool
	// InferReadahead: the kernel lacks the readahead tracepoints, so readahead is inferred from
	// page-cache fills beyond what a read asked for (and the note says so).
	InferReadahead bool
}

// New returns an annotator for events recorded on arch.
func New(arch string) *Annotator {
	return &Annotator{arch: arch, procs: make(map[uint32]*proc), pending: make(map[uint32][]*event.Kernel),
		recent: make(map[uint32][]recentCall),
		inodes: make(map[uint64]*fileInfo)}
}

// Seed reads a process's current descriptors from /proc, for a -p target when attaching.
func (a *Annotator) Seed(pid int) {
	a.procs[uint32(pid)] = a.seedFromProc(uint32(pid))
}

// SeedForExec seeds a launched target that is about to exec its command: only descriptors that
// survive the exec are kept, and skip (the launcher's own) are left out.
func (a *Annotator) SeedForExec(pid int, skip ...int64) {
	p := a.seedFromProc(uint32(pid))
	p.execed()
	for _, n := range skip {
		delete(p.fds, n)
	}
	a.procs[uint32(pid)] = p
}

func (a *Annotator) proc(pid uint32) *proc {
	p, ok := a.procs[pid]
	if !ok {
		if a.FromProc {
			p = a.seedFromProc(pid)
		} else {
			p = newProc()
		}
		a.procs[pid] = p
	}
	return p
}

func (a *Annotator) process(e *event.Process) {
	switch e.Name {
	case "fork":
		if !e.Thread {
			a.procs[e.ChildPID] = a.proc(e.PID).clone()
		}
	case "exit":
		delete(a.procs, e.PID)
		delete(a.recent, e.TID)
	}
}

func (a *Annotator) syscall(s *event.Syscall) {
	p := a.proc(s.PID)
	spec := syscalls.SpecFor(a.arch, s.Name)
	// Name descriptors as they were when the call was made, before the call changes the table.
	if spec != nil {
		for i, arg := range s.Args {
			if t := spec.ArgType(i); t == syscalls.FD || (t == syscalls.DirFD && int32(arg.Value) != -100) {
				if d, ok := p.fds[int64(int32(arg.Value))]; ok {
					s.Decoded = setField(s.Decoded, arg.Name, d.f.path)
					s.Decoded = setField(s.Decoded, arg.Name+"_file", int64(d.f.id))
				}
			}
		}
	}
	if s.Failed() || s.Unfinished && s.Name != "execve" && s.Name != "execveat" {
		return
	}
	a.update(p, s)
}

// update applies a successful call to the descriptor table.
func (a *Annotator) update(p *proc, s *event.Syscall) {
	arg := func(name string) int64 { v, _ := s.Arg(name); return int64(int32(v)) }
	argU := func(name string) uint64 { v, _ := s.Arg(name); return v }
	ret := s.Ret
	switch s.Name {
	case "open", "creat", "openat", "openat2":
		name, _ := s.Decoded.Str("filename")
		flags := argU("flags")
		if s.Name == "creat" {
			flags = 0
		}
		if s.Name == "openat2" {
			if how, ok := s.Decoded.Get("how"); ok {
				if f, ok := how.(event.Fields); ok {
					if v, ok := f.Int("flags_raw"); ok {
						flags = uint64(v)
					}
				}
			}
		}
		path := a.resolve(p, s, name)
		a.open(p, s, ret, path, flags&oCloexec != 0)
		if d, ok := p.fds[ret]; ok {
			// the BPF side read the inode from the new descriptor as the call returned
			if ino, ok := s.Decoded.Int("ret_ino"); ok {
				d.f.ino = uint64(ino)
				a.knowFile(d.f.ino, path)
			}
			d.f.direct = flags&oDirect(a.arch) != 0
		}
	case "close":
		delete(p.fds, arg("fd"))
	case "dup":
		a.dup(p, s, arg("fildes"), ret, false)
	case "dup2":
		a.dup(p, s, arg("oldfd"), arg("newfd"), false)
	case "dup3":
		a.dup(p, s, arg("oldfd"), arg("newfd"), argU("flags")&oCloexec != 0)
	case "fcntl":
		switch argU("cmd") {
		case 0: // F_DUPFD
			a.dup(p, s, arg("fd"), ret, false)
		case 1030: // F_DUPFD_CLOEXEC
			a.dup(p, s, arg("fd"), ret, true)
		case 2: // F_SETFD
			if d, ok := p.fds[arg("fd")]; ok {
				d.cloexec = argU("arg")&1 != 0
				p.fds[arg("fd")] = d
			}
		}
	case "pipe", "pipe2":
		if fds, ok := s.Decoded.Get("fildes"); ok {
			if pair, ok := fds.([]any); ok && len(pair) == 2 {
				cloexec := argU("flags")&oCloexec != 0
				f := a.newFile("pipe")
				for _, v := range pair {
					n, _ := event.AsInt(v)
					p.fds[n] = fd{f: f, cloexec: cloexec}
				}
			}
		}
	case "socket":
		label := "socket"
		if fam, ok := s.Decoded.Str("family"); ok {
			label = "socket:" + fam
		}
		a.open(p, s, ret, label, argU("type")&oCloexec != 0)
	case "accept", "accept4":
		a.open(p, s, ret, "socket:"+addrText(s.Decoded, "upeer_sockaddr", "accepted"), argU("flags")&oCloexec != 0)
	case "connect", "bind":
		if d, ok := p.fds[arg("fd")]; ok {
			if t := addrText(s.Decoded, "uservaddr", ""); t != "" && s.Name == "connect" {
				d.f.path = "socket:" + t
			} else if t := addrText(s.Decoded, "umyaddr", ""); t != "" {
				d.f.path = "socket:" + t
			}
		}
	case "epoll_ctl":
		a.epollCtl(p, s)
	case "epoll_wait", "epoll_pwait", "epoll_pwait2":
		a.epollReady(p, s)
	case "io_setup", "io_destroy", "io_submit", "io_getevents", "io_pgetevents":
		a.aio(p, s)
	case "epoll_create", "epoll_create1":
		a.open(p, s, ret, "anon_inode:[eventpoll]", argU("flags")&oCloexec != 0)
	case "io_uring_setup":
		a.open(p, s, ret, "anon_inode:[io_uring]", true) // io_uring fds are always O_CLOEXEC
		a.uringSetup(p, s)
	case "io_uring_enter":
		a.uringEnter(p, s)
	case "eventfd2":
		a.open(p, s, ret, "anon_inode:[eventfd]", argU("flags")&oCloexec != 0)
	case "execve", "execveat":
		if closed := p.execed(); len(closed) > 0 {
			slices.Sort(closed)
			s.Notes = append(s.Notes, fmt.Sprintf("close-on-exec closed %s", fdList(closed)))
		}
	case "mmap":
		path := ""
		if fdv := arg("fd"); fdv >= 0 {
			if d, ok := p.fds[fdv]; ok {
				path = d.f.path
			}
		}
		p.mapped(s, path)
	case "munmap":
		length := argU("len")
		for _, m := range p.unmap(argU("addr"), argU("addr")+roundPage(length)) {
			if n := unmapNote(m); n != "" {
				s.Notes = append(s.Notes, n)
			}
		}
	case "read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2":
		if d, ok := p.fds[arg("fd")]; ok {
			p.fileIO(d.f.ino)
		}
	case "fsync", "fdatasync":
		if ino, ok := s.Decoded.Int("fd_ino"); ok {
			clear(a.file(uint64(ino)).dirty) // written back: the call returned success
		}
	case "chdir":
		if name, ok := s.Decoded.Str("filename"); ok {
			p.cwd = a.resolve(p, s, name)
		}
	}
}

func (a *Annotator) open(p *proc, s *event.Syscall, n int64, path string, cloexec bool) {
	if n < 0 {
		return
	}
	f := a.newFile(path)
	p.fds[n] = fd{f: f, cloexec: cloexec}
	s.Decoded = setField(s.Decoded, "ret", path)
	s.Decoded = setField(s.Decoded, "ret_file", int64(f.id))
}

// dup makes newfd name old's open file description; an open newfd is closed first, silently.
func (a *Annotator) dup(p *proc, s *event.Syscall, old, newfd int64, cloexec bool) {
	d, ok := p.fds[old]
	if !ok {
		return
	}
	if prev, open := p.fds[newfd]; open && newfd != old && prev.f != d.f {
		s.Notes = append(s.Notes, fmt.Sprintf("fd %d (%s) was open: %s closed it silently", newfd, prev.f.path, s.Name))
	}
	p.fds[newfd] = fd{f: d.f, cloexec: cloexec}
	s.Decoded = setField(s.Decoded, "ret", d.f.path)
	s.Decoded = setField(s.Decoded, "ret_file", int64(d.f.id))
	if newfd != old {
		s.Notes = append(s.Notes, fmt.Sprintf("fd %d and fd %d share open file #%d", newfd, old, d.f.id))
	}
}

// resolve makes a path absolute where the model knows the directory it is relative to.
func (a *Annotator) resolve(p *proc, s *event.Syscall, name string) string {
	if name == "" || path.IsAbs(name) {
		return name
	}
	dir := p.cwd
	if v, ok := s.Arg("dfd"); ok && int32(v) != -100 {
		dir = ""
		if d, ok := p.fds[int64(int32(v))]; ok {
			dir = d.f.path
		}
	}
	if dir == "" {
		return name
	}
	return path.Join(dir, name)
}

func addrText(f event.Fields, key, fallback string) string {
	v, ok := f.Get(key)
	if !ok {
		return fallback
	}
	a, ok := v.(event.Fields)
	if !ok {
		return fallback
	}
	addr, _ := a.Str("addr")
	port, hasPort := a.Int("port")
	if p, ok := a.Str("path"); ok {
		return p
	}
	if addr == "" {
		return fallback
	}
	if hasPort {
		return addr + ":" + strconv.FormatInt(port, 10)
	}
	return addr
}

func fdList(fds []int64) string {
	s := "fd"
	if len(fds) > 1 {
		s = "fds"
	}
	for i, n := range fds {
		if i > 0 {
			s += ","
		}
		s += " " + strconv.FormatInt(n, 10)
	}
	return s
}

// setField sets key in f, replacing an earlier value.
func setField(f event.Fields, key string, v any) event.Fields {
	for i := range f {
		if f[i].Key == key {
			f[i].Val = v
			return f
		}
	}
	return append(f, event.Field{Key: key, Val: v})
}
