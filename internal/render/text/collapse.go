package text

import (
	"fmt"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// callRun is a run of consecutive calls of one syscall by one thread; the first calls show
// what each does (notes and kernel work included), the rest are counted.
type callRun struct {
	tid     uint32
	pattern []string // the names that repeat: one (read, read…) or two (read, write, read…)
	n       int      // calls in the run
	hidden  int      // of which not printed
	dur     uint64   // total time of the hidden calls
	lastSeq uint64   // the last call, whose kernel events are hidden with it
	lastTS  uint64
}

// collapse reports whether e is folded into the current run (and so not printed). Anything
// that is not the next call of the run ends it, printing the "… N more" line first.
func (r *Renderer) collapse(e event.Event) bool {
	if r.opts.Collapse <= 0 {
		return false
	}
	switch x := e.(type) {
	case *event.Syscall:
		if r.extends(x) {
			r.run.n++
			r.run.lastSeq, r.run.lastTS = x.Seq, x.TS
			if r.run.n > r.opts.Collapse*len(r.run.pattern) {
				r.run.hidden++
				r.run.dur += x.Dur
				return true
			}
			return false
		}
		r.endRun()
		r.run = callRun{tid: x.TID, pattern: []string{x.Name}, n: 1, lastSeq: x.Seq, lastTS: x.TS}
		return false
	case *event.Kernel:
		if x.CauseSeq != 0 && x.CauseSeq == r.run.lastSeq {
			// the kernel work of a call in the run stays with it: folded if the call was
			return r.run.hidden > 0
		}
	}
	r.endRun()
	return false
}

// extends reports whether x continues the run: the same thread, and the next name of the
// pattern; a second name right after the first makes the run a pair pattern.
func (r *Renderer) extends(x *event.Syscall) bool {
	p := r.run.pattern
	if x.TID != r.run.tid || len(p) == 0 {
		return false
	}
	if len(p) == 1 && r.run.n == 1 && x.Name != p[0] {
		r.run.pattern = append(p, x.Name)
		return true
	}
	return x.Name == r.run.pattern[r.run.n%len(r.run.pattern)]
}

// endRun prints the pending "… N more" line and forgets the run.
func (r *Renderer) endRun() {
	if err := r.flushRun(); err != nil {
		r.err = err
	}
	r.run = callRun{}
}

func (r *Renderer) flushRun() error {
	if r.run.hidden == 0 {
		return nil
	}
	if err := r.flushBurst(); err != nil {
		return err
	}
	b, _ := r.prefix(r.buf[:0], r.run.lastTS, r.run.tid)
	line := fmt.Sprintf("… %d more %s calls like the ones above, with their kernel work (%s in all) …",
		r.run.hidden, strings.Join(r.run.pattern, "/"), secs(r.run.dur))
	b = r.paint(b, ansiDim, line)
	b = append(b, '\n')
	r.buf = b
	r.run.hidden = 0
	if _, err := r.w.Write(b); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

func secs(ns uint64) string {
	return fmt.Sprintf("%d.%06d s", ns/1e9, ns%1e9/1e3)
}
