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
	a.seeTask(e)
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
				held[0].Outside = event.OutsideNoCall
				out := a.stamp(held[0])
				a.pending[x.TID] = append(held[1:], x)
				return out
			}
			a.pending[x.TID] = append(held, x)
			return nil
		}
		if isLibcCall(x.Name) {
			// a uprobe in the C library: the thread is running its own code
			x.Outside = event.OutsideUser
			out := a.stamp(x)
			a.aioRequested(x)
			return out
		}
		if out, ok := a.ioThread(x); ok {
			return out
		}
		return a.standalone(x)
	case *event.Syscall:
		out := a.releaseHeld(x.TID) // a thread that makes calls is no io_uring helper
		a.syscall(x)
		out = append(out, a.stamp(x)...)
		var caused []*event.Kernel
		for _, k := range a.pending[x.TID] {
			if k.SyscallTS == x.TS {
				caused = append(caused, k)
			} else {
				// from a call whose record never came: lost, when the thread's numbers moved past it
				k.CauseLost = k.CallSeq != 0 && k.CallSeq < x.CallSeq
				if !k.CauseLost {
					k.Outside = event.OutsideNoCall
				}
				out = append(out, a.stamp(k)...)
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
	case *event.Lost:
		if x.ModelLost > 0 {
			a.forget(x.PID)
		}
		a.noteLoss(x)
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

// standalone emits a kernel event no call of its own thread caused, marked with where it came
// from.
func (a *Annotator) standalone(k *event.Kernel) []event.Event {
	a.placeFault(k)
	k.Outside = a.outside(k)
	a.requestOutside(k)
	return a.stamp(k)
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

// outside says where a kernel event no traced call caused was raised, from what the trace
// shows: in a call -e does not trace (the BPF side names it), by a kernel thread, in a user page
// fault the thread took between calls (track tied it to one), or nothing more. Only a
// user fault proves user mode: other events between calls may come from inside execve or
// exit_group (recorded at their entry), or from work the kernel did on the thread's return.
func (a *Annotator) outside(k *event.Kernel) string {
	switch {
	case k.UntracedCall != "":
		return event.OutsideUntraced
	case a.inUserFault(k):
		return event.OutsideUser
	}
	if !a.tree[k.PID] && !issuerKept(k.Name) {
		return event.OutsideKernelThread
	}
	return event.OutsideNoCall
}

// requestOutside carries where a block request was issued outside calls (a user page fault's
// readahead, an untraced read) to its requeue and completion, which the BPF side tags with the
// issuer's context: raised in interrupt context, they are that request's, nothing else.
func (a *Annotator) requestOutside(k *event.Kernel) {
	key := blockKey(k)
	switch k.Name {
	case "block_rq_issue":
		if len(a.reqOutside) >= maxOutstanding {
			clear(a.reqOutside) // requests never seen completing: forget them all
		}
		o := reqOrigin{outside: k.Outside}
		o.fault, _ = k.Args.Int("fault_seq")
		a.reqOutside[key] = o
	case "block_rq_requeue", "block_rq_complete":
		o, ok := a.reqOutside[key]
		if !ok {
			return
		}
		if k.Outside != event.OutsideUntraced {
			k.Outside = o.outside
		}
		if o.fault != 0 {
			k.Args = setField(k.Args, "fault_seq", o.fault)
		}
		if k.Name == "block_rq_complete" {
			delete(a.reqOutside, key)
		}
	}
}

// reqOrigin is where a block request issued outside calls came from.
type reqOrigin struct {
	outside string
	fault   int64 // seq of the user page fault that issued it, if told
}

// issuerKept: block request records carry the traced task that issued them, whoever raised
// them; every other event from a task outside the tree is a kernel thread's, for a file the
// tree touched (writeback, the flusher's inode events).
func issuerKept(name string) bool {
	switch name {
	case "block_rq_issue", "block_rq_complete", "block_rq_requeue", "block_bio_queue":
		return true
	}
	return false
}

// seeTask notes the processes of the traced tree, from their calls and process events, so that
// events of other tasks are told apart.
func (a *Annotator) seeTask(e event.Event) {
	switch x := e.(type) {
	case *event.Syscall:
		a.tree[x.PID] = true
	case *event.Process:
		switch x.Name {
		case "fork":
			a.tree[x.ChildPID] = true
		case "exit":
			delete(a.tree, x.PID)
		default:
			a.tree[x.PID] = true
		}
	}
}

// Flush returns every held event (at the end of a run).
func (a *Annotator) Flush() []event.Event {
	var out []event.Event
	for tid, held := range a.pending {
		for _, k := range held {
			k.Outside = event.OutsideNoCall
			out = append(out, a.stamp(k)...)
		}
		delete(a.pending, tid)
	}
	for tid := range a.iot.held {
		out = append(out, a.releaseHeld(tid)...)
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
