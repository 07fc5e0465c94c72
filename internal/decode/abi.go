package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/iotrace/iotrace/internal/event"
)

// The decoders here read kernel ABI structs as the BPF side copied them from user memory
// (little-endian, both arches) into event.Fields with fixed snake_case keys: integers as int64
// or uint64, pointers as "0x…" strings, flag sets and constants as names. A copy that stops
// short is decoded as far as it goes, and the result ends with "truncated": true.

// Sizes of the fixed-size structs, identical on amd64 and arm64.
const (
	IOCBSize        = 64  // struct iocb
	IOEventSize     = 32  // struct io_event
	UringParamsSize = 120 // struct io_uring_params
	OpenHowSize     = 24  // struct open_how
	PollFDSize      = 8   // struct pollfd
)

// abiReader reads fields at fixed offsets and remembers whether any lay past the end.
type abiReader struct {
	b     []byte
	short bool
}

func (r *abiReader) has(off, n int) bool {
	if off+n > len(r.b) {
		r.short = true
		return false
	}
	return true
}

func (r *abiReader) u16(off int) (uint16, bool) {
	if !r.has(off, 2) {
		return 0, false
	}
	return binary.LittleEndian.Uint16(r.b[off:]), true
}

func (r *abiReader) u32(off int) (uint32, bool) {
	if !r.has(off, 4) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(r.b[off:]), true
}

func (r *abiReader) u64(off int) (uint64, bool) {
	if !r.has(off, 8) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(r.b[off:]), true
}

// finish appends the truncation mark when a field was missing.
func (r *abiReader) finish(f event.Fields) event.Fields {
	if r.short {
		f = append(f, abiField("truncated", true))
	}
	return f
}

func abiField(key string, val any) event.Field {
	return event.Field{Key: key, Val: val}
}

// EpollEventSize is sizeof(struct epoll_event): x86_64 packs it to 12 bytes, arm64 pads the
// 64-bit data to offset 8.
func EpollEventSize(arch string) int {
	if isARM64(arch) {
		return 16
	}
	return 12
}

// EpollEvent decodes one struct epoll_event into {events, data} and returns how many bytes of
// b it used (the element size, or all of b when b is shorter).
func EpollEvent(arch string, b []byte) (event.Fields, int) {
	size, dataOff := 12, 4
	if isARM64(arch) {
		size, dataOff = 16, 8
	}
	r := abiReader{b: b}
	f := make(event.Fields, 0, 3)
	if v, ok := r.u32(0); ok {
		f = append(f, abiField("events", EpollEvents(v)))
	}
	if v, ok := r.u64(dataOff); ok {
		f = append(f, abiField("data", v))
	}
	return r.finish(f), min(size, len(b))
}

// SockAddr decodes a struct sockaddr; b should be addrlen bytes long. The keys are family, then
// for AF_INET addr and port; for AF_INET6 addr, port, flowinfo and scope_id (when given);
// for AF_UNIX path ("@name" for an abstract socket, "" for an unnamed one); for AF_NETLINK
// pid and groups. Other families give only family.
func SockAddr(b []byte) event.Fields {
	r := abiReader{b: b}
	fam, ok := r.u16(0)
	if !ok {
		return r.finish(nil)
	}
	f := make(event.Fields, 0, 6)
	f = append(f, abiField("family", SockFamily(uint64(fam))))
	switch fam {
	case afInet:
		if r.has(4, 4) {
			f = append(f, abiField("addr", netip.AddrFrom4([4]byte(b[4:8])).String()))
			f = append(f, abiField("port", int64(binary.BigEndian.Uint16(b[2:]))))
		}
	case afInet6:
		if r.has(8, 16) {
			f = append(f, abiField("addr", netip.AddrFrom16([16]byte(b[8:24])).String()))
			f = append(f, abiField("port", int64(binary.BigEndian.Uint16(b[2:]))))
			f = append(f, abiField("flowinfo", uint64(binary.BigEndian.Uint32(b[4:]))))
			// RFC 2133's 24-byte sockaddr_in6 had no scope id; the kernel still accepts it.
			if len(b) >= 28 {
				f = append(f, abiField("scope_id", uint64(binary.LittleEndian.Uint32(b[24:]))))
			}
		}
	case afUnix:
		f = append(f, abiField("path", unixPath(b[2:])))
	case afNetlink:
		if v, ok := r.u32(4); ok {
			f = append(f, abiField("pid", uint64(v)))
		}
		if v, ok := r.u32(8); ok {
			f = append(f, abiField("groups", uint64(v)))
		}
	}
	return r.finish(f)
}

// unixPath renders sun_path: up to the first NUL, or for an abstract name (leading NUL) all of
// it after an "@", since abstract names may contain NULs.
func unixPath(p []byte) string {
	if len(p) > 0 && p[0] == 0 {
		return "@" + EscapeBytes(p[1:])
	}
	for i, c := range p {
		if c == 0 {
			p = p[:i]
			break
		}
	}
	return EscapeBytes(p)
}

// IOCB decodes a struct iocb (include/uapi/linux/aio_abi.h, little-endian layout: aio_key
// before aio_rw_flags) into data, opcode, fd, buf, nbytes, offset, rw_flags, flags and resfd,
// plus reqprio when IOCB_FLAG_IOPRIO is set.
func IOCB(b []byte) event.Fields {
	r := abiReader{b: b}
	f := make(event.Fields, 0, 11)
	if v, ok := r.u64(0); ok {
		f = append(f, abiField("data", v))
	}
	if v, ok := r.u16(16); ok {
		f = append(f, abiField("opcode", IOCBOpcode(uint64(v))))
	}
	if v, ok := r.u32(20); ok {
		f = append(f, abiField("fd", int64(int32(v))))
	}
	if v, ok := r.u64(24); ok {
		f = append(f, abiField("buf", hex(v)))
	}
	if v, ok := r.u64(32); ok {
		f = append(f, abiField("nbytes", v))
	}
	if v, ok := r.u64(40); ok {
		f = append(f, abiField("offset", int64(v)))
	}
	if v, ok := r.u32(12); ok {
		f = append(f, abiField("rw_flags", RWFFlags(uint64(v))))
	}
	aioFlags, ok := r.u32(56)
	if ok {
		f = append(f, abiField("flags", IOCBFlags(uint64(aioFlags))))
	}
	if v, ok := r.u32(60); ok {
		f = append(f, abiField("resfd", int64(int32(v))))
	}
	if aioFlags&0x2 != 0 { // IOCB_FLAG_IOPRIO
		if v, ok := r.u16(18); ok {
			f = append(f, abiField("reqprio", int64(int16(v))))
		}
	}
	return r.finish(f)
}

// IOEvent decodes a struct io_event into data, obj (the iocb's address), res, errno (the name,
// only when res is negative) and res2.
func IOEvent(b []byte) event.Fields {
	r := abiReader{b: b}
	f := make(event.Fields, 0, 6)
	if v, ok := r.u64(0); ok {
		f = append(f, abiField("data", v))
	}
	if v, ok := r.u64(8); ok {
		f = append(f, abiField("obj", hex(v)))
	}
	if v, ok := r.u64(16); ok {
		res := int64(v)
		f = append(f, abiField("res", res))
		if res < 0 {
			f = append(f, abiField("errno", Errno(int(res))))
		}
	}
	if v, ok := r.u64(24); ok {
		f = append(f, abiField("res2", int64(v)))
	}
	return r.finish(f)
}

// UringParams decodes the leading fields of struct io_uring_params: sq_entries, cq_entries,
// flags, sq_thread_cpu, sq_thread_idle (ms), features and wq_fd. The ring offsets that follow
// are of no use to a reader and are left out; a copy that has the decoded fields is not
// truncated even if it lacks them.
func UringParams(b []byte) event.Fields {
	r := abiReader{b: b}
	f := make(event.Fields, 0, 8)
	if v, ok := r.u32(0); ok {
		f = append(f, abiField("sq_entries", uint64(v)))
	}
	if v, ok := r.u32(4); ok {
		f = append(f, abiField("cq_entries", uint64(v)))
	}
	if v, ok := r.u32(8); ok {
		f = append(f, abiField("flags", UringSetupFlags(uint64(v))))
	}
	if v, ok := r.u32(12); ok {
		f = append(f, abiField("sq_thread_cpu", uint64(v)))
	}
	if v, ok := r.u32(16); ok {
		f = append(f, abiField("sq_thread_idle", uint64(v)))
	}
	if v, ok := r.u32(20); ok {
		f = append(f, abiField("features", UringFeatures(uint64(v))))
	}
	if v, ok := r.u32(24); ok {
		f = append(f, abiField("wq_fd", int64(int32(v))))
	}
	return r.finish(f)
}

// OpenHow decodes openat2's struct open_how into flags, mode and resolve.
func OpenHow(b []byte, arch string) event.Fields {
	r := abiReader{b: b}
	f := make(event.Fields, 0, 4)
	if v, ok := r.u64(0); ok {
		f = append(f, abiField("flags", OpenFlags(arch, v)))
	}
	if v, ok := r.u64(8); ok {
		f = append(f, abiField("mode", Mode(v)))
	}
	if v, ok := r.u64(16); ok {
		f = append(f, abiField("resolve", ResolveFlags(v)))
	}
	return r.finish(f)
}

// PollFD decodes a struct pollfd into fd, events and revents.
func PollFD(b []byte) event.Fields {
	r := abiReader{b: b}
	f := make(event.Fields, 0, 4)
	if v, ok := r.u32(0); ok {
		f = append(f, abiField("fd", int64(int32(v))))
	}
	if v, ok := r.u16(4); ok {
		f = append(f, abiField("events", PollEvents(uint32(v))))
	}
	if v, ok := r.u16(6); ok {
		f = append(f, abiField("revents", PollEvents(uint32(v))))
	}
	return r.finish(f)
}

// Int32Pair reads two ints, such as the descriptors pipe2 fills in; ok is false when p is
// shorter than 8 bytes.
func Int32Pair(p []byte) (first, second int32, ok bool) {
	if len(p) < 8 {
		return 0, 0, false
	}
	return int32(binary.LittleEndian.Uint32(p)), int32(binary.LittleEndian.Uint32(p[4:])), true
}

// StatStruct decodes what strace shows of a struct stat without -v: the file type and mode,
// then st_rdev for a device or st_size for anything else. The layouts differ: x86_64 has
// st_nlink (8 bytes) before st_mode, arm64 (asm-generic) after it.
func StatStruct(arch string, b []byte) event.Fields {
	modeOff, rdevOff, sizeOff := 24, 40, 48
	if isARM64(arch) {
		modeOff, rdevOff, sizeOff = 16, 32, 48
	}
	if len(b) < sizeOff+8 {
		return nil
	}
	mode := binary.LittleEndian.Uint32(b[modeOff:])
	f := event.Fields{{Key: "st_mode", Val: StatMode(mode)}}
	switch mode & sIFMT {
	case sIFCHR, sIFBLK:
		rdev := binary.LittleEndian.Uint64(b[rdevOff:])
		// Linux's dev_t encoding (glibc's major()/minor())
		major := (rdev>>8)&0xfff | (rdev>>32)&^0xfff
		minor := rdev&0xff | (rdev>>12)&^0xff
		f = append(f, event.Field{Key: "st_rdev", Val: "makedev(0x" + strconv.FormatUint(major, 16) + ", 0x" + strconv.FormatUint(minor, 16) + ")"})
	default:
		f = append(f, event.Field{Key: "st_size", Val: int64(binary.LittleEndian.Uint64(b[sizeOff:]))})
	}
	return f
}

// The file types of st_mode (Linux's, the same on every arch).
const (
	sIFMT   = 0o170000
	sIFSOCK = 0o140000
	sIFLNK  = 0o120000
	sIFREG  = 0o100000
	sIFBLK  = 0o060000
	sIFDIR  = 0o040000
	sIFCHR  = 0o020000
	sIFIFO  = 0o010000
)

var fileTypes = []sym{
	{sIFREG, "S_IFREG"}, {sIFDIR, "S_IFDIR"}, {sIFCHR, "S_IFCHR"}, {sIFBLK, "S_IFBLK"},
	{sIFIFO, "S_IFIFO"}, {sIFLNK, "S_IFLNK"}, {sIFSOCK, "S_IFSOCK"},
}

// StatMode writes st_mode as strace does: S_IFREG|0644, S_IFDIR|S_ISVTX|0777.
func StatMode(mode uint32) string {
	var j joiner
	if t, ok := lookupSym(uint64(mode&sIFMT), fileTypes); ok {
		j.add(t)
	} else if mode&sIFMT != 0 {
		j.addHex(uint64(mode & sIFMT))
	}
	for _, s := range []sym{{0o4000, "S_ISUID"}, {0o2000, "S_ISGID"}, {0o1000, "S_ISVTX"}} {
		if uint64(mode)&s.val != 0 {
			j.add(s.name)
		}
	}
	// C's %#03o, as strace prints it: 0644, 000, 007
	perm := "0" + strconv.FormatUint(uint64(mode&0o777), 8)
	if mode&0o777 == 0 {
		perm = "0"
	}
	for len(perm) < 3 {
		perm = "0" + perm
	}
	j.add(perm)
	return j.String()
}
