package annotate

import (
	"fmt"

	"github.com/iotrace/iotrace/internal/event"
)

// A kernel-event loss is a gap in time (a CPU's records between two it kept): a call that ran
// across it may have caused events the trace never received, so what its notes count (pages,
// requests, time blocked) is a lower bound. The call's CPU is not known, so any CPU's gap counts.
type lossWindow struct{ from, to uint64 }

// maxLossWindows bounds the gaps remembered; the oldest go first (calls are annotated soon
// after they end).
const maxLossWindows = 256

func (a *Annotator) noteLoss(l *event.Lost) {
	if l.KernelEvents == 0 || l.ViewOnly {
		return
	}
	w := lossWindow{l.TS, max(l.TS, l.EndNS)}
	if len(a.losses) >= maxLossWindows {
		a.losses = a.losses[1:]
	}
	a.losses = append(a.losses, w)
	for _, p := range a.procs {
		for _, m := range p.maps {
			m.lossy = true
		}
	}
}

// lossNote says so when s ran across a kernel-event loss and has notes drawn from kernel events.
func (a *Annotator) lossNote(s *event.Syscall, caused []*event.Kernel) {
	if len(caused) == 0 || len(s.Notes) == 0 || s.KernelEventsLost > 0 {
		return // (the pipeline says so with the call's own count)
	}
	end := s.TS + s.Dur
	for _, w := range a.losses {
		if w.from <= end && w.to >= s.TS {
			s.Notes = append(s.Notes, fmt.Sprintf("kernel events were lost while this call ran (a gap of %s): the counts in these notes are lower bounds", durText(int64(w.to-w.from))))
			return
		}
	}
}
