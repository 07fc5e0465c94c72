package annotate

import (
	"github.com/iotrace/iotrace/internal/event"
)

// maxPending bounds the kernel events held for one thread while its syscall is in flight.
const maxPending = 65536

// Annotate updates the model with e and returns the events to emit, in timeline order, with
// sequence numbers. Kernel events raised inside a syscall arrive before it (the syscall is
// recorded at its exit): they are held and emitted right after it, linked by cause_seq.
func (a *Annotator) Annotate(e event.Event) []event.Event {
	switch x := e.(type) {
	case *event.Kernel:
		a.track(x)
		a.nameFile(x)
		if seq, ok := a.recentSyscall(x.TID, x.SyscallTS); ok {
			// caused by a call already shown (a block request completing after io_submit returned)
			a.placeFault(x)
			x.CauseSeq = seq
			return a.stamp(x)
		}
		if x.SyscallTS != 0 {
			held := a.pending[x.TID]
			if len(held) >= maxPending {
				// a syscall that never ends (or a runaway burst): let the oldest go unattributed
				out := a.stamp(held[0])
				a.pending[x.TID] = append(held[1:], x)
				return out
			}
			a.pending[x.TID] = append(held, x)
			return nil
		}
		a.placeFault(x)
		return a.stamp(x)
	case *event.Syscall:
		a.syscall(x)
		out := a.stamp(x)
		var caused []*event.Kernel
		for _, k := range a.pending[x.TID] {
			if k.SyscallTS == x.TS {
				caused = append(caused, k)
			} else {
				out = append(out, a.stamp(k)...) // from a call whose exit was never seen
			}
		}
		delete(a.pending, x.TID)
		a.remember(x)
		a.explain(x, caused)
		for _, k := range caused {
			k.CauseSeq = x.Seq
			out = append(out, a.stamp(k)...)
		}
		return out
	case *event.Process:
		a.process(x)
		out := a.stamp(x)
		if x.Name == "exit" {
			out = append(out, a.Flush()...)
		}
		return out
	}
	return a.stamp(e)
}

// nameFile adds the file's name to a kernel event that names an inode the model knows.
func (a *Annotator) nameFile(k *event.Kernel) {
	ino, ok := k.Args.Int("i_ino")
	if !ok {
		ino, ok = k.Args.Int("ino")
	}
	if !ok {
		return
	}
	if fi, known := a.inodes[uint64(ino)]; known && fi.path != "" {
		k.Args = setField(k.Args, "file", fi.path)
	}
}

// Flush returns every held event (at the end of a run).
func (a *Annotator) Flush() []event.Event {
	var out []event.Event
	for tid, held := range a.pending {
		for _, k := range held {
			out = append(out, a.stamp(k)...)
		}
		delete(a.pending, tid)
	}
	return out
}

// recentN is how many finished syscalls per thread late kernel events can still be linked to.
const recentN = 64

type recentCall struct{ ts, seq uint64 }

func (a *Annotator) remember(s *event.Syscall) {
	r := a.recent[s.TID]
	if len(r) >= recentN {
		r = r[1:]
	}
	a.recent[s.TID] = append(r, recentCall{s.TS, s.Seq})
}

func (a *Annotator) recentSyscall(tid uint32, ts uint64) (uint64, bool) {
	if ts == 0 {
		return 0, false
	}
	for _, c := range a.recent[tid] {
		if c.ts == ts {
			return c.seq, true
		}
	}
	return 0, false
}

func (a *Annotator) stamp(e event.Event) []event.Event {
	a.seq++
	e.Base().Seq = a.seq
	return []event.Event{e}
}
