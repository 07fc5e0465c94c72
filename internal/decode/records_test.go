package decode

// A builder of raw ring-buffer records as the BPF side lays them out (bpf/iotrace.h,
// bpf/capture.bpf.h): the bpf2go struct, little-endian, then the captures, each an iot_cap
// header and a payload padded to 8 bytes; IOV and ARGV entries sit `stride` apart.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/iotrace/iotrace/bpf"
)

const (
	testPID = 100
	testTS  = 5_000_000
	snap    = 32 // the -s the captures below were taken with
)

// encode writes a bpf2go struct (or a pointer to one) the way the kernel has it in memory.
// bpf2go spells out every padding byte; an implicit hole would make binary.Size differ from
// the Go size and the image wrong, so that is a builder bug.
func encode(v any) []byte {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n := binary.Size(v); n != int(t.Size()) {
		panic(fmt.Sprintf("encode %s: binary size %d, Go size %d", t, n, t.Size()))
	}
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func hdr(tid uint32, kind bpf.IotraceIotKind) bpf.IotraceIotHdr {
	return bpf.IotraceIotHdr{Ts: testTS, Pid: testPID, Tid: tid, Kind: uint16(kind), Cpu: 1}
}

// sizeOff is where the record's size is: every record starts with its header.
const sizeOff = unsafe.Offsetof(bpf.IotraceIotHdr{}.Size)

// finish appends the captures to the encoded record and sets the header's size, which counts
// them.
func finish(rec []byte, caps [][]byte) []byte {
	for _, c := range caps {
		rec = append(rec, c...)
	}
	binary.LittleEndian.PutUint16(rec[sizeOff:], uint16(len(rec)))
	return rec
}

// syscallRec is the exit record of a call (args beyond those given are 0).
func syscallRec(tid uint32, nr int, ret int64, args []uint64, caps ...[]byte) []byte {
	r := bpf.IotraceIotSyscall{H: hdr(tid, bpf.IotraceIotKindIOT_EV_SYSCALL), Dur: 1500, Ret: ret, Nr: int32(nr), Ncap: uint8(len(caps))}
	copy(r.Args[:], args)
	return finish(encode(&r), caps)
}

// noreturnRec is a call emitted at entry because it does not return (exit_group).
func noreturnRec(tid uint32, nr int, args []uint64) []byte {
	r := bpf.IotraceIotSyscall{H: hdr(tid, bpf.IotraceIotKindIOT_EV_SYSCALL), Nr: int32(nr), Flags: uint8(bpf.IotraceIotScFlagsIOT_SC_NORETURN)}
	copy(r.Args[:], args)
	return finish(encode(&r), nil)
}

// enterRec carries the captures taken at a call's entry.
func enterRec(tid uint32, nr int, caps ...[]byte) []byte {
	r := bpf.IotraceIotScEnter{H: hdr(tid, bpf.IotraceIotKindIOT_EV_SYSCALL_ENTER), Nr: int32(nr), Ncap: uint8(len(caps))}
	return finish(encode(&r), caps)
}

func pad8(b []byte) []byte {
	return append(b, make([]byte, align8(len(b))-len(b))...)
}

func capture(kind bpf.IotraceIotCapKind, slot, n int, length uint32, payload []byte) []byte {
	c := encode(&bpf.IotraceIotCap{Kind: uint8(kind), Slot: uint8(slot), N: uint16(n), Len: length})
	return pad8(append(c, payload...))
}

// capBuf: data is what was copied, total the length asked for or transferred.
func capBuf(slot int, data string, total uint32) []byte {
	return capture(bpf.IotraceIotCapKindIOT_CAP_BUF, slot, len(data), total, []byte(data))
}

func capStr(slot int, s string) []byte {
	return capture(bpf.IotraceIotCapKindIOT_CAP_STR, slot, len(s), uint32(len(s)), []byte(s))
}

// capStruct: b is what was copied, size the struct's size.
func capStruct(slot int, b []byte, size int) []byte {
	return capture(bpf.IotraceIotCapKindIOT_CAP_STRUCT, slot, len(b), uint32(size), b)
}

// capFDPair: the two descriptors and the inode behind each (0: not found).
func capFDPair(slot int, fd0, fd1 int32, ino0, ino1 uint64) []byte {
	b := make(le, 8).put(0, uint32(fd0)).put(4, uint32(fd1))
	b = append(b, encode(&bpf.IotraceIotFdinfo{Ino: ino0, Dev: 0xd})...)
	b = append(b, encode(&bpf.IotraceIotFdinfo{Ino: ino1, Dev: 0xd})...)
	return capture(bpf.IotraceIotCapKindIOT_CAP_FDPAIR, slot, len(b), uint32(len(b)), b)
}

type iov struct {
	len  uint64
	data string // the bytes captured
}

// capIOV: cnt is the call's iovec count; each entry is an iot_iov and its bytes, 16 +
// align8(snaplen) apart.
func capIOV(slot int, cnt uint32, snaplen int, iovs ...iov) []byte {
	stride := 16 + align8(snaplen)
	var p []byte
	for _, v := range iovs {
		e := encode(&bpf.IotraceIotIov{Len: v.len, Caplen: uint32(len(v.data)), Stride: uint32(stride)})
		e = append(e, v.data...)
		p = append(p, e...)
		p = append(p, make([]byte, stride-len(e))...)
	}
	return capture(bpf.IotraceIotCapKindIOT_CAP_IOV, slot, len(iovs), cnt, p)
}

// capArray: cnt is the element count the call gave; elems the ones copied.
func capArray(slot int, cnt uint32, elems ...[]byte) []byte {
	return capture(bpf.IotraceIotCapKindIOT_CAP_ARRAY, slot, len(elems), cnt, bytes.Join(elems, nil))
}

// capPtrArr: each struct is copied to its own align8(size) slot.
func capPtrArr(slot int, cnt uint32, size int, elems ...[]byte) []byte {
	var p []byte
	for _, e := range elems {
		p = append(p, e...)
		p = append(p, make([]byte, align8(min(size, structMax))-len(e))...)
	}
	return capture(bpf.IotraceIotCapKindIOT_CAP_PTRARR, slot, len(elems), cnt, p)
}

// capArgv: entries are an iot_str and IOT_ARGV_STR bytes.
// capArgv: the strings captured, and the environment's count (vars; 0xffffffff: not read). A
// string ending in "..." was cut by the snap length (the "..." is not captured).
func capArgv(slot int, vars uint32, args ...string) []byte {
	const stride = 8 + 64
	var p []byte
	for _, a := range args {
		n := uint32(len(a))
		if s, cut := strings.CutSuffix(a, "..."); cut {
			a, n = s, uint32(len(s))|0x80000000
		}
		e := append(encode(&bpf.IotraceIotStr{Len: n, Stride: stride}), a...)
		p = append(p, e...)
		p = append(p, make([]byte, stride-len(e))...)
	}
	return capture(bpf.IotraceIotCapKindIOT_CAP_ARGV, slot, len(args), vars, p)
}

func comm(s string) (c [16]int8) {
	for i := 0; i < len(s) && i < len(c)-1; i++ {
		c[i] = int8(s[i])
	}
	return c
}

func forkRec(parent, childPID, childTID uint32, thread bool, name string) []byte {
	r := bpf.IotraceIotFork{H: hdr(parent, bpf.IotraceIotKindIOT_EV_FORK), ChildPid: childPID, ChildTid: childTID, Comm: comm(name)}
	if thread {
		r.Thread = 1
	}
	return finish(encode(&r), nil)
}

func execRec(tid, oldTID uint32, name, filename string) []byte {
	r := bpf.IotraceIotExec{H: hdr(tid, bpf.IotraceIotKindIOT_EV_EXEC), OldTid: oldTID, Comm: comm(name)}
	for i := 0; i < len(filename) && i < len(r.Filename)-1; i++ {
		r.Filename[i] = int8(filename[i])
	}
	return finish(encode(&r), nil)
}

func exitRec(tid uint32, status int32, name string) []byte {
	r := bpf.IotraceIotExit{H: hdr(tid, bpf.IotraceIotKindIOT_EV_EXIT), ExitCode: status, Comm: comm(name)}
	return finish(encode(&r), nil)
}

// kernelRec carries a tracepoint's record: data starts at common_type.
func kernelRec(tid uint32, id uint16, scTS uint64, data []byte) []byte {
	r := bpf.IotraceIotKernel{H: hdr(tid, bpf.IotraceIotKindIOT_EV_KERNEL), ScTs: scTS, Id: id, Len: uint16(len(data))}
	copy(r.Data[:], data)
	return finish(encode(&r), nil)
}

func blockedRec(tid uint32, scTS, offNS uint64, wakerPID, wakerTID uint32, waker string) []byte {
	r := bpf.IotraceIotBlocked{H: hdr(tid, bpf.IotraceIotKindIOT_EV_BLOCKED), ScTs: scTS, OffNs: offNS, WakerPid: wakerPID, WakerTid: wakerTID, WakerComm: comm(waker)}
	return finish(encode(&r), nil)
}
