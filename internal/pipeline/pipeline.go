// Package pipeline turns the BPF side's raw records into the annotated timeline: decode, then
// annotate (the kernel-state model, attribution, notes), then hide what -e did not ask to see,
// and account for every loss. It is the one path from records to events: a live trace feeds it
// from the ring as the recorder saves it, and a raw recording feeds it from the file — the same
// records, so the same timeline.
package pipeline

import (
	"fmt"

	"github.com/iotrace/iotrace/internal/annotate"
	"github.com/iotrace/iotrace/internal/decode"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/probe"
	"github.com/iotrace/iotrace/internal/rawrec"
	"github.com/iotrace/iotrace/internal/render/summary"
	"github.com/iotrace/iotrace/internal/ring"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Pipeline is one timeline being built. Out receives its events in order.
type Pipeline struct {
	hdr     *rawrec.Header
	dec     *decode.Decoder
	ann     *annotate.Annotator
	filter  *syscalls.Filter // what the user asked to see; the model sees more
	hidden  hiddenCalls      // the calls -e hid, whose kernel work is hidden with them
	counter summary.Counter
	out     func(event.Event) error
	buf     []event.Event
	seen    func(rec []byte) error // Ring's per-record function, made once

	counters *rawrec.Counters // the latest loss counters
	placed   placedLoss       // losses the records themselves placed
	lastTS   uint64           // of the latest record, for losses the counters show
}

// placedLoss sums what gaps in the records accounted for, so the counters' remainder can be
// told apart.
type placedLoss struct {
	calls, kernel     uint64
	process, missed   uint64 // shown from the counters as they grew
	processK, missedK uint64
}

// New starts a timeline for the recording whose header is h.
func New(h *rawrec.Header, out func(event.Event) error) (*Pipeline, error) {
	table, err := syscalls.ForArch(h.GoArch)
	if err != nil {
		return nil, fmt.Errorf("the recording's syscalls: %w", err)
	}
	filter, err := syscalls.ParseFilter(table, h.Filter)
	if err != nil {
		return nil, fmt.Errorf("the recording's -e: %w", err)
	}
	p := &Pipeline{hdr: h, dec: decode.New(table), ann: annotate.New(table.Arch()), filter: filter, out: out}
	formats := make(map[uint16]decode.KernelFormat, len(h.Kernel))
	for id, k := range h.Kernel {
		formats[id] = decode.KernelFormat{Name: k.Name, Fields: k.Fields}
	}
	p.dec.SetKernelFormats(formats)
	for tid, comm := range h.Comms {
		p.dec.SetComm(tid, comm)
	}
	for _, s := range h.Seeds {
		p.ann.Seed(s)
	}
	p.ann.InferReadahead = h.InferReadahead
	if h.Timeline != nil {
		p.ann.SetKernel(h.Timeline.Kernel) // rss counts are batched before 6.2
	}
	p.counter.Start(h.Timeline.StartNS)
	p.seen = p.record
	return p, nil
}

// Header is the timeline's header line.
func (p *Pipeline) Header() *event.Header { return p.hdr.Timeline }

// Frame takes one frame of a raw recording (the header frame is New's).
func (p *Pipeline) Frame(f rawrec.Frame) error {
	switch f.Type {
	case rawrec.FrameRing:
		return p.Ring(f.Payload)
	case rawrec.FrameCounters:
		c, err := rawrec.ParseCounters(f.Payload)
		if err != nil {
			return err
		}
		return p.Counters(c)
	}
	return nil
}

// Ring takes ring bytes: whole records behind their ring headers.
func (p *Pipeline) Ring(span []byte) error {
	return ring.Records(span, p.seen)
}

func (p *Pipeline) record(rec []byte) error {
	out, err := p.dec.Append(p.buf[:0], rec)
	if err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	p.buf = out
	for _, e := range out {
		if err := p.emit(e); err != nil {
			return err
		}
	}
	return nil
}

// emit annotates one decoded event and sends on what the annotator gives back.
func (p *Pipeline) emit(e event.Event) error {
	if ts := e.Base().TS; ts > p.lastTS {
		p.lastTS = ts
	}
	if l, ok := e.(*event.Lost); ok && !l.ViewOnly {
		p.placed.calls += l.Calls
		p.placed.kernel += l.KernelEvents
	}
	for _, a := range p.ann.Annotate(e) {
		if err := p.send(a); err != nil {
			return err
		}
	}
	return nil
}

// send counts and passes on one annotated event, unless -e hides it: a hidden syscall hides
// the kernel work it caused too.
func (p *Pipeline) send(e event.Event) error {
	switch x := e.(type) {
	case *event.Syscall:
		if !p.filter.All() && !p.filter.Match(x.Nr) {
			p.hidden.add(x.Seq)
			return nil
		}
		if x.KernelEventsLost > 0 {
			x.Notes = append(x.Notes, fmt.Sprintf("%d kernel event%s lost while this call ran: what the trace shows of it is a lower bound",
				x.KernelEventsLost, plural(uint64(x.KernelEventsLost))))
		}
	case *event.Kernel:
		if x.CauseSeq != 0 && p.hidden.has(x.CauseSeq) {
			return nil
		}
	}
	p.counter.Add(e)
	return p.out(e)
}

// hiddenCalls remembers the last calls -e hid: kernel work arrives right after its call, or
// later (a block request completing after the call returned), linked by cause_seq to any of a
// thread's recent calls — not only the last one hidden.
type hiddenCalls struct {
	seqs map[uint64]bool
	fifo []uint64
}

// hiddenMax covers the annotator's reach back (64 recent calls per thread) for many threads.
const hiddenMax = 1 << 16

func (h *hiddenCalls) add(seq uint64) {
	if h.seqs == nil {
		h.seqs = make(map[uint64]bool)
	}
	if len(h.fifo) >= hiddenMax {
		delete(h.seqs, h.fifo[0])
		h.fifo = h.fifo[1:]
	}
	h.seqs[seq] = true
	h.fifo = append(h.fifo, seq)
}

func (h *hiddenCalls) has(seq uint64) bool { return h.seqs[seq] }

// Counters takes a snapshot of the loss counters. Process events and misses have no place in
// the records: they are shown where the counters grew.
func (p *Pipeline) Counters(c *rawrec.Counters) error {
	p.counters = c
	t := totals(c)
	var l event.Lost
	if d := t.ProcessEvents - p.placed.process; d > 0 {
		l.ProcessEvents, p.placed.process = d, t.ProcessEvents
	}
	if d := t.Missed - p.placed.missed; d > 0 {
		l.Missed, p.placed.missed = d, t.Missed
	}
	if l.ProcessEvents+l.Missed == 0 {
		return nil
	}
	l.TS, l.CPU, l.Count = p.lastTS, -1, l.ProcessEvents
	l.Reason = lostReason(&l)
	return p.emit(&l)
}

// Skip says that records were left out of this timeline on purpose (a live view that fell
// behind skips ahead; the recording has them): gaps after it are not losses.
func (p *Pipeline) Skip(s *event.Lost) error {
	p.dec.ResetGaps()
	s.ViewOnly = true
	return p.emit(s)
}

// Finish ends the timeline: the annotator's held events, the losses the counters show that no
// gap placed, and the summary.
func (p *Pipeline) Finish(end *rawrec.End) (*event.Summary, error) {
	for _, e := range p.ann.Flush() {
		if err := p.send(e); err != nil {
			return nil, err
		}
	}
	if p.counters != nil {
		if err := p.Counters(p.counters); err != nil {
			return nil, err
		}
		t := totals(p.counters)
		var l event.Lost
		if t.Calls > p.placed.calls {
			l.Calls = t.Calls - p.placed.calls
		}
		if t.KernelEvents > p.placed.kernel {
			l.KernelEvents = t.KernelEvents - p.placed.kernel
		}
		if l.Calls+l.KernelEvents > 0 {
			l.TS, l.CPU, l.Count = p.lastTS, -1, l.Calls+l.KernelEvents
			l.Reason = "lost at the end of their thread or CPU, where no later record shows the gap"
			if err := p.emit(&l); err != nil {
				return nil, err
			}
		}
	}
	s := p.counter.Summary()
	if p.counters != nil {
		s.LostBy = lostBy(p.counters)
		s.Lost = 0
		for _, l := range s.LostBy {
			// captures lost are not events lost: their calls are recorded, and marked
			s.Lost += l.Calls + l.KernelEvents + l.ProcessEvents
		}
	}
	if end != nil {
		s.ExitCode = end.ExitCode
	} else {
		s.Truncated = true
	}
	return s, nil
}

// lostBy is the counters by CPU, and the misses (which are not per CPU).
func lostBy(c *rawrec.Counters) []event.LostStat {
	var out []event.LostStat
	cpus := 0
	for _, row := range c.Lost {
		cpus = max(cpus, len(row))
	}
	at := func(reason, cpu int) uint64 {
		if reason < len(c.Lost) && cpu < len(c.Lost[reason]) {
			return c.Lost[reason][cpu]
		}
		return 0
	}
	for cpu := range cpus {
		st := event.LostStat{
			CPU:           cpu,
			Calls:         at(probe.LostCallRing, cpu) + at(probe.LostCallBusy, cpu) + at(probe.LostCallExit, cpu) + at(probe.LostCallTrack, cpu),
			KernelEvents:  at(probe.LostKernel, cpu),
			Captures:      at(probe.LostEntry, cpu),
			ProcessEvents: at(probe.LostProcess, cpu),
		}
		if st != (event.LostStat{CPU: cpu}) {
			out = append(out, st)
		}
	}
	if m := c.MissedKernel + c.MissedProcess + c.MissedEntries; m > 0 {
		out = append(out, event.LostStat{CPU: -1, Missed: m})
	}
	return out
}

func totals(c *rawrec.Counters) event.LostStat {
	var t event.LostStat
	for _, l := range lostBy(c) {
		t.Calls += l.Calls
		t.KernelEvents += l.KernelEvents
		t.Captures += l.Captures
		t.ProcessEvents += l.ProcessEvents
		t.Missed += l.Missed
	}
	return t
}

func lostReason(l *event.Lost) string {
	switch {
	case l.ProcessEvents > 0 && l.Missed > 0:
		return "fork/exec/exit records lost (the ring buffer was full); and events skipped while another BPF program ran"
	case l.ProcessEvents > 0:
		return "fork/exec/exit records lost: the ring buffer was full"
	}
	return "events the kernel skipped running iotrace's programs for, while another BPF program ran on that CPU (machine-wide: may include processes outside the trace)"
}

func plural(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}
