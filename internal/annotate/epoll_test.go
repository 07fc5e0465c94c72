package annotate

import (
	"slices"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

// epCtl is an epoll_ctl on epoll fd 7 of process 1.
func epCtl(op string, fd int, events string, data uint64) *event.Syscall {
	nr := map[string]int{"EPOLL_CTL_ADD": 1, "EPOLL_CTL_DEL": 2, "EPOLL_CTL_MOD": 3}[op]
	s := call(1, "epoll_ctl", 0, "epfd", 7, "op", nr, "fd", fd, "event", 0)
	s.Decoded = event.Fields{{Key: "op", Val: op}, {Key: "event", Val: event.Fields{{Key: "events", Val: events}, {Key: "data", Val: data}}}}
	return s
}

// epWait is a wait on epoll fd 7 by tid with timeout, returning one ready event per data value.
func epWait(tid uint32, timeout int, data ...uint64) *event.Syscall {
	s := call(1, "epoll_wait", int64(len(data)), "epfd", 7, "events", 0, "maxevents", 8, "timeout", timeout)
	s.TID = tid
	var evs []any
	for _, d := range data {
		evs = append(evs, event.Fields{{Key: "events", Val: "EPOLLIN"}, {Key: "data", Val: d}})
	}
	s.Decoded = event.Fields{{Key: "events", Val: evs}}
	return s
}

func readCall(tid uint32, fd int, count int, ret int64) *event.Syscall {
	s := call(1, "read", ret, "fd", fd, "buf", 0, "count", count)
	s.TID = tid
	return s
}

// epollSetup is process 1 with epoll fd 7 and pipes whose read ends are fds 3, 5, 6, 8, 9.
func epollSetup() *Annotator {
	a := New("amd64")
	a.Annotate(call(1, "epoll_create1", 7, "flags", 0))
	for _, fd := range []int64{3, 5, 6, 8, 9} {
		p := call(1, "pipe2", 0, "fildes", 0, "flags", 0)
		p.Decoded = event.Fields{{Key: "fildes", Val: []any{fd, fd + 100}}}
		a.Annotate(p)
	}
	return a
}

// TestEpollReadyData: a ready event names the descriptor whose registration holds its data —
// a pointer, or another descriptor's number — and, when no registration or several hold it,
// says the data value and names no descriptor.
func TestEpollReadyData(t *testing.T) {
	const ptr = 0xc000012345
	a := epollSetup()
	for _, c := range []*event.Syscall{
		epCtl("EPOLL_CTL_ADD", 3, "EPOLLIN", ptr), // a pointer, as Go's netpoller and nginx store
		epCtl("EPOLL_CTL_ADD", 5, "EPOLLIN", 3),   // another number: fd 3's
		epCtl("EPOLL_CTL_ADD", 6, "EPOLLIN", 6),   // the fd itself
		epCtl("EPOLL_CTL_ADD", 8, "EPOLLIN", 777), // the same data twice
		epCtl("EPOLL_CTL_ADD", 9, "EPOLLIN", 777),
	} {
		a.Annotate(c)
	}
	steps := []struct {
		e    *event.Syscall
		want string
	}{
		{epWait(1, -1, 3, 6, 777, 42), "ready: 5<pipe> EPOLLIN (data=3), 6<pipe> EPOLLIN, " +
			"data=777 EPOLLIN (registered for fds 8, 9: the trace cannot tell which), " +
			"data=42 EPOLLIN (no registration the trace saw holds this data) (4 of 5 watched)"},
		{epWait(1, -1, ptr), "ready: 3<pipe> EPOLLIN (data=824633795397) (1 of 5 watched)"},
		// MOD changes the data: fd 5 now holds 55, and 3 belongs to nobody
		{epCtl("EPOLL_CTL_MOD", 5, "EPOLLIN", 55), "interest list of epoll #1: 5 fds: 3<pipe> EPOLLIN, 5<pipe> EPOLLIN, 6<pipe> EPOLLIN, 8<pipe> EPOLLIN, and 1 more"},
		{epWait(1, -1, 55, 3), "ready: 5<pipe> EPOLLIN (data=55), data=3 EPOLLIN (no registration the trace saw holds this data) (2 of 5 watched)"},
		// closing fd 8's pipe (the model gives a pipe's two ends one file) drops its
		// registration: 777 is fd 9's alone
		{closeFD(1, 8), ""},
		{closeFD(1, 108), ""},
		{epWait(1, -1, 777), "ready: 9<pipe> EPOLLIN (data=777) (1 of 4 watched)"},
		// DEL removes fd 6 and its data
		{epCtl("EPOLL_CTL_DEL", 6, "", 0), "interest list of epoll #1: 3 fds: 3<pipe> EPOLLIN, 5<pipe> EPOLLIN, 9<pipe> EPOLLIN"},
		{epWait(1, -1, 6), "ready: data=6 EPOLLIN (no registration the trace saw holds this data) (1 of 3 watched)"},
	}
	for i, st := range steps {
		a.Annotate(st.e)
		if st.want == "" {
			continue
		}
		if !slices.Contains(st.e.Notes, st.want) {
			t.Errorf("step %d %s: notes %q, want %q", i, st.e.Name, st.e.Notes, st.want)
		}
	}
}

// TestEpollReadyDup: a registration stays while another descriptor for its file is open (the
// kernel keys it by file and drops it only when the file is released).
func TestEpollReadyDup(t *testing.T) {
	a := epollSetup()
	a.Annotate(epCtl("EPOLL_CTL_ADD", 3, "EPOLLIN", 3))
	a.Annotate(call(1, "dup", 20, "fildes", 3))
	a.Annotate(closeFD(1, 3))
	w := epWait(1, -1, 3)
	a.Annotate(w)
	if want := "ready: 3 EPOLLIN (1 of 1 watched)"; !slices.Contains(w.Notes, want) {
		t.Errorf("notes %q, want %q", w.Notes, want)
	}
}

// TestEdgeStranded: an edge-triggered handler whose last read filled its buffer and that waits
// again gets a note at that wait; the next read says what it found. Draining to EAGAIN, a short
// read, a level-triggered registration, a wait by another thread or a zero timeout, or a new
// report of the fd make no such note.
func TestEdgeStranded(t *testing.T) {
	const stopped = "(EPOLLET) not reported: its last read"
	tests := []struct {
		name      string
		mask      string
		steps     []*event.Syscall
		waitNote  bool   // the last wait gets the stopped note
		readNote  string // prefix of the last read's note, "" for none
		otherNote bool
	}{
		{"stopped at a full read, then bytes found", "EPOLLIN|EPOLLET", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 16), epWait(1, 50), readCall(1, 3, 4096, 80)},
			true, "found 80 bytes left behind on 3<pipe> (EPOLLET)", false},
		{"stopped at a full read, nothing left", "EPOLLIN|EPOLLET", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 16), epWait(1, 50), failed(readCall(1, 3, 4096, 0), "EAGAIN")},
			true, "found nothing on 3<pipe> (EAGAIN)", false},
		{"drained to EAGAIN", "EPOLLIN|EPOLLET", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 16), failed(readCall(1, 3, 16, 0), "EAGAIN"), epWait(1, 50), readCall(1, 3, 16, 5)},
			false, "", false},
		{"short read", "EPOLLIN|EPOLLET", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 10), epWait(1, 50), readCall(1, 3, 16, 5)},
			false, "", false},
		{"level-triggered", "EPOLLIN", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 16), epWait(1, 50), readCall(1, 3, 16, 16)},
			false, "", false},
		{"one-shot", "EPOLLIN|EPOLLET|EPOLLONESHOT", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 16), epWait(1, 50), readCall(1, 3, 16, 16)},
			false, "", false},
		{"another thread's wait", "EPOLLIN|EPOLLET", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 16), epWait(2, 50), readCall(1, 3, 16, 16)},
			false, "", false},
		{"a zero timeout only polls", "EPOLLIN|EPOLLET", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 16), epWait(1, 0), readCall(1, 3, 16, 16)},
			false, "", false},
		{"reported again: a new edge", "EPOLLIN|EPOLLET", []*event.Syscall{
			epWait(1, 1000, 3), readCall(1, 3, 16, 16), epWait(1, 50, 3), readCall(1, 3, 16, 16)},
			false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := epollSetup()
			a.Annotate(epCtl("EPOLL_CTL_ADD", 3, tt.mask, 3))
			var lastWait, lastRead *event.Syscall
			for _, s := range tt.steps {
				a.Annotate(s)
				if s.Name == "read" {
					lastRead = s
				} else {
					lastWait = s
				}
			}
			got := slices.ContainsFunc(lastWait.Notes, func(n string) bool { return strings.HasPrefix(n, "3<pipe> "+stopped) })
			if got != tt.waitNote {
				t.Errorf("last wait notes %q: stopped note %v, want %v", lastWait.Notes, got, tt.waitNote)
			}
			if tt.readNote == "" && len(lastRead.Notes) > 0 {
				t.Errorf("last read notes %q, want none", lastRead.Notes)
			}
			if tt.readNote != "" && !slices.ContainsFunc(lastRead.Notes, func(n string) bool { return strings.HasPrefix(n, tt.readNote) }) {
				t.Errorf("last read notes %q, want one starting %q", lastRead.Notes, tt.readNote)
			}
		})
	}
}
