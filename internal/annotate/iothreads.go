package annotate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// io_uring's helper threads are threads of the traced process that make no syscalls: io-wq
// workers (iou-wrk-N) run the requests a call punted, and an SQPOLL ring's SQ thread
// (iou-sqp-N) submits what user space put in the SQ. Without this model everything they do
// stands alone as "no traced call".
//
// Evidence, by tracepoint:
//   - io_uring_queue_async_work (ctx, req), raised by the thread that punted the request,
//     inside the call that did (or in the SQ thread);
//   - io_uring_complete (ctx, req; before 6.0 only user_data, mapped back to req through the
//     io_uring_submit_sqe that carried both) raised by whoever finished it: a thread that made
//     no syscall finishing a punted request is the worker that ran it;
//   - io_uring_submit_req with sq_thread=1 outside every call: that thread is the ring's SQ
//     thread (an SQPOLL ring is submitted to by its SQ thread only).
//
// A worker runs one request at a time, so what it raised since its previous completion is the
// work of the request it completes next: those events are held until the completion names the
// request. What the trace cannot tell: the work of a request that never completes while traced
// (held events are let go unattributed at exit), and which call put an SQE in an SQPOLL ring
// (user space writes the SQ: there is no call to name, only the ring).
type ioThreads struct {
	punted map[string]punt            // by req id: punted, not yet completed
	npunts map[uint32]int             // by pid: how many of punted are its
	byData map[string]string          // "ctx/user_data" → req, for completions without req
	held   map[uint32][]*event.Kernel // by tid: a possible worker's events since its last completion
	sq     map[uint32]string          // SQ threads: tid → ctx of the ring they submit for
	worker map[uint32]bool            // tids seen completing a punted request
	comm   map[uint32]string          // helper threads' names, from the wakeups they made
}

// punt is a request sent to io-wq, and the call that sent it.
type punt struct {
	pid, tid uint32
	ts       uint64 // entry of the call that punted it (SyscallTS); 0: outside calls
	callSeq  uint32
	ctx      string
}

func newIOThreads() *ioThreads {
	return &ioThreads{punted: map[string]punt{}, npunts: map[uint32]int{}, byData: map[string]string{}, held: map[uint32][]*event.Kernel{},
		sq: map[uint32]string{}, worker: map[uint32]bool{}, comm: map[uint32]string{}}
}

// trackIOThreads learns punts, submissions and helper threads from every kernel event.
func (a *Annotator) trackIOThreads(k *event.Kernel) {
	t := a.iot
	ctx, _ := k.Args.Str("ctx")
	switch k.Name {
	case "io_uring_queue_async_work":
		req, ok := k.Args.Str("req")
		if !ok {
			return
		}
		if len(t.punted) >= maxOutstanding {
			clear(t.punted) // punts never seen completing: forget them all
			clear(t.npunts)
		}
		t.forget(req)
		t.punted[req] = punt{pid: k.PID, tid: k.TID, ts: k.SyscallTS, callSeq: k.CallSeq, ctx: ctx}
		t.npunts[k.PID]++
	case "io_uring_submit_req", "io_uring_submit_sqe":
		if sq, _ := k.Args.Int("sq_thread"); sq != 0 && k.SyscallTS == 0 && k.UntracedCall == "" && a.tree[k.PID] {
			t.sq[k.TID] = ctx
		}
		req, ok := k.Args.Str("req")
		ud, hasData := k.Args.Int("user_data")
		if !ok || !hasData {
			return
		}
		if len(t.byData) >= maxOutstanding {
			clear(t.byData)
		}
		key := ctx + "/" + strconv.FormatInt(ud, 10)
		if prev, dup := t.byData[key]; dup && prev != req {
			t.byData[key] = "" // two requests in flight with the same user_data: cannot tell them apart
		} else {
			t.byData[key] = req
		}
	case "sched_blocked":
		if tid, ok := k.Args.Int("waker_tid"); ok {
			if c, ok := k.Args.Str("waker_comm"); ok && (strings.HasPrefix(c, "iou-wrk-") || strings.HasPrefix(c, "iou-sqp-")) {
				t.comm[uint32(tid)] = c
			}
		}
	}
}

// reqOf is the request an io_uring_complete finished.
func (t *ioThreads) reqOf(k *event.Kernel) string {
	if req, ok := k.Args.Str("req"); ok {
		return req
	}
	ctx, _ := k.Args.Str("ctx")
	ud, ok := k.Args.Int("user_data")
	if !ok {
		return ""
	}
	key := ctx + "/" + strconv.FormatInt(ud, 10)
	req := t.byData[key]
	delete(t.byData, key)
	return req
}

// ioThread places a kernel event raised outside every call by an io_uring helper thread.
// handled is false when the event is not one: the caller attributes it as usual.
func (a *Annotator) ioThread(k *event.Kernel) (out []event.Event, handled bool) {
	t := a.iot
	if k.SyscallTS != 0 || k.UntracedCall != "" || !a.tree[k.PID] {
		return nil, false
	}
	if ctx, ok := t.sq[k.TID]; ok {
		if k.Name == "io_uring_complete" {
			t.forget(t.reqOf(k)) // completed in the SQ thread itself: no worker ran it
		}
		k.Via, k.Outside = event.ViaSQThread, event.OutsideIOThread
		nameRing(k, ctx)
		return a.stamp(k), true
	}
	if a.madeCalls(k.TID) || !t.worker[k.TID] && !t.puntsOf(k.PID) {
		return nil, false
	}
	if k.Name != "io_uring_complete" {
		held := t.held[k.TID]
		if len(held) >= maxPending {
			out = a.standalone(held[0])
			held = held[1:]
		}
		t.held[k.TID] = append(held, k)
		return out, true
	}
	req := t.reqOf(k)
	p, ok := t.punted[req]
	if !ok || p.tid == k.TID {
		// not a punted request, or completed by the thread that punted it (task work on its
		// return to user mode): no worker in this
		return append(a.releaseHeld(k.TID), a.standalone(k)...), true
	}
	t.forget(req)
	t.worker[k.TID] = true
	work := append(t.held[k.TID], k)
	delete(t.held, k.TID)
	for _, w := range work {
		w.Via = event.ViaIOWorker
	}
	switch seq, shown := a.recentSyscall(p.tid, p.ts); {
	case p.ts == 0:
		// punted outside calls (by the SQ thread): the ring is all the trace can name
		for _, w := range work {
			w.Outside = event.OutsideIOThread
			nameRing(w, p.ctx)
			out = append(out, a.stamp(w)...)
		}
	case shown:
		for _, w := range work {
			w.CauseSeq = seq
			out = append(out, a.stamp(w)...)
		}
	default:
		// the punting call has not returned (it may be waiting for this very completion): the
		// work joins what that call raised, emitted after it and told in its notes
		for _, w := range work {
			w.SyscallTS, w.CallSeq = p.ts, p.callSeq
		}
		a.pending[p.tid] = append(a.pending[p.tid], work...)
	}
	return out, true
}

// nameRing gives an event of a helper thread the ring it worked for, where its own fields do
// not say (io_uring events carry ctx).
func nameRing(k *event.Kernel, ctx string) {
	if _, ok := k.Args.Get("ctx"); !ok {
		k.Args = setField(k.Args, "ring", ctx)
	}
}

// puntsOf: requests punted by a thread of pid are still running.
func (t *ioThreads) puntsOf(pid uint32) bool { return t.npunts[pid] > 0 }

// forget drops a punted request (completed, or its id reused).
func (t *ioThreads) forget(req string) {
	if p, ok := t.punted[req]; ok {
		delete(t.punted, req)
		if t.npunts[p.pid]--; t.npunts[p.pid] <= 0 {
			delete(t.npunts, p.pid)
		}
	}
}

// madeCalls: tid made a syscall the trace showed (or is in one): not a helper thread.
func (a *Annotator) madeCalls(tid uint32) bool {
	return len(a.recent[tid]) > 0 || len(a.pending[tid]) > 0
}

// releaseHeld lets a thread's held events go as they would have without the model.
func (a *Annotator) releaseHeld(tid uint32) []event.Event {
	var out []event.Event
	for _, k := range a.iot.held[tid] {
		out = append(out, a.standalone(k)...)
	}
	delete(a.iot.held, tid)
	return out
}

// workerNote says which io-wq workers ran the requests a call punted, from the completions
// they posted before the call returned (end); the rest complete later, on lines of their own.
func (a *Annotator) workerNote(caused []*event.Kernel, punts int64, end uint64) string {
	n := fmt.Sprintf("io_uring punted %d request%s to io-wq worker threads", punts, plural(punts))
	ran := map[uint32]int64{}
	var done int64
	for _, k := range caused {
		if k.Via == event.ViaIOWorker && k.Name == "io_uring_complete" && k.TS <= end {
			ran[k.TID]++
			done++
		}
	}
	if done == 0 {
		return n
	}
	tids := make([]uint32, 0, len(ran))
	for tid := range ran {
		tids = append(tids, tid)
	}
	slices.Sort(tids)
	var by []string
	for _, tid := range tids {
		w := "tid " + strconv.FormatUint(uint64(tid), 10)
		if c := a.iot.comm[tid]; c != "" {
			w += " (" + c + ")"
		}
		if len(tids) > 1 {
			w += fmt.Sprintf(": %d", ran[tid])
		}
		by = append(by, w)
	}
	who := "a worker, " + by[0]
	if len(by) > 1 {
		who = fmt.Sprintf("%d workers, %s", len(by), strings.Join(by, ", "))
	}
	if done == punts {
		return fmt.Sprintf("%s; all %d ran on %s, and completed before the call returned", n, done, who)
	}
	return fmt.Sprintf("%s; %d ran on %s, and completed before the call returned", n, done, who)
}
