package annotate

import (
	"fmt"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// Block requests, from block:block_rq_issue, block_rq_requeue and block_rq_complete. The BPF
// side tags each with the task and syscall (entry time) that queued it, also when kblockd
// dispatches it later, so the requests of one call are known however late they go out.
//
// A request the device sends back (block_rq_requeue) is issued again with the same sector
// range: it is counted once, and the repeated block_rq_issue is marked reissued=true. Without
// the requeue event (older recordings) a repeated issue counts as a new request. A
// request is identified by device and first sector while it is outstanding; the trace cannot
// tell two outstanding requests starting at the same sector apart (the block layer merges
// those).

type reqKey struct {
	dev    string
	sector int64
}

type callKey struct {
	tid uint32
	ts  uint64
}

// ioCall is what the block requests of one syscall did so far.
type ioCall struct {
	key       callKey
	pid       uint32
	explained bool // the syscall itself was seen: seq, name and end are set
	seq       uint64
	name      string
	what      string // how notes name the call: "fadvise64 WILLNEED (seq 12)"
	end       uint64
	issued    int64 // requests, each counted once
	bytes     int64
	done      int64
	doneAt    []uint64 // when each completed: the call's notes count those before its end
	writes    int64    // of which writes
	wbytes    int64
	wdone     int64
	wdoneB    int64
	lastDone  uint64
	wb        *writeback // the writeback this call started, if any
}

// outstanding is an issued request not yet completed.
type outstanding struct {
	call     *ioCall // nil: not issued inside a traced syscall
	bytes    int64
	write    bool
	requeued bool // the device sent it back: its next issue is the same request
}

// completion is a request that completed, kept a while for the calls that waited on it.
type completion struct {
	ts    uint64
	call  *ioCall
	bytes int64
}

type blockState struct {
	out    map[reqKey]*outstanding
	calls  map[callKey]*ioCall
	recent []completion
}

// maxOutstanding bounds the requests remembered: one never seen completing is forgotten when
// the table is full (the BPF side drops such requests after 10 s too).
const (
	maxOutstanding = 16384
	recentDone     = 256
)

func newBlockState() *blockState {
	return &blockState{out: map[reqKey]*outstanding{}, calls: map[callKey]*ioCall{}}
}

func blockKey(k *event.Kernel) reqKey {
	dev, _ := k.Args.Str("dev")
	sector, _ := k.Args.Int("sector")
	return reqKey{dev, sector}
}

func isWrite(k *event.Kernel) bool {
	rwbs, _ := k.Args.Str("rwbs")
	return strings.ContainsRune(rwbs, 'W')
}

// call returns the block-I/O record of the syscall k was raised in (nil outside syscalls).
func (b *blockState) call(k *event.Kernel) *ioCall {
	if k.SyscallTS == 0 {
		return nil
	}
	key := callKey{k.TID, k.SyscallTS}
	c := b.calls[key]
	if c == nil {
		c = &ioCall{key: key, pid: k.PID}
		b.calls[key] = c
	}
	return c
}

// trackBlock updates the request table for one block event and returns the call whose
// request completed, if any.
func (a *Annotator) trackBlock(k *event.Kernel) {
	b := a.blk
	switch k.Name {
	case "block_rq_issue":
		key := blockKey(k)
		if o, again := b.out[key]; again && o.requeued {
			o.requeued = false
			k.Args = setField(k.Args, "reissued", true)
			return
		}
		if len(b.out) >= maxOutstanding {
			clear(b.out)
		}
		n, _ := k.Args.Int("bytes")
		o := &outstanding{call: b.call(k), bytes: n, write: isWrite(k)}
		b.out[key] = o
		if c := o.call; c != nil {
			c.issued++
			c.bytes += n
			if o.write {
				c.writes++
				c.wbytes += n
			}
		}
	case "block_rq_requeue":
		if o, ok := b.out[blockKey(k)]; ok {
			o.requeued = true
		}
	case "block_rq_complete":
		key := blockKey(k)
		o, ok := b.out[key]
		if !ok {
			return
		}
		delete(b.out, key)
		c := o.call
		if c == nil {
			return
		}
		c.done++
		c.lastDone = k.TS
		c.doneAt = append(c.doneAt, k.TS)
		if o.write {
			c.wdone++
			c.wdoneB += o.bytes
		}
		b.recent = append(b.recent, completion{ts: k.TS, call: c, bytes: o.bytes})
		if len(b.recent) > recentDone {
			b.recent = b.recent[len(b.recent)-recentDone:]
		}
		if c.explained {
			a.lateCompletion(k, c)
		}
		b.forget(c)
	}
}

// forget drops a call's record once it was explained and nothing of it is in flight.
func (b *blockState) forget(c *ioCall) {
	if c.explained && c.done >= c.issued {
		delete(b.calls, c.key)
	}
}

// inFlight says whether a call has requests issued and not completed.
func (c *ioCall) inFlight() bool { return c.done < c.issued }

// doneBy counts the call's requests that completed by t. A completion raised on another CPU
// after the call returned can reach the annotator before the call's own record does.
func (c *ioCall) doneBy(t uint64) int64 {
	var n int64
	for _, ts := range c.doneAt {
		if ts <= t {
			n++
		}
	}
	return n
}

// explainedCall marks the call of s seen and returns its block I/O so far (nil: none).
func (a *Annotator) explainedCall(s *event.Syscall, what string) *ioCall {
	c := a.blk.calls[callKey{s.TID, s.TS}]
	if c == nil {
		return nil
	}
	c.explained, c.seq, c.name, c.end, c.what = true, s.Seq, s.Name, s.TS+s.Dur, what
	return c
}

// lateCompletion notes, on a request completing after its call returned, what that ends.
func (a *Annotator) lateCompletion(k *event.Kernel, c *ioCall) {
	if wb := c.wb; wb != nil && !wb.done && c.wdone >= c.writes && c.wdoneB >= wb.bytes {
		if n := a.finishWriteback(wb); n > 0 {
			k.Notes = append(k.Notes, fmt.Sprintf("the writeback %s started is complete (%s after it returned): %s of %s written back, clean",
				c.what, durText(int64(k.TS-c.end)), pages(n), a.fileName(wb.ino)))
		}
	}
	if c.done == c.issued && c.writes == 0 && strings.Contains(c.what, "WILLNEED") {
		k.Notes = append(k.Notes, fmt.Sprintf("the last block request issued for %s completed, %s after it returned",
			c.what, durText(int64(k.TS-c.end))))
	}
}

// waitedOn names the block requests of other calls of the same process that completed while
// s was blocked: the I/O a read waits for when an earlier call (WILLNEED, readahead) issued it.
func (a *Annotator) waitedOn(s *event.Syscall, blocked []*event.Kernel) []string {
	var out []string
	seen := map[*ioCall]bool{}
	for _, done := range a.blk.recent {
		c := done.call
		if c.pid != s.PID || c.key == (callKey{s.TID, s.TS}) || seen[c] || !c.explained {
			continue
		}
		for _, b := range blocked {
			off, _ := b.Args.Int("off_cpu_ns")
			if done.ts >= b.TS && done.ts <= b.TS+uint64(off) {
				seen[c] = true
				out = append(out, c.what)
				break
			}
		}
	}
	return out
}
