// Package decode turns raw ring-buffer records into typed events: a syscall's entry and exit
// joined, its arguments named after its tracepoint fields, flags and structs decoded, buffers
// escaped. The record layouts are the bpf2go types of bpf/iotrace.h, read in place.
package decode

import (
	"bytes"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Decoder keeps what joins records: captures taken at entry, waiting for their exit record,
// and each thread's command name.
type Decoder struct {
	table   *syscalls.Table
	arch    string
	pending map[uint32]pendingEnter // by tid
	comms   map[uint32]string       // by tid
	specs   []*syscalls.Spec        // by nr
	argN    [][]string              // by nr
	kernel  map[uint16]KernelFormat // by tracepoint event id
	ids     map[uint64]int          // kernel address -> short id
}

type pendingEnter struct {
	nr   int32
	caps []byte
	ncap int
}

// New returns a decoder for records produced on t's arch.
func New(t *syscalls.Table) *Decoder {
	d := &Decoder{
		table:   t,
		arch:    t.Arch(),
		pending: make(map[uint32]pendingEnter),
		comms:   make(map[uint32]string),
		specs:   make([]*syscalls.Spec, t.Max()),
		argN:    make([][]string, t.Max()),
		ids:     make(map[uint64]int),
	}
	for nr := range d.specs {
		name := t.Name(nr)
		if name == "" {
			continue
		}
		d.specs[nr] = syscalls.SpecFor(d.arch, name)
		d.argN[nr] = syscalls.ArgNames(name)
	}
	return d
}

// SetComm records a thread's command name (for -p targets, read from /proc).
func (d *Decoder) SetComm(tid uint32, comm string) { d.comms[tid] = comm }

// Decode decodes one record; sequence numbers are the annotator's, which orders the timeline. It returns nil for records that only feed a later event (captures
// taken at a syscall's entry).
func (d *Decoder) Decode(raw []byte) (event.Event, error) {
	var h bpf.IotraceIotHdr
	if len(raw) < int(unsafe.Sizeof(h)) {
		return nil, fmt.Errorf("short record: %d bytes", len(raw))
	}
	h = *(*bpf.IotraceIotHdr)(unsafe.Pointer(&raw[0]))
	switch bpf.IotraceIotKind(h.Kind) {
	case bpf.IotraceIotKindIOT_EV_SYSCALL:
		return d.syscall(raw)
	case bpf.IotraceIotKindIOT_EV_SYSCALL_ENTER:
		return nil, d.enter(raw)
	case bpf.IotraceIotKindIOT_EV_FORK:
		return d.fork(raw)
	case bpf.IotraceIotKindIOT_EV_EXEC:
		return d.exec(raw)
	case bpf.IotraceIotKindIOT_EV_EXIT:
		return d.exit(raw)
	case bpf.IotraceIotKindIOT_EV_KERNEL:
		return d.kernelEvent(raw)
	case bpf.IotraceIotKindIOT_EV_BLOCKED:
		return d.blocked(raw)
	}
	return nil, fmt.Errorf("unknown record kind %d", h.Kind)
}

// Lost makes the event for records the kernel side dropped.
func (d *Decoder) Lost(reason, cpu int, count uint64, ts uint64) *event.Lost {
	why := "ring buffer full"
	switch reason {
	case int(bpf.IotraceIotLostReasonIOT_LOST_BUSY):
		why = "capture buffer busy"
	case int(bpf.IotraceIotLostReasonIOT_LOST_NR):
		// probe.LostRecursion: the row after the BPF side's own reasons
		why = "a BPF program was already running on that CPU (event raised inside it)"
	}
	if reason == int(bpf.IotraceIotLostReasonIOT_LOST_NR) {
		cpu = -1 // counted per program, not per CPU
	}
	return &event.Lost{Common: event.Common{TS: ts}, Count: count, CPU: cpu, Reason: why}
}

func view[T any](raw []byte) (*T, error) {
	var zero T
	if len(raw) < int(unsafe.Sizeof(zero)) {
		return nil, fmt.Errorf("short %T record: %d bytes", zero, len(raw))
	}
	return (*T)(unsafe.Pointer(&raw[0])), nil
}

func (d *Decoder) common(h *bpf.IotraceIotHdr) event.Common {
	return event.Common{TS: h.Ts, PID: h.Pid, TID: h.Tid, Comm: d.comms[h.Tid]}
}

func (d *Decoder) enter(raw []byte) error {
	e, err := view[bpf.IotraceIotScEnter](raw)
	if err != nil {
		return err
	}
	end, err := recordEnd(raw, &e.H, int(unsafe.Sizeof(*e)))
	if err != nil {
		return err
	}
	caps := raw[unsafe.Sizeof(*e):end]
	// copied: raw is reused by the reader
	d.pending[e.H.Tid] = pendingEnter{nr: e.Nr, caps: bytes.Clone(caps), ncap: int(e.Ncap)}
	return nil
}

func (d *Decoder) syscall(raw []byte) (event.Event, error) {
	r, err := view[bpf.IotraceIotSyscall](raw)
	if err != nil {
		return nil, err
	}
	end, err := recordEnd(raw, &r.H, int(unsafe.Sizeof(*r)))
	if err != nil {
		return nil, err
	}
	s := &event.Syscall{Common: d.common(&r.H), Nr: int(r.Nr), Dur: r.Dur, Ret: r.Ret}
	var spec *syscalls.Spec
	var names []string
	if r.Nr >= 0 && int(r.Nr) < len(d.specs) {
		s.Name = d.table.Name(int(r.Nr))
		spec, names = d.specs[r.Nr], d.argN[r.Nr]
	}
	if s.Name == "" {
		s.Name = "syscall_" + strconv.Itoa(int(r.Nr))
	}
	if names == nil {
		names = genericArgNames
	}
	s.Args = make([]event.Arg, len(names))
	for i, n := range names {
		s.Args[i] = event.Arg{Name: n, Value: r.Args[i]}
	}
	if r.Flags&uint8(bpf.IotraceIotScFlagsIOT_SC_NORETURN) != 0 {
		s.Unfinished = true
	} else if r.Ret < 0 && r.Ret >= -4095 {
		s.Errno = Errno(int(-r.Ret))
	}

	var caps [2][]byte
	if p, ok := d.pending[r.H.Tid]; ok {
		delete(d.pending, r.H.Tid)
		if p.nr == r.Nr {
			splitCaps(p.caps, p.ncap, spec, &caps)
		}
	}
	splitCaps(raw[unsafe.Sizeof(*r):end], int(r.Ncap), spec, &caps)
	s.Decoded = d.decodeArgs(s, spec, names, &caps)
	return s, nil
}

// recordEnd is where the captures of a record with a fixed part of fixed bytes end: at its
// header's size, or at the end of raw when that is shorter. A size below the fixed part is
// corrupt.
func recordEnd(raw []byte, h *bpf.IotraceIotHdr, fixed int) (int, error) {
	if int(h.Size) < fixed {
		return 0, fmt.Errorf("corrupt record: size %d below its %d fixed bytes", h.Size, fixed)
	}
	return min(len(raw), int(h.Size)), nil
}

var genericArgNames = []string{"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"}

var capHdrSize = int(unsafe.Sizeof(bpf.IotraceIotCap{}))

// splitCaps cuts a capture area into its captures, indexed by slot.
func splitCaps(b []byte, n int, spec *syscalls.Spec, out *[2][]byte) {
	for i := 0; i < n && len(b) >= capHdrSize; i++ {
		c := (*bpf.IotraceIotCap)(unsafe.Pointer(&b[0]))
		elem := 0
		if spec != nil && int(c.Slot) < len(spec.Captures) {
			elem = spec.Captures[c.Slot].Size
		}
		end := min(len(b), capHdrSize+capBytes(c, b[capHdrSize:], elem))
		if int(c.Slot) < len(out) {
			out[c.Slot] = b[:end]
		}
		b = b[end:]
	}
}

// capBytes is the payload length of capture c, whose payload starts p; elem is the element size
// of array captures.
func capBytes(c *bpf.IotraceIotCap, p []byte, elem int) int {
	switch bpf.IotraceIotCapKind(c.Kind) {
	case bpf.IotraceIotCapKindIOT_CAP_IOV:
		if len(p) < iovHdr {
			return 0
		}
		return int(c.N) * int((*bpf.IotraceIotIov)(unsafe.Pointer(&p[0])).Stride)
	case bpf.IotraceIotCapKindIOT_CAP_ARGV:
		if len(p) < strHdr {
			return 0
		}
		return int(c.N) * int((*bpf.IotraceIotStr)(unsafe.Pointer(&p[0])).Stride)
	case bpf.IotraceIotCapKindIOT_CAP_ARRAY:
		return align8(int(c.N) * elem)
	case bpf.IotraceIotCapKindIOT_CAP_PTRARR:
		return int(c.N) * align8(min(elem, structMax))
	}
	return align8(int(c.N))
}

// structMax is IOT_STRUCT_MAX: the BPF side copies no more of one struct.
const structMax = 128

func align8(n int) int { return (n + 7) &^ 7 }
