package render

import "github.com/iotrace/iotrace/internal/event"

// Status says which calls a view shows by their outcome, as strace's -z, -Z and -e status= do.
type Status int

const (
	StatusAll        Status = iota
	StatusSuccessful        // returned without an error (-z, status=successful)
	StatusFailed            // returned an error (-Z, status=failed)
)

// StatusFilter passes on only the calls of one outcome, and the kernel events they caused;
// everything else (kernel events of no call, process lines, the summary) goes through. It
// filters a view: the recording is never filtered.
type StatusFilter struct {
	next Renderer
	keep Status
	// failed holds the seqs of the failed calls seen: the kernel events a call caused follow
	// it, and failed calls are the fewer, so the set stays small either way.
	failed map[uint64]bool
}

// NewStatusFilter returns next when keep is StatusAll.
func NewStatusFilter(next Renderer, keep Status) Renderer {
	if keep == StatusAll {
		return next
	}
	return &StatusFilter{next: next, keep: keep, failed: map[uint64]bool{}}
}

func (f *StatusFilter) Header(h *event.Header) error { return f.next.Header(h) }

func (f *StatusFilter) Event(e event.Event) error {
	switch e := e.(type) {
	case *event.Syscall:
		if e.Failed() {
			f.failed[e.Seq] = true
		}
		pass := e.Failed() // a call that never returned (exit_group) is neither
		if f.keep == StatusSuccessful {
			pass = !e.Failed() && !e.Unfinished
		}
		if !pass {
			return nil
		}
	case *event.Kernel:
		if e.CauseSeq != 0 && (f.keep == StatusFailed) != f.failed[e.CauseSeq] {
			return nil
		}
	}
	return f.next.Event(e)
}

func (f *StatusFilter) Close(s *event.Summary) error { return f.next.Close(s) }
