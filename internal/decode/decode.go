// Package decode turns raw ring-buffer records into typed events: a syscall's entry and exit
// joined, its arguments named after its tracepoint fields, flags and structs decoded, buffers
// escaped. The record layouts are the bpf2go types of bpf/iotrace.h, read in place.
package decode

import (
	"fmt"
	"strconv"
	"unsafe"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Decoder keeps what joins records: captures taken at entry, waiting for their call's record,
// each thread's command name, and what tells where records were lost — each thread's last call
// number and each CPU's count of lost kernel events.
type Decoder struct {
	table   *syscalls.Table
	arch    string
	pending map[uint32]pendingEnter // by tid
	comms   map[uint32]string       // by tid
	specs   []*syscalls.Spec        // by nr
	argN    [][]string              // by nr
	kernel  map[uint16]KernelFormat // by tracepoint event id
	ids     map[uint64]int          // kernel address -> short id
	threads map[uint32]threadSeq    // by tid
	cpus    map[uint32]cpuLost      // by cpu
	models  map[uint32]uint32       // by pid: the process's count of lost model-changing calls
	// rebased: records were skipped on purpose (ResetGaps); a thread's first call after that
	// starts its count afresh instead of showing a gap
	rebased bool
}

type pendingEnter struct {
	nr   int32
	seq  uint32
	caps []byte
	ncap int
}

// threadSeq is the last call of a thread the decoder saw.
type threadSeq struct {
	seq uint32
	ts  uint64
}

// cpuLost is a CPU's count of lost kernel events as its last kernel record carried it.
type cpuLost struct {
	count uint32
	ts    uint64
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
		threads: make(map[uint32]threadSeq),
		cpus:    make(map[uint32]cpuLost),
		models:  make(map[uint32]uint32),
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

// Append decodes one record and appends what it makes to out: the record's event, preceded by
// a Lost event when the record shows that records before it were lost (a jump in its thread's
// call numbers, or in its CPU's count of lost kernel events). Records that only feed a later
// event (captures taken at a call's entry) add nothing.
func (d *Decoder) Append(out []event.Event, raw []byte) ([]event.Event, error) {
	var h bpf.IotraceIotHdr
	if len(raw) < int(unsafe.Sizeof(h)) {
		return out, fmt.Errorf("short record: %d bytes", len(raw))
	}
	h = *(*bpf.IotraceIotHdr)(unsafe.Pointer(&raw[0]))
	var e event.Event
	var err error
	switch bpf.IotraceIotKind(h.Kind) {
	case bpf.IotraceIotKindIOT_EV_SYSCALL:
		var s *event.Syscall
		var modelLost uint32
		if s, modelLost, err = d.syscall(raw); err == nil {
			out = d.callGap(out, s)
			out = d.modelGap(out, s, modelLost)
			e = s
		}
	case bpf.IotraceIotKindIOT_EV_SYSCALL_ENTER:
		return out, d.enter(raw)
	case bpf.IotraceIotKindIOT_EV_FORK:
		e, err = d.fork(raw)
	case bpf.IotraceIotKindIOT_EV_EXEC:
		e, err = d.exec(raw)
	case bpf.IotraceIotKindIOT_EV_EXIT:
		e, err = d.exit(raw)
	case bpf.IotraceIotKindIOT_EV_KERNEL:
		var lostBefore uint32
		if e, lostBefore, err = d.kernelEvent(raw); err == nil {
			out = d.kernelGap(out, h.Cpu, h.Ts, lostBefore)
		}
	case bpf.IotraceIotKindIOT_EV_BLOCKED:
		var lostBefore uint32
		if e, lostBefore, err = d.blocked(raw); err == nil {
			out = d.kernelGap(out, h.Cpu, h.Ts, lostBefore)
		}
	default:
		return out, fmt.Errorf("unknown record kind %d", h.Kind)
	}
	if err != nil {
		return out, err
	}
	return append(out, e), nil
}

// Decode decodes one record into its own event (nil for an entry record); for tests and
// tools that look at one record at a time. Gaps before it are not reported: see Append.
func (d *Decoder) Decode(raw []byte) (event.Event, error) {
	out, err := d.Append(nil, raw)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out[len(out)-1], nil
}

// callGap reports the calls of s's thread lost since its previous recorded call: the BPF side
// numbers every call a thread enters, so a jump is exactly the calls lost, and where.
func (d *Decoder) callGap(out []event.Event, s *event.Syscall) []event.Event {
	last, seen := d.threads[s.TID]
	d.threads[s.TID] = threadSeq{seq: s.CallSeq, ts: s.TS + s.Dur}
	if s.CallSeq <= last.seq || s.CallSeq == last.seq+1 {
		// in order, or numbers that start again: a new thread with a reused tid
		return out
	}
	if !seen && (s.CallSeq == 1 || d.rebased) {
		// a thread's first call; or the first since records were skipped on purpose
		return out
	}
	n := uint64(s.CallSeq - last.seq - 1)
	l := &event.Lost{Common: event.Common{TS: last.ts, PID: s.PID, TID: s.TID, Comm: s.Comm}, Count: n, Calls: n,
		CPU: -1, EndNS: s.TS, Reason: "the ring buffer was full, or a BPF program was skipped"}
	if !seen {
		l.TS = s.TS // the thread's first calls: the gap has no known start
	}
	return append(out, l)
}

// modelGap reports calls lost that change what is modelled of s's process, once per growth of
// its count: every call record carries the count its process had when the call entered.
func (d *Decoder) modelGap(out []event.Event, s *event.Syscall, count uint32) []event.Event {
	last, seen := d.models[s.PID]
	d.models[s.PID] = count
	if !seen {
		// the count is inherited over fork: a child's first call shows what its parent's had,
		// which was reported with the parent
		return out
	}
	if count <= last {
		return out
	}
	return append(out, &event.Lost{Common: event.Common{TS: s.TS, PID: s.PID}, ModelLost: uint64(count - last), CPU: -1,
		Reason: "calls that change this process's descriptors or mappings were lost: what iotrace knew of them is forgotten"})
}

// kernelGap reports the kernel events lost on cpu since its previous kernel record.
func (d *Decoder) kernelGap(out []event.Event, cpu uint32, ts uint64, lostBefore uint32) []event.Event {
	last := d.cpus[cpu]
	d.cpus[cpu] = cpuLost{count: lostBefore, ts: ts}
	n := lostBefore - last.count // the count is 32 bits wide on the BPF side: it wraps
	if n == 0 || n > 1<<31 {
		return out
	}
	from := last.ts
	if from == 0 {
		from = ts
	}
	return append(out, &event.Lost{Common: event.Common{TS: from}, Count: uint64(n), KernelEvents: uint64(n),
		CPU: int(cpu), EndNS: ts, Reason: "the ring buffer was full"})
}

// ResetGaps forgets where each thread's and CPU's records stood: records were left out on
// purpose (a live view skipping ahead), so the next jump is not a loss.
func (d *Decoder) ResetGaps() {
	clear(d.threads)
	d.rebased = true
	clear(d.pending)
	for cpu := range d.cpus {
		c := d.cpus[cpu]
		c.ts = 0
		d.cpus[cpu] = c
	}
}

// SkipLostBefore moves a CPU's count of lost kernel events to lostBefore without reporting a
// gap (the records in between were skipped by the reader, not lost).
func (d *Decoder) SkipLostBefore(cpu uint32, lostBefore uint32) {
	d.cpus[cpu] = cpuLost{count: lostBefore}
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
	p := d.pending[e.H.Tid]
	p.nr, p.seq, p.ncap = e.Nr, e.Seq, int(e.Ncap)
	p.caps = append(p.caps[:0], caps...)
	d.pending[e.H.Tid] = p
	return nil
}

func (d *Decoder) syscall(raw []byte) (*event.Syscall, uint32, error) {
	r, err := view[bpf.IotraceIotSyscall](raw)
	if err != nil {
		return nil, 0, err
	}
	end, err := recordEnd(raw, &r.H, int(unsafe.Sizeof(*r)))
	if err != nil {
		return nil, 0, err
	}
	s := &event.Syscall{Common: d.common(&r.H), Nr: int(r.Nr), Dur: r.Dur, Ret: r.Ret, CallSeq: r.Seq, KernelEventsLost: r.KevLost}
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
	if r.Flags&uint8(bpf.IotraceIotScFlagsIOT_SC_NO_ENTRY) != 0 {
		s.EntryLost = true
		return s, r.ModelLost, nil // nothing was captured, the arguments are not known
	}

	var caps [2][]byte
	// Entry captures belong to this call only if they carry its number: after a loss, the
	// thread's last entry record may be another call's.
	if p, ok := d.pending[r.H.Tid]; ok && p.ncap >= 0 {
		if p.seq == r.Seq {
			if p.nr == r.Nr {
				splitCaps(p.caps, p.ncap, spec, &caps)
			}
			p.ncap = -1 // used; the buffer stays for the thread's next entry record
			d.pending[r.H.Tid] = p
		} else if p.seq < r.Seq {
			p.ncap = -1
			d.pending[r.H.Tid] = p
		}
	}
	if spec != nil && caps[0] == nil && caps[1] == nil && hasEntryCaptures(spec) && r.Flags&uint8(bpf.IotraceIotScFlagsIOT_SC_NORETURN) == 0 {
		s.CaptureLost = true
	}
	if r.Flags&uint8(bpf.IotraceIotScFlagsIOT_SC_ENTRY_LOST) != 0 {
		s.CaptureLost = true
	}
	splitCaps(raw[unsafe.Sizeof(*r):end], int(r.Ncap), spec, &caps)
	s.Decoded = d.decodeArgs(s, spec, names, &caps)
	return s, r.ModelLost, nil
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

// hasEntryCaptures reports whether the BPF side copies memory at the call's entry for spec (in
// a record of its own, which can be lost apart from the call's).
func hasEntryCaptures(spec *syscalls.Spec) bool {
	if spec.NoReturn {
		return false
	}
	for _, c := range spec.Captures {
		if !c.AtExit {
			return true
		}
	}
	return false
}

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
