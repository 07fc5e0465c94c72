package annotate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// Native AIO. The kernel has no tracepoint for an AIO request completing (fs/aio.c raises
// none), so the notes say when a request was complete only where a call proves it: an
// io_getevents that returned it without blocking found it complete; one that blocked first
// found fewer than min_nr complete; one that returned fewer than it had room for left the rest
// incomplete when it looked. io_submit's note names what it submitted and, for O_DIRECT, what its
// block requests did (block_rq_issue/complete); it never says a request completed inside it.

// aioContext is a native AIO context: what io_setup asked for and the requests submitted and
// not yet reaped.
type aioContext struct {
	asked    int64
	inflight int64    // requests submitted and not reaped (io_submit and io_getevents returns)
	reqs     []aioReq // the ones the trace decoded, in submission order
}

// aioReq is one submitted iocb, known by its aio_data: the kernel copies it into the io_event
// (its iocb address is not captured).
type aioReq struct {
	data   int64
	opcode string
	direct bool // a read or write on an O_DIRECT file
}

// aioCall applies a successful native AIO call to its context and adds the notes. It runs once
// the call's kernel events are known: a reaping call's note depends on whether it blocked.
func (a *Annotator) aioCall(s *event.Syscall, e *effects) {
	if s.EntryLost || s.Unfinished || s.Failed() {
		return
	}
	p := a.proc(s.PID)
	switch s.Name {
	case "io_setup":
		if id, ok := s.Decoded.Str("ctxp"); ok {
			nr := int64(argOf(s, "nr_events"))
			p.aio[id] = &aioContext{asked: nr}
			// fs/aio.c ioctx_alloc makes the ring larger than asked (at least twice, and whole
			// pages); the size it chose is not in the trace.
			s.Notes = append(s.Notes, fmt.Sprintf("AIO context %s: made for at least %d requests in flight (the kernel sizes the ring larger; by how much is not in the trace)", id, nr))
		}
	case "io_destroy":
		delete(p.aio, hexID(argOf(s, "ctx")))
	case "io_submit":
		if c, ok := p.aio[hexID(argOf(s, "ctx_id"))]; ok {
			a.aioSubmit(p, c, s)
		}
	case "io_getevents", "io_pgetevents":
		if c, ok := p.aio[hexID(argOf(s, "ctx_id"))]; ok {
			a.aioReap(c, s, e)
		}
	}
}

// aioSubmit records the requests io_submit accepted (the first Ret iocbs) and says what they are.
func (a *Annotator) aioSubmit(p *proc, c *aioContext, s *event.Syscall) {
	c.inflight += s.Ret
	iocbs, _ := s.Decoded.Get("iocbpp")
	list, _ := iocbs.([]any)
	var accepted []aioReq
	for i, it := range list {
		if int64(i) >= s.Ret {
			break
		}
		f, _ := it.(event.Fields)
		r := aioReq{opcode: "?"}
		r.data, _ = f.Int("data")
		if op, ok := f.Str("opcode"); ok {
			r.opcode = op
		}
		if fdv, ok := f.Int("fd"); ok {
			if d, ok := p.fds[fdv]; ok && d.f.direct && aioReadWrite(r.opcode) {
				r.direct = true
			}
		}
		accepted = append(accepted, r)
	}
	c.reqs = append(c.reqs, accepted...)
	s.Notes = append(s.Notes, fmt.Sprintf("AIO context %s: %d request%s submitted and not reaped yet", hexID(argOf(s, "ctx_id")), c.inflight, plural(c.inflight)))
	if len(accepted) == 0 {
		return
	}
	s.Notes = append(s.Notes, "submitted "+aioGroups(accepted)+"; no tracepoint shows AIO completions: the io_getevents that collects each says whether it was complete")
	for _, r := range accepted {
		if r.direct {
			s.Notes = append(s.Notes, a.directNote(s))
			break
		}
	}
}

// aioReap takes the requests an io_getevents returned off the context and says what the call
// proves of them: complete when it looked (it did not block), waited for (it blocked first),
// and which it left behind incomplete (it returned fewer than it had room for).
func (a *Annotator) aioReap(c *aioContext, s *event.Syscall, e *effects) {
	c.inflight = max(c.inflight-s.Ret, 0)
	evs, _ := s.Decoded.Get("events")
	list, _ := evs.([]any)
	var got []aioReq
	matched := int64(0)
	for _, it := range list {
		f, _ := it.(event.Fields)
		data, _ := f.Int("data")
		if r, ok := c.take(data); ok {
			got = append(got, r)
			matched++
		}
	}
	if matched < s.Ret {
		// results the trace did not decode, or requests it never saw submitted: which requests
		// are still in flight is no longer known
		c.reqs = nil
	}
	s.Notes = append(s.Notes, fmt.Sprintf("AIO context %s: %d request%s submitted and not reaped yet", hexID(argOf(s, "ctx_id")), c.inflight, plural(c.inflight)))
	minNr := int64(argOf(s, "min_nr"))
	if len(got) > 0 {
		if e.blockedNS > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("collected %s after blocking: fewer than min_nr %d were complete when it was called", aioGroups(got), minNr))
		} else {
			s.Notes = append(s.Notes, fmt.Sprintf("collected %s without waiting: they were complete when it ran", aioGroups(got)))
		}
	}
	room := int64(argOf(s, "nr"))
	if s.Ret < room && len(c.reqs) > 0 && int64(len(c.reqs)) == c.inflight {
		s.Notes = append(s.Notes, fmt.Sprintf("not complete when it ran (it returned %d of the %d it could take): %s", s.Ret, room, aioGroups(c.reqs)))
	}
}

// take removes the oldest request with aio_data data.
func (c *aioContext) take(data int64) (aioReq, bool) {
	for i, r := range c.reqs {
		if r.data == data {
			c.reqs = append(c.reqs[:i:i], c.reqs[i+1:]...)
			return r, true
		}
	}
	return aioReq{}, false
}

func aioReadWrite(op string) bool {
	switch op {
	case "IOCB_CMD_PREAD", "IOCB_CMD_PWRITE", "IOCB_CMD_PREADV", "IOCB_CMD_PWRITEV":
		return true
	}
	return false
}

// aioGroups names requests by opcode, in order of first appearance: "IOCB_CMD_PREAD ×4 (data
// 0–3), IOCB_CMD_FSYNC (data 10)"; reads and writes on O_DIRECT files apart.
func aioGroups(reqs []aioReq) string {
	var order []string
	by := map[string][]int64{}
	for _, r := range reqs {
		k := r.opcode
		if r.direct {
			k = "O_DIRECT " + k
		}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], r.data)
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		d := by[k]
		n := k
		if len(d) > 1 {
			n += " ×" + strconv.Itoa(len(d))
		}
		parts = append(parts, n+" (data "+dataList(d)+")")
	}
	return strings.Join(parts, ", ")
}

// dataList is "0–3" for a consecutive run, else up to four values and a count of the rest.
func dataList(d []int64) string {
	consecutive := true
	for i := 1; i < len(d); i++ {
		consecutive = consecutive && d[i] == d[i-1]+1
	}
	if consecutive && len(d) > 2 {
		return fmt.Sprintf("%d–%d", d[0], d[len(d)-1])
	}
	var parts []string
	for i, v := range d {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(d)-4))
			break
		}
		parts = append(parts, strconv.FormatInt(v, 10))
	}
	return strings.Join(parts, ", ")
}

// io_uring. A ring is named by the id its kernel context has on the kernel lines (ctx=#1),
// learnt from io_uring_create inside io_uring_setup, or else from the first io_uring event an
// io_uring_enter on it raised.

// IORING_ENTER_* flags (include/uapi/linux/io_uring.h).
const (
	enterGetEvents = 1 << 0
	enterSQWakeup  = 1 << 1
	enterSQWait    = 1 << 2
)

// ring is an io_uring instance, as io_uring_setup sized it.
type ring struct {
	sq, cq int64
	sqpoll bool
	ctx    string // its kernel context's id on the kernel lines ("#1"), once the trace showed it
	fd     int64  // the descriptor io_uring_setup returned, to name it while ctx is unknown
}

func (r *ring) name() string {
	if r.ctx != "" {
		return "io_uring ctx=" + r.ctx
	}
	return "io_uring of fd " + strconv.FormatInt(r.fd, 10)
}

// learnCtx takes the ring's context id from the io_uring events a call on it raised.
func (r *ring) learnCtx(caused []*event.Kernel) {
	if r.ctx != "" {
		return
	}
	for _, k := range caused {
		if !strings.HasPrefix(k.Name, "io_uring_") {
			continue
		}
		if id, ok := k.Args.Str("ctx"); ok && id != "NULL" {
			r.ctx = id
			return
		}
	}
}

// uringSetup records the ring behind the new descriptor and says how it was sized.
func (a *Annotator) uringSetup(s *event.Syscall, caused []*event.Kernel) {
	if s.EntryLost || s.Failed() {
		return
	}
	d, ok := a.proc(s.PID).fds[s.Ret]
	if !ok {
		return
	}
	params, _ := s.Decoded.Get("params")
	f, _ := params.(event.Fields)
	sq, _ := f.Int("sq_entries")
	cq, _ := f.Int("cq_entries")
	flags, _ := f.Str("flags")
	d.f.ring = &ring{sq: sq, cq: cq, sqpoll: strings.Contains(flags, "IORING_SETUP_SQPOLL"), fd: s.Ret}
	d.f.ring.learnCtx(caused) // io_uring_create names the new context
	s.Notes = append(s.Notes, d.f.ring.name()+": "+d.f.ring.text())
}

func (r *ring) text() string {
	t := fmt.Sprintf("%d SQ and %d CQ entries", r.sq, r.cq)
	if r.sqpoll {
		t += "; a kernel thread (iou-sqp) polls the SQ and submits what it finds there"
	}
	return t
}

// uringEnter says what one io_uring_enter did with its ring: how many SQEs it submitted (with
// SQPOLL it submits none: the kernel returns to_submit and the SQ thread submits), and whether
// it waited for completions — only with IORING_ENTER_GETEVENTS; min_complete is ignored
// without it. That it waited is shown by io_uring_cqring_wait, raised when fewer than
// min_complete completions were ready.
func (a *Annotator) uringEnter(s *event.Syscall, caused []*event.Kernel) {
	if s.EntryLost || s.Failed() {
		return
	}
	d, ok := a.proc(s.PID).fds[int64(int32(argOf(s, "fd")))]
	if !ok || d.f.ring == nil {
		return
	}
	r := d.f.ring
	r.learnCtx(caused)
	submit, minc, flags := argOf(s, "to_submit"), argOf(s, "min_complete"), argOf(s, "flags")
	var parts []string
	switch {
	case r.sqpoll && (submit > 0 || flags&(enterSQWakeup|enterSQWait) != 0):
		p := "SQPOLL: the SQ thread submits, not this call"
		if submit > 0 {
			p = fmt.Sprintf("SQPOLL: this call submitted none of the %d SQEs it named, the SQ thread does; the kernel returns to_submit whatever the thread has taken", submit)
		}
		if flags&enterSQWakeup != 0 {
			p += "; IORING_ENTER_SQ_WAKEUP asked the thread to wake"
		}
		if flags&enterSQWait != 0 {
			p += "; IORING_ENTER_SQ_WAIT waited for room in the SQ"
		}
		parts = append(parts, p)
	case !r.sqpoll && submit > 0:
		parts = append(parts, fmt.Sprintf("%d of %d SQEs submitted", s.Ret, submit))
	}
	switch {
	case flags&enterGetEvents != 0:
		p := fmt.Sprintf("IORING_ENTER_GETEVENTS: asked to wait for %d completion%s", minc, plural(int64(minc)))
		for _, k := range caused {
			if k.Name == "io_uring_cqring_wait" {
				p += "; fewer were ready, so it waited (io_uring_cqring_wait)"
				break
			}
		}
		parts = append(parts, p)
	case minc > 0:
		parts = append(parts, fmt.Sprintf("min_complete %d is ignored without IORING_ENTER_GETEVENTS: the call did not wait for completions", minc))
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing to submit and no wait asked")
	}
	s.Notes = append(s.Notes, r.name()+": "+strings.Join(parts, "; "))
}
