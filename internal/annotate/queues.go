package annotate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// interest is an epoll instance's interest list: descriptor -> event mask, as epoll_ctl set it.
// It belongs to the open file description, so dup'd and inherited epoll descriptors share it.
type interest map[int64]string

// aioContext is a native AIO context: its size and the requests submitted and not yet reaped.
type aioContext struct {
	nr       int64
	inflight int64
}

// epollCtl applies an interest list change and states the list after it.
func (a *Annotator) epollCtl(p *proc, s *event.Syscall) {
	ep, ok := p.fds[int64(int32(argOf(s, "epfd")))]
	if !ok {
		return
	}
	if ep.f.interest == nil {
		ep.f.interest = interest{}
	}
	fdv := int64(int32(argOf(s, "fd")))
	op, _ := s.Decoded.Str("op")
	switch op {
	case "EPOLL_CTL_ADD", "EPOLL_CTL_MOD":
		events := ""
		if ev, ok := s.Decoded.Get("event"); ok {
			if f, ok := ev.(event.Fields); ok {
				events, _ = f.Str("events")
			}
		}
		ep.f.interest[fdv] = events
	case "EPOLL_CTL_DEL":
		delete(ep.f.interest, fdv)
	}
	s.Notes = append(s.Notes, fmt.Sprintf("interest list of epoll #%d: %s", ep.f.id, ep.f.interest.text(p)))
}

func (in interest) text(p *proc) string {
	if len(in) == 0 {
		return "empty"
	}
	fds := make([]int64, 0, len(in))
	for fd := range in {
		fds = append(fds, fd)
	}
	sort.Slice(fds, func(i, j int) bool { return fds[i] < fds[j] })
	var parts []string
	for i, fd := range fds {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(fds)-4))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s", p.fdName(fd), in[fd]))
	}
	return fmt.Sprintf("%d fd%s: %s", len(fds), plural(int64(len(fds))), strings.Join(parts, ", "))
}

// fdName is "5<socket:127.0.0.1:80>", or the number alone when the model does not know it.
func (p *proc) fdName(fd int64) string {
	if d, ok := p.fds[fd]; ok {
		return strconv.FormatInt(fd, 10) + "<" + d.f.path + ">"
	}
	return strconv.FormatInt(fd, 10)
}

// epollReady names what a wait found ready, out of how many watched. Programs usually put the
// descriptor in epoll_event.data; the note names it only when it is in the interest list.
func (a *Annotator) epollReady(p *proc, s *event.Syscall) {
	ep, ok := p.fds[int64(int32(argOf(s, "epfd")))]
	if !ok || ep.f.interest == nil || s.Ret <= 0 {
		return
	}
	list, _ := s.Decoded.Get("events")
	ready, _ := list.([]any)
	var parts []string
	for _, r := range ready {
		f, _ := r.(event.Fields)
		data, _ := f.Int("data")
		events, _ := f.Str("events")
		if _, watched := ep.f.interest[data]; watched {
			parts = append(parts, p.fdName(data)+" "+events)
		}
	}
	if len(parts) > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("ready: %s (%d of %d watched)", strings.Join(parts, ", "), s.Ret, len(ep.f.interest)))
	}
}

// aio tracks native AIO contexts: how many requests are in flight after each call.
func (a *Annotator) aio(p *proc, s *event.Syscall) {
	switch s.Name {
	case "io_setup":
		if id, ok := s.Decoded.Str("ctxp"); ok {
			nr, _ := s.Arg("nr_events")
			p.aio[id] = &aioContext{nr: int64(nr)}
		}
	case "io_destroy":
		delete(p.aio, hexID(argOf(s, "ctx")))
	case "io_submit", "io_getevents", "io_pgetevents":
		c, ok := p.aio[hexID(argOf(s, "ctx_id"))]
		if !ok || s.Ret < 0 {
			return
		}
		if s.Name == "io_submit" {
			c.inflight += s.Ret
		} else {
			c.inflight = max(c.inflight-s.Ret, 0)
		}
		s.Notes = append(s.Notes, fmt.Sprintf("AIO context %s: %d requests submitted and not reaped yet (room for %d)", hexID(argOf(s, "ctx_id")), c.inflight, c.nr))
	}
}

func argOf(s *event.Syscall, name string) uint64 {
	v, _ := s.Arg(name)
	return v
}

func hexID(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// ring is an io_uring instance, as io_uring_setup sized it.
type ring struct {
	sq, cq int64
	sqpoll bool
}

// uringSetup records the ring behind the new descriptor.
func (a *Annotator) uringSetup(p *proc, s *event.Syscall) {
	d, ok := p.fds[s.Ret]
	if !ok {
		return
	}
	params, _ := s.Decoded.Get("params")
	f, _ := params.(event.Fields)
	sq, _ := f.Int("sq_entries")
	cq, _ := f.Int("cq_entries")
	flags, _ := f.Str("flags")
	d.f.ring = &ring{sq: sq, cq: cq, sqpoll: strings.Contains(flags, "IORING_SETUP_SQPOLL")}
	s.Notes = append(s.Notes, "io_uring #"+strconv.Itoa(d.f.id)+": "+d.f.ring.text())
}

func (r *ring) text() string {
	t := fmt.Sprintf("%d SQ and %d CQ entries", r.sq, r.cq)
	if r.sqpoll {
		t += "; a kernel thread polls the SQ, so submissions need no syscall"
	}
	return t
}

// uringEnter says which ring a call drove and what it asked of it.
func (a *Annotator) uringEnter(p *proc, s *event.Syscall) {
	d, ok := p.fds[int64(int32(argOf(s, "fd")))]
	if !ok || d.f.ring == nil || s.Failed() {
		return
	}
	submit, wait := argOf(s, "to_submit"), argOf(s, "min_complete")
	s.Notes = append(s.Notes, fmt.Sprintf("io_uring #%d: %d submitted of %d asked, waited for %d completions",
		d.f.id, s.Ret, submit, wait))
}
