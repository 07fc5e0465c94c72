// Package annotate keeps a model of the kernel state the target builds — per process, its
// descriptor table with open-file-description identities — and uses it to say what a
// descriptor refers to, and to add notes that state only what the trace shows.
package annotate

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

const oCloexec = 0o2000000 // O_CLOEXEC, SOCK_CLOEXEC and EPOLL_CLOEXEC on both arches

// maxExited bounds the exited pids remembered (for naming wakers).
const maxExited = 65536

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
	exited   map[uint32]bool  // traced processes that exited: a waker can be one (wait4's child)
	losses   []lossWindow     // recent kernel-event gaps (losses.go)
	nextFile int
	seq      uint64
	pending  map[uint32][]*event.Kernel // by tid: raised inside a syscall not yet seen
	recent   map[uint32][]recentCall    // by tid: the last syscalls shown
	inodes   map[uint64]*fileInfo       // what the trace showed of a file, by inode
	blk      *blockState                // block requests in flight, by the call that issued them
	iot      *ioThreads                 // io_uring's helper threads and the requests they run
	posix    map[uint32][]aioRequest    // by pid: POSIX AIO requests glibc has yet to run
	mms      map[int64]mmCounts         // mapped-page counts, by mm (rss_stat mm_id)
	faults   map[uint32]*userFault      // by tid: the page fault in progress outside syscalls
	prevEv   map[uint32]*event.Kernel   // by tid: its previous kernel event outside syscalls
	unmapped map[uint32][]*mapping      // by tid: mappings its munmap/exec removed, for the notes
	tree     map[uint32]bool            // by pid: processes of the traced tree (calls, forks, seeds)
	// by device and sector: where block requests issued outside calls came from
	reqOutside map[reqKey]reqOrigin
	// InferReadahead: the kernel lacks the readahead tracepoints, so readahead is inferred from
	// page-cache fills beyond what a read asked for (and the note says so).
	InferReadahead bool
	// RSSBatched: the kernel (before 6.2) batches a task's mapped-page counts, so kmem:rss_stat
	// does not tell what each fault mapped (SetKernel sets it from the release).
	RSSBatched bool
}

// SetKernel tells the annotator the release of the kernel the events come from.
func (a *Annotator) SetKernel(release string) {
	var major, minor int
	if _, err := fmt.Sscanf(release, "%d.%d", &major, &minor); err == nil {
		a.RSSBatched = major < 6 || major == 6 && minor < 2
	}
}

// New returns an annotator for events recorded on arch.
func New(arch string) *Annotator {
	return &Annotator{arch: arch, procs: make(map[uint32]*proc), exited: make(map[uint32]bool), pending: make(map[uint32][]*event.Kernel),
		recent: make(map[uint32][]recentCall),
		inodes: make(map[uint64]*fileInfo), blk: newBlockState(), iot: newIOThreads(), posix: map[uint32][]aioRequest{}, mms: map[int64]mmCounts{},
		faults: map[uint32]*userFault{}, prevEv: map[uint32]*event.Kernel{}, unmapped: map[uint32][]*mapping{},
		tree: map[uint32]bool{}, reqOutside: map[reqKey]reqOrigin{}}
}

// Seed models a process from what it had when tracing began.
func (a *Annotator) Seed(s Seed) {
	a.procs[uint32(s.PID)] = a.seeded(s)
	a.tree[uint32(s.PID)] = true
}

func (a *Annotator) proc(pid uint32) *proc {
	p, ok := a.procs[pid]
	if !ok {
		p = newProc()
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
		if p, ok := a.procs[e.PID]; ok {
			for tid, f := range a.faults {
				if f.first.PID == e.PID {
					a.endFault(tid)
				}
			}
			e.Notes = append(e.Notes, a.exitLessons(p)...)
		}
		delete(a.procs, e.PID)
		if len(a.exited) >= maxExited {
			clear(a.exited)
		}
		a.exited[e.PID] = true
		delete(a.recent, e.TID)
	}
}

// forget drops what is modelled of a process (its descriptors, mappings, queues): a call that
// changed them was lost, so naming a descriptor from the model could name the wrong file.
func (a *Annotator) forget(pid uint32) {
	if _, ok := a.procs[pid]; ok {
		a.procs[pid] = newProc()
	}
}

func (a *Annotator) syscall(s *event.Syscall) {
	if s.EntryLost {
		// its arguments are not known: it cannot be applied to the model
		if syscalls.ChangesModel(s.Name) {
			a.forget(s.PID)
		}
		return
	}
	p := a.proc(s.PID)
	spec := syscalls.SpecFor(a.arch, s.Name)
	// Name descriptors as they were when the call was made, before the call changes the table.
	if spec != nil {
		for i, arg := range s.Args {
			if t := spec.ArgType(i); t == syscalls.DirFD && int32(arg.Value) == -100 && p.cwd != "" {
				s.Decoded = setField(s.Decoded, arg.Name+"_cwd", p.cwd) // AT_FDCWD<cwd>, as strace -y
			} else if t == syscalls.FD || t == syscalls.DirFD && int32(arg.Value) != -100 {
				if d, ok := p.fds[int64(int32(arg.Value))]; ok {
					s.Decoded = setField(s.Decoded, arg.Name, d.f.path)
					s.Decoded = setField(s.Decoded, arg.Name+"_file", int64(d.f.id))
				}
			}
		}
	}
	a.aioServed(s)   // failed calls too: ESPIPE makes glibc fall back
	a.edgeRead(p, s) // failed reads too: EAGAIN is what a drained edge-triggered fd returns
	if s.Failed() || s.Unfinished && s.Name != "execve" && s.Name != "execveat" {
		return
	}
	countFileIO(p, s)
	a.update(p, s)
}

// fileIO are the calls that move a file's bytes through a buffer: the mmap lesson counts them.
var fileIO = map[string]bool{
	"read": true, "write": true, "pread64": true, "pwrite64": true, "readv": true, "writev": true,
	"preadv": true, "pwritev": true, "preadv2": true, "pwritev2": true,
}

// countFileIO counts a read/write-family call against the mappings of the file it moved bytes
// of, so the lesson at munmap says how many there were while the file was mapped.
func countFileIO(p *proc, s *event.Syscall) {
	if !fileIO[s.Name] {
		return
	}
	v, _ := s.Arg("fd")
	d, ok := p.fds[int64(int32(v))]
	if !ok || d.f.ino == 0 {
		return
	}
	for _, m := range p.maps {
		if m.ino == d.f.ino {
			m.rwCalls++
			m.rwBytes += s.Ret
		}
	}
}

// update applies a successful call to the descriptor table.
func (a *Annotator) update(p *proc, s *event.Syscall) {
	arg := func(name string) int64 { v, _ := s.Arg(name); return int64(int32(v)) }
	argU := func(name string) uint64 { v, _ := s.Arg(name); return v }
	ret := s.Ret
	switch s.Name {
	case "open", "creat", "openat", "openat2":
		name, ok := s.Decoded.Str("filename")
		if !ok {
			name, _ = s.Decoded.Str("pathname") // creat's argument
		}
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
		if d, ok := p.fds[arg("fd")]; ok {
			delete(p.fds, arg("fd"))
			a.released(d.f)
		}
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
		a.openPair(p, s, "fildes", "pipe", argU("flags")&oCloexec != 0)
	case "socketpair":
		a.openPair(p, s, "usockvec", "socket", argU("type")&oCloexec != 0)
	case "socket":
		label := "socket"
		if fam, ok := s.Decoded.Str("family"); ok {
			label = "socket:" + fam
		}
		a.open(p, s, ret, inodeLabel(s.Decoded, "ret_ino", "socket", label), argU("type")&oCloexec != 0)
	case "accept", "accept4":
		label := inodeLabel(s.Decoded, "ret_ino", "socket", "socket:"+addrText(s.Decoded, "upeer_sockaddr", "accepted"))
		a.open(p, s, ret, label, argU("flags")&oCloexec != 0)
	case "connect", "bind":
		// a socket named by its inode keeps it, as strace -y does; the address is in the call
		if d, ok := p.fds[arg("fd")]; ok && !strings.HasPrefix(d.f.path, "socket:[") {
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
	case "epoll_create", "epoll_create1":
		a.open(p, s, ret, "anon_inode:[eventpoll]", argU("flags")&oCloexec != 0)
	case "io_uring_setup":
		a.open(p, s, ret, "anon_inode:[io_uring]", true) // io_uring fds are always O_CLOEXEC
	case "eventfd2":
		a.open(p, s, ret, "anon_inode:[eventfd]", argU("flags")&oCloexec != 0)
	case "execve", "execveat":
		a.unmapped[s.TID] = p.maps // the old image's mappings went with its mm
		p.maps = nil
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
		a.unmapped[s.TID] = p.unmap(argU("addr"), argU("addr")+roundPage(length))
	case "read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2":
		if d, ok := p.fds[arg("fd")]; ok {
			p.fileIO(d.f.ino)
		}
		if n, ok := fillNote(s); ok {
			s.Notes = append(s.Notes, n)
		}
	case "fsync", "fdatasync", "sync", "syncfs", "msync", "sync_file_range":
		a.synced(p, s) // written back: the call returned success
	case "chdir":
		if name, ok := s.Decoded.Str("filename"); ok {
			p.cwd = a.resolve(p, s, name)
		}
	case "fchdir":
		if d, ok := p.fds[arg("fd")]; ok && path.IsAbs(d.f.path) {
			p.cwd = d.f.path
		}
	}
}

// inodeLabel is strace -y's name for a pipe or socket, kind:[inode], when the BPF side read
// the inode (key); else the fallback (a recording made before it did).
func inodeLabel(dec event.Fields, key, kind, fallback string) string {
	if ino, ok := dec.Int(key); ok && ino != 0 {
		return inodeName(kind, ino)
	}
	return fallback
}

func inodeName(kind string, ino int64) string {
	return kind + ":[" + strconv.FormatInt(ino, 10) + "]"
}

// openPair models the two descriptors pipe and socketpair fill in (argument name): a pipe's
// two ends are one inode, a socketpair's two sockets each their own. Their labels go beside the
// numbers (name_path), as strace -y prints [3<pipe:[N]>, 4<pipe:[N]>].
func (a *Annotator) openPair(p *proc, s *event.Syscall, name, kind string, cloexec bool) {
	fds, _ := s.Decoded.Get(name)
	pair, ok := fds.([]any)
	if !ok || len(pair) != 2 {
		return
	}
	inos, _ := s.Decoded.Get(name + "_ino")
	inoList, _ := inos.([]any)
	labels := make([]any, 2)
	var shared *file
	for i, v := range pair {
		n, _ := event.AsInt(v)
		label := kind
		if i < len(inoList) {
			if ino, ok := event.AsInt(inoList[i]); ok && ino != 0 {
				label = inodeName(kind, ino)
			}
		}
		f := shared
		if f == nil || kind != "pipe" {
			f = a.newFile(label)
		}
		if kind == "pipe" {
			shared = f
		}
		p.fds[n] = fd{f: f, cloexec: cloexec}
		labels[i] = label
	}
	s.Decoded = setField(s.Decoded, name+"_path", labels)
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
	prev, open := p.fds[newfd]
	p.fds[newfd] = fd{f: d.f, cloexec: cloexec}
	if open {
		a.released(prev.f)
	}
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
