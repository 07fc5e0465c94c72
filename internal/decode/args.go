package decode

import (
	"strconv"
	"unsafe"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// decodeArgs builds the "decoded" object: for each argument with a meaning beyond its number,
// a value under the argument's name. Descriptors are left to the annotator, which knows what
// they refer to.
func (d *Decoder) decodeArgs(s *event.Syscall, spec *syscalls.Spec, names []string, caps *[2][]byte) event.Fields {
	if spec == nil {
		return nil
	}
	var out event.Fields
	for i, name := range names {
		t := spec.ArgType(i)
		v := s.Args[i].Value
		if val, ok := d.scalar(t, v, s); ok {
			out = append(out, event.Field{Key: name, Val: val})
			continue
		} else if t == syscalls.FcntlArg {
			// a command that takes no argument: strace leaves it out
			out = append(out, event.Field{Key: name + "_none", Val: true})
			continue
		}
		if c, slot := captureFor(spec, i, caps); c != nil {
			if val := d.captured(t, spec.Captures[slot], c, s); val != nil {
				out = append(out, event.Field{Key: name, Val: val})
				if more := uncaptured(spec.Captures[slot], c, val); more > 0 {
					out = append(out, event.Field{Key: name + "_more", Val: more})
				}
				if t == syscalls.Path && pathCut(c) {
					out = append(out, event.Field{Key: name + "_cut", Val: true})
				}
				if vars, ok := envVars(t, c); ok && i+1 < len(names) {
					out = append(out, event.Field{Key: names[i+1] + "_vars", Val: vars})
				}
			}
		}
	}
	if f, ok := d.fcntlResult(s); ok {
		out = append(out, event.Field{Key: "ret_flags", Val: f})
	}
	for slot, cs := range spec.Captures {
		if cs.Kind == syscalls.CapFDPair && !s.Failed() && cs.Arg < len(names) {
			if inos, ok := fdPairInodes(caps[slot]); ok {
				out = append(out, event.Field{Key: names[cs.Arg] + "_ino", Val: inos})
			}
			continue
		}
		if cs.Kind != syscalls.CapFDInfo || caps[slot] == nil || len(caps[slot]) < capHdrSize+fdinfoSize {
			continue
		}
		key := "ret"
		if cs.Arg < len(names) {
			key = names[cs.Arg]
		}
		fi := (*bpf.IotraceIotFdinfo)(unsafe.Pointer(&caps[slot][capHdrSize]))
		out = append(out,
			event.Field{Key: key + "_ino", Val: int64(fi.Ino)},
			event.Field{Key: key + "_size", Val: fi.Size},
			event.Field{Key: key + "_dev", Val: devText(fi.Dev)})
	}
	return out
}

var fdinfoSize = int(unsafe.Sizeof(bpf.IotraceIotFdinfo{}))

// fdPairInodes reads the inodes behind the two descriptors of a pipe or socketpair capture
// (after the int[2], an iot_fdinfo each; inode 0 where the descriptor was not found).
func fdPairInodes(c []byte) ([]any, bool) {
	if len(c) < capHdrSize+8+2*fdinfoSize {
		return nil, false
	}
	h := (*bpf.IotraceIotCap)(unsafe.Pointer(&c[0]))
	if int(h.N) < 8+2*fdinfoSize {
		return nil, false
	}
	inos := make([]any, 2)
	for i := range inos {
		fi := (*bpf.IotraceIotFdinfo)(unsafe.Pointer(&c[capHdrSize+8+i*fdinfoSize]))
		if fi.Ino == 0 {
			return nil, false
		}
		inos[i] = int64(fi.Ino)
	}
	return inos, true
}

// fcntlResult names the flags F_GETFL and F_GETFD return, which strace prints beside the
// number: "0x8002 (flags O_RDWR|O_LARGEFILE)".
func (d *Decoder) fcntlResult(s *event.Syscall) (string, bool) {
	if s.Name != "fcntl" || s.Ret < 0 || s.Unfinished {
		return "", false
	}
	cmd, _ := s.Arg("cmd")
	switch uint32(cmd) {
	case 3: // F_GETFL
		return OpenFlags(d.arch, uint64(s.Ret)), true
	case 1: // F_GETFD
		if s.Ret != 0 {
			return FdFlags(uint64(s.Ret)), true
		}
	}
	return "", false
}

// uncaptured counts the elements of an array argument past those the BPF side copied (it takes
// at most 16 iovecs or iocbs, and 768 bytes of an array), so a list is never silently cut.
func uncaptured(cs syscalls.Capture, c []byte, val any) int64 {
	switch cs.Kind {
	case syscalls.CapIOV, syscalls.CapArray, syscalls.CapPtrArr:
	default:
		return 0
	}
	list, ok := val.([]any)
	if !ok {
		return 0
	}
	h := (*bpf.IotraceIotCap)(unsafe.Pointer(&c[0]))
	return max(int64(h.Len)-int64(len(list)), 0)
}

// envVars is the count of environment strings the BPF side took with an argv capture
// (IOT_ENV_UNREAD, 0xffffffff: the array could not be read).
func envVars(t syscalls.ArgType, c []byte) (int64, bool) {
	if t != syscalls.Argv {
		return 0, false
	}
	h := (*bpf.IotraceIotCap)(unsafe.Pointer(&c[0]))
	if h.Len == 0xffffffff {
		return 0, false
	}
	return int64(h.Len), true
}

// pathCut reports whether the BPF side had to cut a path (it copies at most IOT_PATH_MAX
// bytes, and then says the string went on).
func pathCut(c []byte) bool {
	h := (*bpf.IotraceIotCap)(unsafe.Pointer(&c[0]))
	return h.Len > uint32(h.N)
}

// devText writes a kernel dev_t as MAJOR:MINOR, as the kernel events do.
func devText(dev uint32) string {
	return strconv.FormatUint(uint64(dev>>20), 10) + ":" + strconv.FormatUint(uint64(dev&0xfffff), 10)
}

// scalar decodes arguments whose value alone says it all.
func (d *Decoder) scalar(t syscalls.ArgType, v uint64, s *event.Syscall) (any, bool) {
	switch t {
	case syscalls.DirFD:
		if int32(v) == -100 {
			return "AT_FDCWD", true
		}
	case syscalls.Octal:
		return Mode(v), true
	case syscalls.OpenFlags:
		return OpenFlags(d.arch, v), true
	case syscalls.AtFlags:
		return AtFlags(v), true
	case syscalls.MmapProt:
		return MmapProt(d.arch, v), true
	case syscalls.MmapFlags:
		return MmapFlags(d.arch, v), true
	case syscalls.MremapFlags:
		return MremapFlags(v), true
	case syscalls.MsyncFlags:
		return MsyncFlags(v), true
	case syscalls.Madvise:
		return Madvise(v), true
	case syscalls.Fadvise:
		return Fadvise(v), true
	case syscalls.Whence:
		return Whence(v), true
	case syscalls.FcntlCmd:
		return FcntlCmd(v), true
	case syscalls.FcntlArg:
		cmd, _ := s.Arg("cmd")
		return FcntlArg(d.arch, cmd, v)
	case syscalls.EpollOp:
		return EpollOp(v), true
	case syscalls.EpollFlags:
		return EpollCreateFlags(v), true
	case syscalls.PipeFlags:
		return PipeFlags(d.arch, v), true
	case syscalls.Dup3Flags:
		return Dup3Flags(v), true
	case syscalls.RWFFlags:
		return RWFFlags(v), true
	case syscalls.SockFamily:
		return SockFamily(v), true
	case syscalls.SockProto:
		if fam, ok := s.Arg("family"); ok && (fam == 2 || fam == 10) { // AF_INET, AF_INET6
			return IPProto(v), true
		}
	case syscalls.SockType:
		return SockType(v), true
	case syscalls.SockFlags:
		return SockFlags(v), true
	case syscalls.UringEnterFlags:
		return UringEnterFlags(v), true
	case syscalls.UringRegisterOp:
		return UringRegisterOp(v), true
	case syscalls.Signal:
		return Signal(int(v)), true
	case syscalls.SigHow:
		return SigHow(v), true
	case syscalls.ArchPrctl:
		return ArchPrctl(v), true
	case syscalls.HexInt:
		return "0x" + strconv.FormatUint(v, 16), true
	case syscalls.RlimitResource:
		return RlimitResource(v), true
	case syscalls.GrndFlags:
		return nameFlags(v, grndFlags, "0"), true
	case syscalls.CloneFlags:
		return CloneFlags(v), true
	case syscalls.PrctlOption:
		return PrctlOption(v), true
	case syscalls.WaitOptions:
		return WaitOptions(v), true
	case syscalls.MsgFlags:
		return MsgFlags(v), true
	case syscalls.AccessMode:
		return AccessMode(v), true
	}
	return nil, false
}

// captureFor finds the capture taken for argument i.
func captureFor(spec *syscalls.Spec, i int, caps *[2][]byte) ([]byte, int) {
	for slot, c := range spec.Captures {
		if c.Arg == i && c.Kind != syscalls.CapFDInfo && slot < len(caps) && caps[slot] != nil {
			return caps[slot], slot
		}
	}
	return nil, 0
}

// captured decodes the memory copied for an argument; c starts with its iot_cap header.
func (d *Decoder) captured(t syscalls.ArgType, cs syscalls.Capture, c []byte, s *event.Syscall) any {
	h := (*bpf.IotraceIotCap)(unsafe.Pointer(&c[0]))
	p := c[capHdrSize:]
	n := int(h.N)
	// The BPF side copies at exit whatever the call's outcome: memory a failed call was to fill
	// in holds nothing of its doing. What it was given (a path, a connect's address, pollfds)
	// is shown, as strace shows it.
	if cs.AtExit && !cs.Input && s.Failed() && t != syscalls.Path && t != syscalls.PrctlArg && t != syscalls.PollFDs {
		return nil
	}
	switch t {
	case syscalls.Path:
		return EscapeString(string(p[:min(n, len(p))]))
	case syscalls.PrctlArg:
		// the BPF side copies a string for every prctl; it is one only for PR_SET_NAME
		if opt, _ := s.Arg("option"); opt == prSetName {
			return EscapeString(string(p[:min(n, len(p))]))
		}
	case syscalls.Buf:
		return bufValue(p[:min(n, len(p))], uint64(h.Len))
	case syscalls.BufHex:
		f := bufValue(p[:min(n, len(p))], uint64(h.Len))
		f[0].Val = EscapeHex(p[:min(n, len(p))]) // the same buffer, every byte in hex
		return f
	case syscalls.IOV:
		limit := int64(-1) // a call's input: every iovec's bytes are there to show
		if cs.AtExit && !cs.Input {
			limit = max(s.Ret, 0) // what the call filled in: only what it transferred
		}
		return iovValue(p, n, limit)
	case syscalls.Argv:
		return argvValue(p, n)
	case syscalls.OpenHow:
		return OpenHow(p[:min(n, len(p))], d.arch)
	case syscalls.SockAddr:
		b := p[:min(n, len(p))]
		// addrlen is a C int: a negative one (the kernel refuses it) must not cut at all
		if l, ok := addrLen(s); ok && uint64(uint32(l)) < uint64(len(b)) {
			b = b[:uint32(l)]
		}
		if len(b) == 0 {
			return nil
		}
		return SockAddr(b)
	case syscalls.WaitStatus:
		// written only when a child is reported (ret > 0; WNOHANG with none returns 0)
		if b := p[:min(n, len(p))]; len(b) >= 4 && s.Ret > 0 {
			return WaitStatus(int32(le32(b)))
		}
	case syscalls.Rlimit:
		if b := p[:min(n, len(p))]; len(b) >= 16 {
			return "{rlim_cur=" + RlimValue(le64(b)) + ", rlim_max=" + RlimValue(le64(b[8:])) + "}"
		}
	case syscalls.SigAction:
		if f := SigAction(p[:min(n, len(p))]); f != nil {
			return f
		}
	case syscalls.SigSet:
		if b := p[:min(n, len(p))]; len(b) >= 8 {
			return SigSet(le64(b))
		}
	case syscalls.Stat:
		if f := StatStruct(d.arch, p[:min(n, len(p))]); f != nil {
			return f
		}
	case syscalls.IntPtr:
		if b := p[:min(n, len(p))]; len(b) >= 4 {
			return int64(int32(le32(b)))
		}
	case syscalls.PipeFDs:
		if a, b, ok := Int32Pair(p[:min(n, len(p))]); ok {
			return []any{int64(a), int64(b)}
		}
	case syscalls.AIOContext:
		if len(p) >= 8 && n >= 8 {
			return hex(le64(p))
		}
	case syscalls.UringParams:
		return UringParams(p[:min(n, len(p))])
	case syscalls.EpollEvent:
		if n == 0 {
			return nil // no event given (EPOLL_CTL_DEL's NULL)
		}
		f, _ := EpollEvent(d.arch, p[:min(n, len(p))])
		return f
	case syscalls.EpollEvents:
		return array(p, n, cs.Size, func(b []byte) event.Fields { f, _ := EpollEvent(d.arch, b); return f })
	case syscalls.IOEvents:
		return array(p, n, cs.Size, IOEvent)
	case syscalls.PollFDs:
		return array(p, n, cs.Size, PollFD)
	case syscalls.IOCBs:
		return array(p, n, align8(min(cs.Size, structMax)), func(b []byte) event.Fields { return IOCB(b[:min(len(b), cs.Size)]) })
	}
	return nil
}

// addrLen is the address length a socket call passed by value (connect, bind).
func addrLen(s *event.Syscall) (uint64, bool) {
	return s.Arg("addrlen")
}

func array(p []byte, n, size int, dec func([]byte) event.Fields) any {
	if size <= 0 {
		return nil
	}
	out := make([]any, 0, n)
	for i := 0; i < n && (i+1)*size <= len(p); i++ {
		out = append(out, dec(p[i*size:(i+1)*size]))
	}
	return out
}

func bufValue(b []byte, total uint64) event.Fields {
	f := event.Fields{{Key: "data", Val: EscapeBytes(b)}}
	if uint64(len(b)) < total {
		f = append(f, event.Field{Key: "trunc", Val: true})
	}
	return f
}

var iovHdr = int(unsafe.Sizeof(bpf.IotraceIotIov{}))

// iovFault is IOT_IOV_FAULT: an iovec whose base the BPF side could not read.
const iovFault = 0xffffffff

// iovValue decodes captured iovecs; limit is the bytes the call transferred (-1: no limit), so
// an iovec is marked truncated only when it held more than what was captured of it.
func iovValue(p []byte, n int, limit int64) []any {
	out := make([]any, 0, n)
	off := 0
	for i := 0; i < n && off+iovHdr <= len(p); i++ {
		e := (*bpf.IotraceIotIov)(unsafe.Pointer(&p[off]))
		if e.Caplen == iovFault && off+iovHdr+8 <= len(p) && int(e.Stride) >= iovHdr+8 {
			// the base could not be read: the record holds the address instead
			out = append(out, event.Fields{{Key: "len", Val: e.Len}, {Key: "base", Val: hex(le64(p[off+iovHdr:]))}})
			if limit >= 0 {
				limit -= int64(min(e.Len, uint64(limit)))
			}
			off += int(e.Stride)
			continue
		}
		// an entry's bytes lie within its stride: a corrupt caplen must not take in the entries
		// after it, which would make the work quadratic in the record's size
		k := max(0, min(int(e.Caplen), int(e.Stride)-iovHdr))
		data := p[off+iovHdr : min(len(p), off+iovHdr+k)]
		f := event.Fields{{Key: "len", Val: e.Len}, {Key: "data", Val: EscapeBytes(data)}}
		held := e.Len
		if limit >= 0 {
			held = min(held, uint64(limit))
			limit -= int64(held)
		}
		if uint64(len(data)) < held {
			f = append(f, event.Field{Key: "trunc", Val: true})
		}
		out = append(out, f)
		if int(e.Stride) < iovHdr { // corrupt: entries never overlap
			break
		}
		off += int(e.Stride)
	}
	return out
}

var strHdr = int(unsafe.Sizeof(bpf.IotraceIotStr{}))

// strCut is IOT_STR_CUT: the string went on past what was captured.
const strCut = 0x80000000

// argvValue decodes captured argv strings: each a string, or {"data":…,"trunc":true} when the
// snap length cut it (as a buffer is shown).
func argvValue(p []byte, n int) []any {
	out := make([]any, 0, n)
	off := 0
	for i := 0; i < n && off+strHdr <= len(p); i++ {
		e := (*bpf.IotraceIotStr)(unsafe.Pointer(&p[off]))
		k := max(0, min(int(e.Len&^strCut), int(e.Stride)-strHdr)) // within its stride, as in iovValue
		str := EscapeString(string(p[off+strHdr : min(len(p), off+strHdr+k)]))
		if e.Len&strCut != 0 {
			out = append(out, event.Fields{{Key: "data", Val: str}, {Key: "trunc", Val: true}})
		} else {
			out = append(out, str)
		}
		if int(e.Stride) < strHdr {
			break
		}
		off += int(e.Stride)
	}
	return out
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
