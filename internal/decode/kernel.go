package decode

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/tracefs"
)

// KernelFormat says how to read one kernel tracepoint's record.
type KernelFormat struct {
	Name   string
	Fields []tracefs.FormatField
}

// SetKernelFormats tells the decoder which kernel events are attached, by event id.
func (d *Decoder) SetKernelFormats(f map[uint16]KernelFormat) { d.kernel = f }

func (d *Decoder) kernelEvent(raw []byte) (event.Event, uint32, error) {
	r, err := view[bpf.IotraceIotKernel](raw)
	if err != nil {
		return nil, 0, err
	}
	k := &event.Kernel{Common: d.common(&r.H), SyscallTS: r.ScTs, CallSeq: r.ScSeq, UntracedCall: d.untraced(r.ScUntraced)}
	f, ok := d.kernel[r.Id]
	if !ok {
		k.Name = "tracepoint_" + strconv.Itoa(int(r.Id))
		return k, r.LostBefore, nil
	}
	k.Name = f.Name
	data := r.Data[:min(int(r.Len), len(r.Data))]
	uring := strings.HasPrefix(f.Name, "io_uring_")
	for _, fl := range f.Fields {
		if v, ok := d.kernelField(fl, data); ok {
			if uring && fl.Name == "opcode" {
				// the op by name, as io_uring's own op_str (not copied: variable data) says it
				if n, ok := event.AsInt(v); ok {
					v = UringOp(uint8(n))
				}
			}
			k.Args = append(k.Args, event.Field{Key: fl.Name, Val: v})
		}
	}
	return k, r.LostBefore, nil
}

// kernelField reads one field. Kernel addresses become short per-run ids (#3): they identify a
// request or ring across events without printing a kernel address.
func (d *Decoder) kernelField(fl tracefs.FormatField, data []byte) (any, bool) {
	if strings.HasPrefix(fl.Name, "common_") || fl.Name == "pfn" || strings.HasPrefix(fl.Type, "__data_loc") {
		return nil, false
	}
	if fl.Offset+fl.Size > len(data) || fl.Size <= 0 {
		return nil, false
	}
	b := data[fl.Offset : fl.Offset+fl.Size]
	if strings.HasPrefix(fl.Type, "char[") {
		return EscapeString(cstrU(b)), true
	}
	var u uint64
	switch fl.Size {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(binary.LittleEndian.Uint16(b))
	case 4:
		u = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		u = binary.LittleEndian.Uint64(b)
	default:
		return nil, false
	}
	switch {
	case fl.Type == "user_ptr": // a user-space address (uprobe records): shown as strace shows pointers
		return "0x" + strconv.FormatUint(u, 16), true
	case strings.Contains(fl.Type, "*"):
		return d.opaque(u), true
	case fl.Type == "dev_t":
		return strconv.FormatUint(u>>20, 10) + ":" + strconv.FormatUint(u&0xfffff, 10), true
	case fl.Signed:
		shift := 64 - 8*fl.Size
		return int64(u<<shift) >> shift, true
	}
	return u, true
}

// opaque maps a kernel address to a stable per-run id.
func (d *Decoder) opaque(addr uint64) string {
	if addr == 0 {
		return "NULL"
	}
	id, ok := d.ids[addr]
	if !ok {
		id = len(d.ids) + 1
		d.ids[addr] = id
	}
	return "#" + strconv.Itoa(id)
}

// untraced names the syscall of a kernel record's sc_untraced (1 + its number; 0: none).
func (d *Decoder) untraced(nr uint32) string {
	if nr == 0 {
		return ""
	}
	if name := d.table.Name(int(nr) - 1); name != "" {
		return name
	}
	return "syscall_" + strconv.Itoa(int(nr)-1)
}

// blocked decodes off-CPU time inside a call: sched_blocked (it waited, and who woke it) or
// sched_preempted (switched out while runnable).
func (d *Decoder) blocked(raw []byte) (event.Event, uint32, error) {
	r, err := view[bpf.IotraceIotBlocked](raw)
	if err != nil {
		return nil, 0, err
	}
	k := &event.Kernel{Common: d.common(&r.H), Name: "sched_blocked", SyscallTS: r.ScTs, CallSeq: r.ScSeq}
	k.Args = event.Fields{{Key: "off_cpu_ns", Val: int64(r.OffNs)}}
	if r.Preempted != 0 {
		// runnable all along: the scheduler chose another task, nobody woke this one
		k.Name = "sched_preempted"
		return k, r.LostBefore, nil
	}
	if r.WakerTid != 0 {
		k.Args = append(k.Args,
			event.Field{Key: "waker_pid", Val: int64(r.WakerPid)},
			event.Field{Key: "waker_tid", Val: int64(r.WakerTid)},
			event.Field{Key: "waker_comm", Val: EscapeString(cstr(r.WakerComm[:]))})
		if r.WakerKthread != 0 {
			k.Args = append(k.Args, event.Field{Key: "waker_kthread", Val: true})
		}
	}
	return k, r.LostBefore, nil
}
