// Package predict judges the built-in workloads' predictions: what each variant declares it
// expects the kernel to do (workloads.Prediction), checked against the annotated timeline once
// the variant has ended. It reads the same events the renderers get — syscalls with their
// decoded arguments and results, kernel events linked by cause_seq — so a live run, and `show`
// of its recording, judge alike; it never asks the workload what it saw.
//
// Where a variant begins and ends is in the trace itself: the workload names its thread
// "iot:W/V" (prctl PR_SET_NAME) before variant V of workload W and "iot:W" after it. A
// recording made before variants were marked has only "iot:W"; its header's command names the
// one variant it ran (--variant V).
package predict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/workloads"
	"github.com/iotrace/iotrace/workloads/catalog"
)

// MarkerPrefix starts the thread names that mark workloads and variants.
const MarkerPrefix = "iot:"

// Evaluator follows one timeline and judges each variant's predictions when it ends.
type Evaluator struct {
	hdr *event.Header
	cat []*workloads.Workload
	// legacy is the variant the header's command names, for a recording whose variants are
	// not marked; "" when there is none or a variant marker was seen.
	legacy string
	marked bool // a variant marker was seen: the legacy rule is off
	cur    *segment
	stat   event.PredictionStat
	judged bool
}

// New starts judging the timeline whose header is h, against the built-in catalog.
func New(h *event.Header) *Evaluator {
	return NewWith(h, catalog.All())
}

// NewWith judges against the workloads ws (tests give their own).
func NewWith(h *event.Header, ws []*workloads.Workload) *Evaluator {
	return &Evaluator{hdr: h, cat: ws, legacy: headerVariant(h)}
}

// headerVariant is the --variant of a recorded `iotrace __workload NAME --variant V` command,
// when it ran one workload.
func headerVariant(h *event.Header) string {
	if h == nil {
		return ""
	}
	cmd := h.Command
	i := slices.Index(cmd, "__workload")
	if i < 0 {
		return ""
	}
	names := 0
	for j := i + 1; j < len(cmd); j++ {
		if strings.HasPrefix(cmd[j], "-") {
			if cmd[j] == "--variant" && j+1 < len(cmd) && names == 1 {
				return cmd[j+1]
			}
			j++ // the flag's value
			continue
		}
		names++
	}
	return ""
}

// segment is one variant's part of the timeline.
type segment struct {
	w      *workloads.Workload
	v      *workloads.Variant
	start  event.Common
	events []event.Event
	// guessed: opened at a workload marker from the header's --variant, for a recording
	// whose variants are not marked; it runs to the timeline's end.
	guessed bool
	// cut: the variant's end is not in the trace (the run was cut short, or the end marker
	// lost): what it shows may be only part of the variant.
	cut bool
}

// Event takes the timeline's next event and returns the predictions of a variant that ended
// with it (to be placed after it).
func (e *Evaluator) Event(ev event.Event) []*event.Prediction {
	if _, ok := ev.(*event.Prediction); ok {
		return nil // judged again, here
	}
	name, ok := markerName(ev)
	if !ok {
		if e.cur != nil {
			e.cur.events = append(e.cur.events, ev)
		}
		return nil
	}
	wname, vname, isVariant := strings.Cut(name, "/")
	var out []*event.Prediction
	switch {
	case isVariant:
		// a new variant begins. A guess from the header ends unjudged: the recording marks its
		// variants after all. A variant whose end was not traced ends here.
		if e.cur != nil && e.cur.guessed {
			e.cur = nil
		}
		if e.cur != nil {
			e.cur.cut = true
		}
		out = e.end(ev)
		e.marked = true
		e.cur = e.open(wname, vname, ev)
	case e.cur != nil && !e.cur.guessed && e.cur.w.Name == wname:
		out = e.end(ev) // the variant's end
	case !e.marked && e.legacy != "":
		out = e.end(ev)
		if e.cur = e.open(wname, e.legacy, ev); e.cur != nil {
			e.cur.guessed = true
		}
	}
	return out
}

// open starts the segment of variant vname of workload wname, or returns nil for one the
// catalog does not know (a recording of another version).
func (e *Evaluator) open(wname, vname string, at event.Event) *segment {
	for _, w := range e.cat {
		if w.Name != wname {
			continue
		}
		v, err := w.Lookup(vname)
		if err != nil {
			return nil
		}
		return &segment{w: w, v: v, start: *at.Base()}
	}
	return nil
}

// end judges the open segment, if any, at the event that ended it (nil: the timeline's end).
func (e *Evaluator) end(at event.Event) []*event.Prediction {
	s := e.cur
	e.cur = nil
	if s == nil || len(s.v.Predictions) == 0 {
		return nil
	}
	where := s.start
	if len(s.events) > 0 {
		where = *s.events[len(s.events)-1].Base()
	}
	if at != nil {
		where = *at.Base()
	}
	where.Seq = 0
	ev := newEvidence(e.hdr, s)
	var out []*event.Prediction
	for _, p := range s.v.Predictions {
		r := judge(ev, p)
		out = append(out, &event.Prediction{
			Common: where, Workload: s.w.Name, Variant: s.v.Name, ID: p.ID, Says: p.Says,
			Verdict: r.verdict, Measured: r.measured, EvidenceSeq: r.seqs,
		})
		e.count(r.verdict)
	}
	return out
}

func (e *Evaluator) count(verdict string) {
	e.judged = true
	switch verdict {
	case event.VerdictHeld:
		e.stat.Held++
	case event.VerdictFailed:
		e.stat.Failed++
	default:
		e.stat.Unmeasurable++
	}
}

// Finish judges the variant still open at the timeline's end (a run cut short, or a recording
// whose variants are not marked).
func (e *Evaluator) Finish() []*event.Prediction {
	if e.cur != nil && !e.cur.guessed {
		e.cur.cut = true
	}
	return e.end(nil)
}

// Stat counts the verdicts so far; nil when nothing was judged.
func (e *Evaluator) Stat() *event.PredictionStat {
	if !e.judged {
		return nil
	}
	s := e.stat
	return &s
}

// markerName returns the name in a workload's marker: prctl(PR_SET_NAME, "iot:…").
func markerName(ev event.Event) (string, bool) {
	s, ok := ev.(*event.Syscall)
	if !ok || s.Name != "prctl" || s.Failed() {
		return "", false
	}
	if opt, _ := s.Decoded.Str("option"); opt != "PR_SET_NAME" {
		return "", false
	}
	name, ok := s.Decoded.Str("arg2")
	if !ok || !strings.HasPrefix(name, MarkerPrefix) {
		return "", false
	}
	return strings.TrimPrefix(name, MarkerPrefix), true
}

// result is one check's verdict.
type result struct {
	verdict  string
	measured string
	seqs     []uint64
}

func held(seqs []uint64, format string, args ...any) result {
	return result{event.VerdictHeld, fmt.Sprintf(format, args...), seqs}
}

func failed(seqs []uint64, format string, args ...any) result {
	return result{event.VerdictFailed, fmt.Sprintf(format, args...), seqs}
}

func unmeasurable(format string, args ...any) result {
	return result{verdict: event.VerdictUnmeasurable, measured: fmt.Sprintf(format, args...)}
}

// verdict is held when ok, else failed, with the same measured figure.
func verdict(ok bool, seqs []uint64, format string, args ...any) result {
	if ok {
		return held(seqs, format, args...)
	}
	return failed(seqs, format, args...)
}

// judge runs p's check. A check the evaluator does not know is a finding too: it is reported
// as not measurable, never dropped.
func judge(ev *evidence, p workloads.Prediction) result {
	c, ok := checks[p.Check]
	if !ok {
		return unmeasurable("this iotrace has no check %q", p.Check)
	}
	for _, name := range c.needs {
		if why := ev.missing(name); why != "" {
			return unmeasurable("%s", why)
		}
	}
	r := c.fn(ev, p)
	if ev.cut && (r.verdict != event.VerdictHeld || c.absence) {
		return unmeasurable("%s; but the variant's end is not in the trace (cut short?), so it cannot tell", r.measured)
	}
	if r.verdict != event.VerdictHeld && ev.lost > 0 {
		// what is missing may be in the lost events
		return unmeasurable("%s; but %d events were lost in this variant, so the trace cannot tell", r.measured, ev.lost)
	}
	if r.verdict == event.VerdictHeld && c.absence && ev.lost > 0 {
		return unmeasurable("%s; but %d events were lost in this variant, which may have held what was not seen", r.measured, ev.lost)
	}
	return r
}

// check is one measurement. needs are the kernel events it rests on: when the kernel lacks one,
// the prediction is not measurable here. absence: it holds when something is not seen, which
// lost events could hide.
type check struct {
	needs   []string
	absence bool
	fn      func(*evidence, workloads.Prediction) result
}

// Checks lists the names of the checks the evaluator knows, for tests of the catalog.
func Checks() []string {
	var names []string
	for n := range checks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
