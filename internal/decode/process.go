package decode

import (
	"bytes"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/event"
)

func cstr(b []int8) string {
	u := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		u = append(u, byte(c))
	}
	return string(u)
}

func cstrU(b []uint8) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func (d *Decoder) fork(raw []byte) (event.Event, error) {
	r, err := view[bpf.IotraceIotFork](raw)
	if err != nil {
		return nil, err
	}
	comm := cstr(r.Comm[:])
	d.comms[r.ChildTid] = comm
	// a new task: its calls are numbered from 1 (a tid can be reused)
	delete(d.threads, r.ChildTid)
	delete(d.pending, r.ChildTid)
	return &event.Process{
		Common:   d.common(&r.H),
		Name:     "fork",
		ChildPID: r.ChildPid,
		ChildTID: r.ChildTid,
		Thread:   r.Thread != 0,
	}, nil
}

func (d *Decoder) exec(raw []byte) (event.Event, error) {
	r, err := view[bpf.IotraceIotExec](raw)
	if err != nil {
		return nil, err
	}
	// exec by a non-leader thread takes over the leader's tid: its entry captures move with it
	if r.OldTid != r.H.Tid {
		delete(d.comms, r.OldTid)
		if p, ok := d.pending[r.OldTid]; ok {
			d.pending[r.H.Tid] = p
			delete(d.pending, r.OldTid)
		}
		// and so does its call count (the BPF side moved it with the call in flight)
		if t, ok := d.threads[r.OldTid]; ok {
			d.threads[r.H.Tid] = t
			delete(d.threads, r.OldTid)
		} else {
			delete(d.threads, r.H.Tid)
		}
	}
	d.comms[r.H.Tid] = cstr(r.Comm[:])
	return &event.Process{Common: d.common(&r.H), Name: "exec", Filename: cstr(r.Filename[:])}, nil
}

func (d *Decoder) exit(raw []byte) (event.Event, error) {
	r, err := view[bpf.IotraceIotExit](raw)
	if err != nil {
		return nil, err
	}
	p := &event.Process{Common: d.common(&r.H), Name: "exit"}
	if p.Comm == "" {
		p.Comm = cstr(r.Comm[:])
	}
	status := int(r.ExitCode)
	if sig := status & 0x7f; sig != 0 {
		p.Signal = Signal(sig)
	} else {
		code := (status >> 8) & 0xff
		p.ExitCode = &code
	}
	return p, nil
}
