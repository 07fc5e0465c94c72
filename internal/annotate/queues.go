package annotate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// interest is an epoll instance's interest list, as epoll_ctl set it. It belongs to the open
// file description, so dup'd and inherited epoll descriptors share it. A wait reports each
// entry's data, not its descriptor — programs store the fd there, or a pointer (Go's netpoller,
// nginx), or any number — so entries are indexed by data too, to map a ready event back.
type interest struct {
	byFD   map[int64]*registration
	byData map[uint64][]*registration
	// read are the edge-triggered entries read since the last wait on this instance.
	read map[*registration]bool
}

// registration is one interest list entry: the descriptor, the mask and the data epoll_ctl
// gave it, and the open file it watches.
type registration struct {
	ep      *interest
	fd      int64
	events  string
	data    uint64
	hasData bool  // the event struct was captured
	f       *file // nil when the model did not know the descriptor
	// edgeTriggered: EPOLLET for input, followed for the bytes a handler leaves behind
	edgeTriggered bool
	edge          edgeState
}

func newInterest() *interest {
	return &interest{byFD: map[int64]*registration{}, byData: map[uint64][]*registration{}, read: map[*registration]bool{}}
}

// set adds r, replacing the entry its descriptor had.
func (in *interest) set(r *registration) {
	in.remove(r.fd)
	in.byFD[r.fd] = r
	if r.hasData {
		in.byData[r.data] = append(in.byData[r.data], r)
	}
	if r.f != nil {
		r.f.regs = append(r.f.regs, r)
	}
}

// remove drops the entry of fd, if any.
func (in *interest) remove(fd int64) {
	r, ok := in.byFD[fd]
	if !ok {
		return
	}
	delete(in.byFD, fd)
	delete(in.read, r)
	if r.hasData {
		in.byData[r.data] = slices.DeleteFunc(in.byData[r.data], func(x *registration) bool { return x == r })
		if len(in.byData[r.data]) == 0 {
			delete(in.byData, r.data)
		}
	}
	if r.f != nil {
		r.f.regs = slices.DeleteFunc(r.f.regs, func(x *registration) bool { return x == r })
	}
}

// owners are the descriptors registered with data, in order.
func (in *interest) owners(data uint64) []int64 {
	var fds []int64
	for _, r := range in.byData[data] {
		fds = append(fds, r.fd)
	}
	slices.Sort(fds)
	return fds
}

// epollCtl applies an interest list change and states the list after it.
func (a *Annotator) epollCtl(p *proc, s *event.Syscall) {
	ep, ok := p.fds[int64(int32(argOf(s, "epfd")))]
	if !ok {
		return
	}
	if ep.f.interest == nil {
		ep.f.interest = newInterest()
	}
	in := ep.f.interest
	fdv := int64(int32(argOf(s, "fd")))
	op, _ := s.Decoded.Str("op")
	switch op {
	case "EPOLL_CTL_ADD", "EPOLL_CTL_MOD":
		r := &registration{ep: in, fd: fdv}
		if ev, ok := s.Decoded.Get("event"); ok {
			if f, ok := ev.(event.Fields); ok {
				r.events, _ = f.Str("events")
				var data int64
				data, r.hasData = f.Int("data")
				r.data = uint64(data)
			}
		}
		r.edgeTriggered = edgeTriggered(r.events)
		if d, ok := p.fds[fdv]; ok {
			r.f = d.f
		}
		in.set(r)
	case "EPOLL_CTL_DEL":
		in.remove(fdv)
	}
	s.Notes = append(s.Notes, fmt.Sprintf("interest list of epoll #%d: %s", ep.f.id, in.text(p)))
}

func (in *interest) text(p *proc) string {
	if len(in.byFD) == 0 {
		return "empty"
	}
	fds := make([]int64, 0, len(in.byFD))
	for fd := range in.byFD {
		fds = append(fds, fd)
	}
	slices.Sort(fds)
	var parts []string
	for i, fd := range fds {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(fds)-4))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s", p.fdName(fd), in.byFD[fd].events))
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

// epollReady names what a wait found ready, out of how many watched. Each ready event carries
// the data of its registration; it is named as a descriptor only through a registration the
// trace saw with that data, and otherwise by its data value.
func (a *Annotator) epollReady(p *proc, s *event.Syscall) {
	ep, ok := p.fds[int64(int32(argOf(s, "epfd")))]
	if !ok || ep.f.interest == nil {
		return
	}
	in := ep.f.interest
	ready := readyList(s)
	in.edgeWait(p, s, ready)
	if s.Ret <= 0 {
		return
	}
	var parts []string
	for _, r := range ready {
		parts = append(parts, in.name(p, r))
	}
	if len(parts) > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("ready: %s (%d of %d watched)", strings.Join(parts, ", "), s.Ret, len(in.byFD)))
	}
}

// readyEvent is one entry of a wait's ready list.
type readyEvent struct {
	data   uint64
	events string
}

func readyList(s *event.Syscall) []readyEvent {
	list, _ := s.Decoded.Get("events")
	evs, _ := list.([]any)
	out := make([]readyEvent, 0, len(evs))
	for _, e := range evs {
		f, _ := e.(event.Fields)
		data, ok := f.Int("data")
		if !ok {
			continue
		}
		events, _ := f.Str("events")
		out = append(out, readyEvent{data: uint64(data), events: events})
	}
	return out
}

// name says which descriptor a ready event is: "5<pipe> EPOLLIN" when the data is the fd of the
// one registration holding it, with "(data=…)" added when the data is something else; the data
// value alone when no registration the trace saw holds it, or several do.
func (in *interest) name(p *proc, r readyEvent) string {
	switch fds := in.owners(r.data); len(fds) {
	case 1:
		n := p.fdName(fds[0]) + " " + r.events
		if uint64(fds[0]) != r.data {
			n += fmt.Sprintf(" (data=%d)", r.data)
		}
		return n
	case 0:
		return fmt.Sprintf("data=%d %s (no registration the trace saw holds this data)", r.data, r.events)
	case 2, 3, 4:
		return fmt.Sprintf("data=%d %s (registered for %s: the trace cannot tell which)", r.data, r.events, fdList(fds))
	default:
		return fmt.Sprintf("data=%d %s (registered for %d fds: the trace cannot tell which)", r.data, r.events, len(fds))
	}
}

// released drops the registrations of a file no descriptor in the traced tree refers to any
// more: the kernel removes an entry when its file is released (not when one of several
// descriptors for it is closed), and a later registration may reuse the data value.
func (a *Annotator) released(f *file) {
	if len(f.regs) == 0 {
		return
	}
	for _, p := range a.procs {
		for _, d := range p.fds {
			if d.f == f {
				return
			}
		}
	}
	for _, r := range slices.Clone(f.regs) {
		r.ep.remove(r.fd)
	}
}

func argOf(s *event.Syscall, name string) uint64 {
	v, _ := s.Arg(name)
	return v
}

func hexID(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
