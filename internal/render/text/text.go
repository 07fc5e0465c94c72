// Package text renders the timeline for a terminal, in the manner of strace -f -tt -T but with
// times relative to the start of tracing.
//
// Every line starts with the time since the header's StartNS and the time since the previous
// event, in seconds with microseconds; once a second task has appeared (see TIDColumn), the
// thread id follows in brackets:
//
//	0.000123 (+0.000021) [4242]  writev(3</tmp/x/out.txt>, [...], 4) = 38 <0.000015>
//	                               ↳ a note on the call
//	0.000130 (+0.000007) [4242]      · mm_filemap_add_to_page_cache i_ino=1311 index=0
//	                                   ↳ a note on the kernel event
//	0.000140 (+0.000010) [4244]  pread64(3, ...) = -1 EAGAIN (Resource temporarily unavailable) <0.000002>
//	0.000150 (+0.000010) [4242]  +++ fork → thread 4244 +++
//	0.000160 (+0.000010) [4242]  +++ fork → child 4243 +++
//	0.000170 (+0.000010) [4243]  +++ exec /usr/bin/cat +++
//	0.000180 (+0.000010)         !!! 1234 events lost on CPU 1 (ring buffer full) !!!
//	0.000190 (+0.000010) [4242]  exit_group(0) = ?
//	0.000200 (+0.000010) [4242]  +++ exited with 0 +++
//	0.000210 (+0.000010) [4243]  +++ killed by SIGTERM +++
//
// The time since the start is right-aligned in 11 columns and the thread column padded to
// "[NNNNN] ", so calls line up; longer ids push their line right.
// A syscall is callfmt's call, " = ", callfmt's result and its duration in angle brackets (none
// for a call that never returned). A kernel event is indented by four under the syscall before
// it only when that call caused it (its cause_seq); any other stands on its own line, at the
// calls' column, with a mark saying where it came from — no traced call caused it:
//
//	· [user mode] page_fault_user …          a page fault between calls, and what it did
//	· [in untraced read] page_cache_sync_ra … inside a call -e does not trace
//	· [kernel thread] writeback_dirty_folio … a kernel thread's work for a traced file
//	· [in a lost call] …                      inside a call whose record was lost
//	· [no traced call] …                      outside every traced call, the trace telling no more
//	· [of io_submit seq 812] block_rq_complete … caused by a call shown earlier, not the one above
//
// Kernel events show their arguments as key=value. Notes are indented by two under their event.
// An event without a timestamp (a lost count read at the end) has blank time columns.
//
// With Options.Color, times and notes are dim, syscall names bold, errno names red, kernel event
// names cyan, process events magenta (red when killed) and lost events yellow. The header goes
// to Options.Info as "iotrace: tracing …" lines, so the timeline alone is on the main writer.
package text

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/iotrace/iotrace/internal/callfmt"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render/summary"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// TIDColumn says when lines carry the thread id.
type TIDColumn int

const (
	// TIDAuto shows the column from the first event that involves a second task on (a fork
	// line included), as strace -f starts its "[pid N]" prefixes. Earlier lines keep no column.
	TIDAuto TIDColumn = iota
	TIDAlways
	TIDNever
)

// TimeColumn says how a line's time is written.
type TimeColumn int

const (
	// TimeSinceStart: seconds since tracing started, then the delta to the line above:
	// "   0.002850 (+0.000008)".
	TimeSinceStart TimeColumn = iota
	TimeDelta                 // strace -r: the delta to the line above alone
	TimeOfDay                 // strace -t: 14:03:07
	TimeOfDayUS               // strace -tt: 14:03:07.123456
	TimeEpoch                 // strace -ttt: 1796279990.123456
)

// Options shape the output.
type Options struct {
	Color   bool
	TID     TIDColumn
	Time    TimeColumn
	Summary bool      // print the summary table at Close
	Info    io.Writer // where the header goes (stderr); nil drops it
	// Collapse folds a run of more than this many consecutive calls of one syscall by one
	// thread into one "… N more" line; 0 shows every call.
	Collapse int
}

// Renderer is a render.Renderer writing one line per event as it arrives, unbuffered, so a live
// trace is seen as it happens.
type Renderer struct {
	w    io.Writer
	opts Options

	start      uint64
	prev       uint64 // timestamp of the previous timed event
	wallOffset int64  // add to a timestamp for Unix time (ns)
	firstTID   uint32
	showTID    bool
	buf        []byte
	burst      []*event.Kernel // consecutive kernel events of one kind, printed as one line
	run        callRun         // consecutive calls of one syscall, for Options.Collapse
	err        error           // a write error met while ending a run
	arch       string          // GOARCH of the recording, for the syscall table
	predicted  string          // the workload/variant whose verdicts were printed last
	under      uint64          // seq of the call on the line above the kernel events being printed
	calls      callNames       // names of recent calls, for kernel events placed away from them
	heldExec   *event.Process  // an exec line waiting for its execve (see Event)
}

// callNames remembers the names of the last calls printed, by seq, so a kernel event a call
// caused but printed after other lines can name it.
type callNames struct {
	name map[uint64]string
	fifo []uint64
}

const callNamesMax = 4096

func (c *callNames) add(seq uint64, name string) {
	if c.name == nil {
		c.name = make(map[uint64]string)
	}
	if len(c.fifo) >= callNamesMax {
		delete(c.name, c.fifo[0])
		c.fifo = c.fifo[1:]
	}
	c.name[seq] = name
	c.fifo = append(c.fifo, seq)
}

// New returns a Renderer writing to w.
func New(w io.Writer, opts Options) *Renderer {
	return &Renderer{w: w, opts: opts, showTID: opts.TID == TIDAlways, buf: make([]byte, 0, 512)}
}

const (
	ansiDim     = "\x1b[2m"
	ansiBold    = "\x1b[1m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
	ansiReset   = "\x1b[0m"
)

func (r *Renderer) Header(h *event.Header) error {
	r.start, r.prev = h.StartNS, h.StartNS
	r.wallOffset = h.WallClockOffsetNS
	r.arch = syscalls.GoArch(h.Arch)
	if r.opts.Info == nil {
		return nil
	}
	b := r.paint(nil, ansiDim, headerLine(h))
	b = append(b, '\n')
	for _, n := range h.Notes {
		b = r.paint(b, ansiDim, "iotrace: "+n)
		b = append(b, '\n')
	}
	if _, err := r.opts.Info.Write(b); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	return nil
}

// headerLine is "iotrace: tracing cat f (kernel 6.18.44, x86_64); missing probes: …".
func headerLine(h *event.Header) string {
	var b strings.Builder
	b.WriteString("iotrace: tracing ")
	switch {
	case len(h.Command) > 0:
		for i, a := range h.Command {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(shellQuote(a))
		}
	case h.AttachPID != 0:
		fmt.Fprintf(&b, "pid %d", h.AttachPID)
	default:
		b.WriteString("a recording")
	}
	fmt.Fprintf(&b, " (kernel %s, %s)", h.Kernel, h.Arch)
	if h.Filter != "" {
		fmt.Fprintf(&b, "; filter %s", h.Filter)
	}
	if len(h.MissingProbes) > 0 {
		fmt.Fprintf(&b, "; missing probes: %s", strings.Join(h.MissingProbes, ", "))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./=:,+@%", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (r *Renderer) Event(e event.Event) error {
	// The exec line arrives before the execve that made it (a call is printed when it ends,
	// stamped with its start): it is held for one event, so that it follows its execve and
	// the times go forward.
	if held := r.heldExec; held != nil {
		r.heldExec = nil
		if s, ok := e.(*event.Syscall); ok && s.TID == held.TID && (s.Name == "execve" || s.Name == "execveat") {
			if err := r.eventNow(e); err != nil {
				return err
			}
			return r.eventNow(held)
		}
		if err := r.eventNow(held); err != nil {
			return err
		}
	}
	if p, ok := e.(*event.Process); ok && p.Name == "exec" {
		r.heldExec = p
		return nil
	}
	return r.eventNow(e)
}

func (r *Renderer) eventNow(e event.Event) error {
	if r.collapse(e) {
		return nil
	}
	if r.err != nil {
		return r.err
	}
	if k, ok := e.(*event.Kernel); ok {
		if n := len(r.burst); n > 0 && !sameBurst(r.burst[n-1], k) {
			if err := r.flushBurst(); err != nil {
				return err
			}
		}
		r.burst = append(r.burst, k)
		return nil
	}
	if err := r.flushBurst(); err != nil {
		return err
	}
	return r.event(e)
}

// sameBurst: consecutive kernel events of one thread and cause (or one place outside calls)
// form a burst.
func sameBurst(a, b *event.Kernel) bool {
	return a.TID == b.TID && a.CauseSeq == b.CauseSeq && a.CauseLost == b.CauseLost &&
		a.Outside == b.Outside && a.UntracedCall == b.UntracedCall && a.Via == b.Via
}

// flushBurst prints the pending burst: one line per kind of kernel event, in order of first
// appearance; a kind seen once prints as it is, several times as one aggregated line.
func (r *Renderer) flushBurst() error {
	burst := r.burst
	r.burst = r.burst[:0]
	var order []string
	byName := map[string][]*event.Kernel{}
	for _, k := range burst {
		if byName[k.Name] == nil {
			order = append(order, k.Name)
		}
		byName[k.Name] = append(byName[k.Name], k)
	}
	for _, name := range order {
		group := byName[name]
		if len(group) == 1 {
			if err := r.event(group[0]); err != nil {
				return err
			}
			continue
		}
		agg := *group[0]
		agg.Args = aggregate(group)
		agg.Notes = nil
		for _, k := range group {
			agg.Notes = append(agg.Notes, k.Notes...)
		}
		if err := r.event(&agg); err != nil {
			return err
		}
	}
	return nil
}

func (r *Renderer) event(e event.Event) error {
	if p, ok := e.(*event.Prediction); ok {
		return r.prediction(p)
	}
	c := e.Base()
	r.see(c.TID)
	if p, ok := e.(*event.Process); ok && p.Name == "fork" {
		r.see(p.ChildTID)
		r.see(p.ChildPID)
	}

	b := r.buf[:0]
	var width int // of the prefix, for indenting notes
	if _, lost := e.(*event.Lost); lost {
		b, width = r.prefix(b, c.TS, 0)
	} else {
		b, width = r.prefix(b, c.TS, c.TID)
	}
	r.placeUnder(e)
	switch x := e.(type) {
	case *event.Syscall:
		b = r.syscall(b, x)
		b = r.notes(b, width+2, x.Notes)
	case *event.Kernel:
		indent := 0
		if x.CauseSeq != 0 && x.CauseSeq == r.under {
			indent = 4
			b = append(b, "    · "...)
			if x.Via != "" {
				b = r.paint(b, ansiDim, "["+viaText(x.Via)+"]")
				b = append(b, ' ')
			}
		} else {
			b = append(b, "· "...)
			b = r.paint(b, ansiDim, "["+r.origin(x)+"]")
			b = append(b, ' ')
		}
		b = r.paint(b, ansiCyan, x.Name)
		if n, ok := x.Args.Int(countKey); ok {
			b = append(b, " ×"...)
			b = strconv.AppendInt(b, n, 10)
		}
		for _, kv := range x.Args {
			if kv.Key == countKey {
				continue
			}
			b = append(b, ' ')
			b = append(b, kv.Key...)
			b = append(b, '=')
			b = appendValue(b, kv.Val)
		}
		b = append(b, '\n')
		b = r.notes(b, width+indent+2, x.Notes)
	case *event.Process:
		colour := ansiMagenta
		if x.Signal != "" {
			colour = ansiRed
		}
		b = r.paint(b, colour, "+++ "+callfmt.Process(x)+" +++")
		b = append(b, '\n')
		b = r.notes(b, width+2, x.Notes)
	case *event.Lost:
		b = r.paint(b, ansiYellow, "!!! "+lostText(x)+" !!!")
		b = append(b, '\n')
	default:
		b = append(b, "??? "...)
		b = append(b, e.Kind()...)
		b = append(b, '\n')
	}
	r.buf = b
	if _, err := r.w.Write(b); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

// prediction prints one verdict of a workload's prediction, on its own line without time
// columns (it is a conclusion, not an event): ✔ held, ✘ failed — a finding of this machine,
// in red — and – when the trace cannot tell.
func (r *Renderer) prediction(p *event.Prediction) error {
	mark, colour := "–", ansiYellow
	switch p.Verdict {
	case event.VerdictHeld:
		mark, colour = "✔", ansiGreen
	case event.VerdictFailed:
		mark, colour = "✘", ansiRed
	}
	b := r.buf[:0]
	if v := p.Workload + "/" + p.Variant; v != r.predicted {
		// the first verdict of a variant says whose they are
		r.predicted = v
		b = append(b, "  "...)
		b = r.paint(b, ansiBold, "predictions of "+v+", checked against this trace:")
		b = append(b, '\n')
	}
	b = append(b, "  "...)
	b = r.paint(b, colour, mark)
	b = append(b, ' ')
	b = append(b, p.Says...)
	b = append(b, " — "...)
	b = r.paint(b, ansiDim, p.Measured)
	if p.Verdict == event.VerdictFailed {
		b = r.paint(b, ansiRed, " (did not hold on this machine)")
	}
	b = append(b, '\n')
	r.buf = b
	if _, err := r.w.Write(b); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

// placeUnder keeps the call kernel events may be indented under: the syscall on the line
// above them; any other line ends its block.
func (r *Renderer) placeUnder(e event.Event) {
	switch x := e.(type) {
	case *event.Syscall:
		r.under = x.Seq
		r.calls.add(x.Seq, x.Name)
	case *event.Kernel:
		if x.CauseSeq != r.under {
			r.under = 0 // an event on its own line: the call above is no longer next to its work
		}
	default:
		r.under = 0
	}
}

// origin is the mark of a kernel event printed away from the call that caused it, or with no
// call to be under: where it came from.
func (r *Renderer) origin(k *event.Kernel) string {
	switch {
	case k.CauseSeq != 0:
		via := ""
		if k.Via != "" {
			via = ", on " + viaText(k.Via)
		}
		if name, ok := r.calls.name[k.CauseSeq]; ok {
			return fmt.Sprintf("of %s seq %d%s", name, k.CauseSeq, via)
		}
		return fmt.Sprintf("of seq %d%s", k.CauseSeq, via)
	case k.Outside == event.OutsideIOThread:
		ring, ok := k.Args.Str("ring")
		if !ok {
			ring, _ = k.Args.Str("ctx")
		}
		return fmt.Sprintf("%s of io_uring ctx=%s", viaText(k.Via), ring)
	case k.CauseLost:
		return "in a lost call"
	case k.Outside == event.OutsideUser, k.Outside == "" && (k.Name == "page_fault_user" || k.Name == "page-faults"):
		// (a user page fault is raised in user mode by definition, in recordings from before
		// "outside" too)
		return "user mode"
	case k.Outside == event.OutsideUntraced || k.UntracedCall != "":
		return "in untraced " + k.UntracedCall
	case k.Outside == event.OutsideKernelThread:
		return "kernel thread"
	}
	return "no traced call"
}

// viaText names an io_uring helper thread kind.
func viaText(via string) string {
	switch via {
	case event.ViaIOWorker:
		return "io-wq worker"
	case event.ViaSQThread:
		return "SQ thread"
	}
	return via
}

// Close prints the summary table when Options.Summary asks for it.
func (r *Renderer) Close(s *event.Summary) error {
	if held := r.heldExec; held != nil {
		r.heldExec = nil
		if err := r.eventNow(held); err != nil {
			return err
		}
	}
	if err := r.flushBurst(); err != nil {
		return err
	}
	if err := r.flushRun(); err != nil {
		return err
	}
	if s == nil {
		return nil
	}
	if !r.opts.Summary {
		if s.Predictions != nil {
			// the verdicts' count ends a workload run even without the table
			if _, err := fmt.Fprintf(r.w, "\n%s\n", summary.PredictionLine(s.Predictions)); err != nil {
				return fmt.Errorf("write summary: %w", err)
			}
		}
		return nil
	}
	if _, err := io.WriteString(r.w, "\n"); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if err := summary.Write(r.w, s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// see notes a task; the second distinct one turns the TID column on under TIDAuto.
func (r *Renderer) see(tid uint32) {
	if tid == 0 || r.showTID || r.opts.TID != TIDAuto {
		return
	}
	if r.firstTID == 0 {
		r.firstTID = tid
	} else if tid != r.firstTID {
		r.showTID = true
	}
}

// prefix writes the time columns and, when shown, "[tid] ", returning the visible width. A zero
// tid leaves the column blank.
func (r *Renderer) prefix(b []byte, ts uint64, tid uint32) ([]byte, int) {
	var p [64]byte
	q := p[:0]
	switch {
	case ts == 0:
		q = append(q, blankTime[r.opts.Time]...)
	case r.opts.Time == TimeDelta:
		q = appendSecs(q, int64(ts-r.prev), 11, false)
	case r.opts.Time == TimeOfDay || r.opts.Time == TimeOfDayUS:
		wall := time.Unix(0, int64(ts)+r.wallOffset)
		if r.opts.Time == TimeOfDay {
			q = wall.AppendFormat(q, "15:04:05")
		} else {
			q = wall.AppendFormat(q, "15:04:05.000000")
		}
	case r.opts.Time == TimeEpoch:
		q = appendSecs(q, int64(ts)+r.wallOffset, 0, false)
	default:
		q = appendSecs(q, int64(ts-r.start), 11, false)
		q = append(q, " ("...)
		q = appendSecs(q, int64(ts-r.prev), 0, true)
		q = append(q, ')')
	}
	if ts != 0 {
		r.prev = ts
	}
	b = r.paint(b, ansiDim, string(q))
	width := len(q) + 1
	b = append(b, ' ')
	if r.showTID {
		col := len(b)
		if tid != 0 {
			b = append(b, '[')
			b = strconv.AppendUint(b, uint64(tid), 10)
			b = append(b, ']')
		}
		for len(b)-col < 7 { // room for "[NNNNN]"; longer ids push the line right
			b = append(b, ' ')
		}
		b = append(b, ' ')
		width += len(b) - col
	}
	return b, width
}

// blankTime is as wide as each time column usually is, for an event without a timestamp.
var blankTime = map[TimeColumn]string{
	TimeSinceStart: "                       ",
	TimeDelta:      "           ",
	TimeOfDay:      "        ",
	TimeOfDayUS:    "               ",
	TimeEpoch:      "                 ",
}

// appendSecs writes ns as seconds with six decimals (microseconds, truncated as strace does),
// right-aligned in width; sign forces a "+" on non-negative values.
func appendSecs(b []byte, ns int64, width int, sign bool) []byte {
	var t [32]byte
	s := t[:0]
	if ns < 0 {
		s = append(s, '-')
		ns = -ns
	} else if sign {
		s = append(s, '+')
	}
	s = strconv.AppendInt(s, ns/1e9, 10)
	s = append(s, '.')
	us := (ns % 1e9) / 1e3
	for d := int64(100000); d > 1 && us < d; d /= 10 {
		s = append(s, '0')
	}
	s = strconv.AppendInt(s, us, 10)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

func (r *Renderer) syscall(b []byte, s *event.Syscall) []byte {
	call := callfmt.Call(s, r.arch)
	if rest, ok := strings.CutPrefix(call, s.Name); ok {
		b = r.paint(b, ansiBold, s.Name)
		b = append(b, rest...)
	} else {
		b = append(b, call...)
	}
	b = append(b, " = "...)
	res := callfmt.Result(s, r.arch)
	if i := strings.Index(res, s.Errno); s.Errno != "" && i >= 0 {
		b = append(b, res[:i]...)
		b = r.paint(b, ansiRed, s.Errno)
		b = append(b, res[i+len(s.Errno):]...)
	} else {
		b = append(b, res...)
	}
	if !s.Unfinished {
		b = append(b, " <"...)
		b = appendSecs(b, int64(s.Dur), 0, false)
		b = append(b, '>')
	}
	return append(b, '\n')
}

// notes writes each note on its own line, indent columns in; a note's own newlines keep it.
func (r *Renderer) notes(b []byte, indent int, notes []string) []byte {
	for _, n := range notes {
		for i, line := range strings.Split(n, "\n") {
			for range indent {
				b = append(b, ' ')
			}
			lead := "↳ "
			if i > 0 {
				lead = "  "
			}
			b = r.paint(b, ansiDim, lead+line)
			b = append(b, '\n')
		}
	}
	return b
}

func (r *Renderer) paint(b []byte, colour, s string) []byte {
	if !r.opts.Color || s == "" {
		return append(b, s...)
	}
	b = append(b, colour...)
	b = append(b, s...)
	return append(b, ansiReset...)
}

// lostText says what a Lost event accounts for: "3 calls of tid 4242 lost over 1.2 ms (…)".
func lostText(l *event.Lost) string {
	var parts []string
	count := func(n uint64, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, strconv.FormatUint(n, 10)+" "+many)
		}
	}
	count(l.Calls, "call", "calls")
	count(l.KernelEvents, "kernel event", "kernel events")
	count(l.Captures, "entry capture", "entry captures")
	count(l.ProcessEvents, "process event", "process events")
	count(l.Missed, "event skipped by the kernel", "events skipped by the kernel")
	if len(parts) == 0 && l.ModelLost == 0 {
		count(l.Count, "event", "events") // a recording from before events were told apart
	}
	s := strings.Join(parts, ", ")
	switch {
	case l.ModelLost > 0:
		s = fmt.Sprintf("pid %d lost %d call(s) that change its descriptors or mappings: descriptors are not named from here on", l.PID, l.ModelLost)
	case l.ViewOnly:
		s = "not shown: " + s
	case l.TID != 0:
		s += fmt.Sprintf(" of tid %d lost", l.TID)
	case l.CPU >= 0:
		s += fmt.Sprintf(" lost on CPU %d", l.CPU)
	default:
		s += " lost"
	}
	if l.EndNS > l.TS && l.TS != 0 {
		s += " over " + durText(l.EndNS-l.TS)
	}
	if l.Reason != "" && l.ModelLost == 0 {
		s += " (" + l.Reason + ")"
	}
	return s
}

func durText(ns uint64) string {
	switch {
	case ns >= 1e9:
		return strconv.FormatFloat(float64(ns)/1e9, 'f', 2, 64) + " s"
	case ns >= 1e6:
		return strconv.FormatFloat(float64(ns)/1e6, 'f', 1, 64) + " ms"
	case ns >= 1e3:
		return strconv.FormatFloat(float64(ns)/1e3, 'f', 1, 64) + " µs"
	}
	return strconv.FormatUint(ns, 10) + " ns"
}

// appendValue writes a kernel event argument: numbers and plain words bare, other strings
// quoted, objects as {k=v, …} and lists as [a, b].
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		if x != "" && strings.IndexFunc(x, func(c rune) bool {
			return c <= ' ' || c == '"' || c == '=' || c == '\\' || c == ',' || c == '{' || c == '}' || c == '[' || c == ']' || c == 0x7f
		}) < 0 {
			return append(b, x...)
		}
		return strconv.AppendQuote(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case bool:
		return strconv.AppendBool(b, x)
	case event.Fields:
		b = append(b, '{')
		for i, kv := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, kv.Key...)
			b = append(b, '=')
			b = appendValue(b, kv.Val)
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case nil:
		return append(b, "null"...)
	}
	return fmt.Appendf(b, "%v", v)
}
