package annotate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// Bytes an edge-triggered handler leaves behind. Under EPOLLET a wait reports a descriptor only
// when new data arrived since it last reported it (ep_poll_callback queues the entry on each
// arrival; a report takes it off). A handler that stops reading before EAGAIN can leave bytes
// queued that no later wait reports. The trace cannot see the queue, so the notes say only this:
//
//   - at a blocking wait by the thread whose last read of the descriptor filled its buffer (with
//     no read to EAGAIN, end of file or a short read after it) and that does not report it: the
//     fd was not reported though bytes may be queued — a full buffer does not prove more were;
//   - at the next read of the descriptor after that wait: how many bytes it found. Bytes queued
//     when that wait ended had raised no event (an arrival before then would have been
//     reported), so they were left behind; bytes that arrived after the wait are counted too,
//     which the note says. A read finding nothing shows nothing was left.
//
// A read is judged by the first wait on its epoll instance after it, and only a blocking wait
// by the reading thread can find that the handler stopped: a wait by another thread, or with a
// zero timeout, says nothing of it (Go's runtime polls its netpoller from any idle thread while
// goroutines read on without waiting for an event).

// edgeState follows one edge-triggered registration between the waits on its epoll instance.
type edgeState struct {
	lastRead *event.Syscall // the last read of the file since a wait consumed the previous one
	full     bool           // lastRead filled its buffer: bytes may remain
	stopped  *event.Syscall // a full read after which its thread waited and the fd was not reported
	quiet    *event.Syscall // that wait
}

// edgeTriggered: the registration is EPOLLET for input, and not one-shot (a one-shot entry is
// disabled after its report until EPOLL_CTL_MOD, whatever arrives).
func edgeTriggered(events string) bool {
	return hasFlag(events, "EPOLLET") && hasFlag(events, "EPOLLIN") && !hasFlag(events, "EPOLLONESHOT")
}

func hasFlag(mask, flag string) bool { return slices.Contains(strings.Split(mask, "|"), flag) }

// edgeWait judges, at a wait s that found ready, the edge-triggered entries read since the last
// wait: each read is judged by the first wait after it, so the entries followed stay those the
// program is reading. An entry the wait may have reported (its data, alone or shared) starts over.
func (in *interest) edgeWait(p *proc, s *event.Syscall, ready []readyEvent) {
	for _, ev := range ready {
		for _, r := range in.byData[ev.data] {
			r.edge = edgeState{} // a new edge: the handler is told again
			delete(in.read, r)
		}
	}
	regs := make([]*registration, 0, len(in.read))
	for r := range in.read {
		regs = append(regs, r)
	}
	slices.SortFunc(regs, func(x, y *registration) int { return cmp.Compare(x.fd, y.fd) })
	clear(in.read)
	for _, r := range regs {
		e := &r.edge
		if e.full && e.stopped == nil && e.lastRead.TID == s.TID && blockingWait(s) {
			e.stopped, e.quiet = e.lastRead, s
			s.Notes = append(s.Notes, fmt.Sprintf("%s (EPOLLET) not reported: its last read (seq %d) filled all %d bytes of its buffer and the thread waited without reading on to EAGAIN; edge-triggered, epoll reports it again only when new data arrives, so any bytes still queued stay unread",
				p.fdName(r.fd), e.lastRead.Seq, e.lastRead.Ret))
		}
		e.lastRead, e.full = nil, false
	}
}

// blockingWait: the wait could sleep (a zero timeout only polls). epoll_pwait2's timeout is a
// struct pointer the trace does not read, so it counts as blocking.
func blockingWait(s *event.Syscall) bool {
	if s.Name == "epoll_pwait2" {
		return true
	}
	t, _ := s.Arg("timeout")
	return int32(t) != 0
}

// edgeReads are the calls that read a descriptor's queue and say how much they asked for.
var edgeReads = map[string]bool{"read": true, "recvfrom": true, "readv": true}

// edgeRead follows a read of a descriptor that edge-triggered registrations watch: it may find
// what a stopped handler left behind, and it sets what the next wait judges.
func (a *Annotator) edgeRead(p *proc, s *event.Syscall) {
	if !edgeReads[s.Name] {
		return
	}
	d, ok := p.fds[int64(int32(argOf(s, "fd")))]
	if !ok {
		return
	}
	for _, r := range d.f.regs {
		if !r.edgeTriggered {
			continue
		}
		e := &r.edge
		if e.stopped != nil {
			s.Notes = append(s.Notes, leftBehind(p, r.fd, s, e))
			e.stopped, e.quiet = nil, nil
		}
		e.lastRead, e.full = s, filledBuffer(s)
		r.ep.read[r] = true
	}
}

// leftBehind is the note of the first read after a stopped handler's unreported wait.
func leftBehind(p *proc, fd int64, s *event.Syscall, e *edgeState) string {
	since := fmt.Sprintf("the handler's last read (seq %d) filled its buffer and the wait at seq %d did not report the fd", e.stopped.Seq, e.quiet.Seq)
	switch {
	case s.Ret > 0:
		n := fmt.Sprintf("found %d bytes left behind on %s (EPOLLET): %s; bytes queued then got no new event (any that arrived after that wait are counted here too)",
			s.Ret, p.fdName(fd), since)
		if filledBuffer(s) {
			n += "; this read filled its buffer too, so more may remain"
		}
		return n
	case s.Errno == "EAGAIN":
		return fmt.Sprintf("found nothing on %s (EAGAIN): %s, yet nothing was left behind — that read had taken every queued byte", p.fdName(fd), since)
	case !s.Failed():
		return fmt.Sprintf("found nothing on %s (end of file): %s, yet nothing was left behind", p.fdName(fd), since)
	}
	return fmt.Sprintf("%s on %s: %s; this read cannot tell whether bytes were left", s.Errno, p.fdName(fd), since)
}

// filledBuffer: a successful read returned all it asked for, so more may be queued.
func filledBuffer(s *event.Syscall) bool {
	if s.Failed() || s.Ret <= 0 {
		return false
	}
	switch s.Name {
	case "read":
		return s.Ret == int64(argOf(s, "count"))
	case "recvfrom":
		return s.Ret == int64(argOf(s, "size"))
	case "readv":
		lens, ok := iovLens(s)
		if more, _ := s.Decoded.Int("vec_more"); !ok || more > 0 {
			return false
		}
		var total int64
		for _, n := range lens {
			total += n
		}
		return s.Ret == total
	}
	return false
}
