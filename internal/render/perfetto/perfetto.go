// Package perfetto writes a timeline as Chrome trace-event JSON, the format ui.perfetto.dev and
// chrome://tracing open.
//
// Every thread is a track, named from comm by metadata events (or from the waker_comm of a
// sched_blocked event that names it); kworkers and io-wq workers have their own threads and so
// their own tracks. A syscall is a complete slice ("X") carrying the strace-style call, its
// result, raw and decoded arguments and notes. A kernel event is an instant on the thread it ran
// on, or a slice when it carries a duration (off_cpu_ns of sched_blocked, or dur_ns). Slices that
// would overlap without nesting on one thread become async slices ("b"/"e"), and so does each
// request from issue to completion (block_rq_issue → block_rq_complete by device and sector,
// io_uring_submit_req → io_uring_complete by ring and request): requests in flight together
// overlap by nature. Fork, exec and exit are instants; lost events are global instants. A flow
// arrow ("s" → "f") joins a syscall to each kernel event it caused (cause_seq), and page-cache
// fills and evictions feed one counter track ("C") per file. A global instant marks the start of
// tracing, so times read as in the text timeline.
//
// The output streams: events are written as they arrive, in timestamp order per track. A
// syscall is recorded at its exit with its entry time, after the kernel events it contains, so
// each thread holds its events briefly — until its next syscall record shows they cannot be
// preceded any more — within fixed bounds. Flows are written once both ends are on paper,
// keeping a bounded memory of recent syscalls and of kernel events waiting for their cause.
package perfetto

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/callfmt"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Bounds on what the writer holds, whatever the size of the recording.
const (
	maxHeldPerThread = 4096    // events a thread holds back for ordering
	maxHeld          = 1 << 16 // over all threads
	maxRecent        = 1 << 16 // syscalls remembered as flow sources
	maxPending       = 1 << 16 // kernel events waiting for their cause to be written
	maxRequests      = 1 << 14 // requests issued and not yet completed
	maxNames         = 1 << 14 // thread names learned from wakers
)

// Writer is a render.Renderer producing one JSON object: {"traceEvents":[…],"otherData":{…}}.
type Writer struct {
	bw    *bufio.Writer
	arch  string
	count int // events written, for the separator
	err   error

	threads map[uint32]*thread
	held    int    // events held over all threads
	order   uint64 // arrival counter, for stable ordering
	lastTS  uint64 // latest timestamp seen, for lost counts read at the end
	global  uint64 // timestamp of the last global instant

	recent   fifo[endpoint]   // written syscalls by seq
	pending  fifo[[]endpoint] // written kernel events by the seq of their unwritten cause
	nextFlow uint64
	nextSpan uint64 // async slice ids
	pages    map[string]*counter
	names    map[uint32]string // thread names learned from wakers
	requests map[string]request
}

// request is an issued block or io_uring request waiting for its completion.
type request struct {
	ts       uint64
	pid, tid uint32
	name     string
	seq      uint64
}

// counter is the page-cache track of one file.
type counter struct {
	pages    int64
	ts       uint64 // of the last value written
	pid, tid uint32 // of the first event: one track per file, under the process that touched it first
}

// thread is one track.
type thread struct {
	pid, tid uint32
	name     string // last name written in metadata
	held     []item
	open     []uint64 // ends of the slices open on the track, innermost last
}

type item struct {
	ts    uint64
	order uint64
	e     event.Event
}

// endpoint is where a flow starts or ends.
type endpoint struct {
	ts       uint64
	pid, tid uint32
}

// New returns a Writer on w. Close finishes the JSON and flushes, but does not close w.
func New(w io.Writer) *Writer {
	return &Writer{
		bw:       bufio.NewWriterSize(w, 64<<10),
		threads:  make(map[uint32]*thread),
		recent:   newFIFO[endpoint](maxRecent),
		pending:  newFIFO[[]endpoint](maxPending),
		pages:    make(map[string]*counter),
		names:    make(map[uint32]string),
		requests: make(map[string]request),
	}
}

// traceEvent is one entry of traceEvents. Field order is the order written.
type traceEvent struct {
	Name string `json:"name"`
	Cat  string `json:"cat,omitempty"`
	Ph   string `json:"ph"`
	TS   *usec  `json:"ts,omitempty"`
	Dur  *usec  `json:"dur,omitempty"`
	PID  uint32 `json:"pid"`
	TID  uint32 `json:"tid"`
	ID   uint64 `json:"id,omitempty"`
	S    string `json:"s,omitempty"`  // instant scope: t(hread), p(rocess), g(lobal)
	BP   string `json:"bp,omitempty"` // flow end binding: e(nclosing slice)
	Args any    `json:"args,omitempty"`
}

// usec is a time in nanoseconds written as microseconds with three decimals: exact, where a
// float would round.
type usec uint64

func (u usec) MarshalJSON() ([]byte, error) {
	b := strconv.AppendUint(nil, uint64(u)/1000, 10)
	frac := uint64(u) % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10)), nil
}

func at(ns uint64) *usec { u := usec(ns); return &u }

func (w *Writer) Header(h *event.Header) error {
	w.arch = syscalls.GoArch(h.Arch)
	w.lastTS, w.global = h.StartNS, h.StartNS
	other := map[string]string{
		"schema": h.Schema, "iotrace_version": h.Version, "kernel": h.Kernel, "arch": h.Arch,
		"command": strings.Join(h.Command, " "),
	}
	if h.AttachPID != 0 {
		other["attach_pid"] = strconv.Itoa(h.AttachPID)
	}
	if h.Filter != "" {
		other["filter"] = h.Filter
	}
	if len(h.MissingProbes) > 0 {
		other["missing_probes"] = strings.Join(h.MissingProbes, "; ")
	}
	od, err := json.Marshal(other)
	if err != nil {
		return fmt.Errorf("encode trace metadata: %w", err)
	}
	w.bw.WriteString(`{"otherData":`)
	w.bw.Write(od)
	w.bw.WriteString(",\n\"traceEvents\":[\n")
	w.write(&traceEvent{Name: "tracing started", Cat: "iotrace", Ph: "i", TS: at(h.StartNS), S: "g"})
	return w.err
}

func (w *Writer) Event(e event.Event) error {
	c := e.Base()
	if c.TS > w.lastTS {
		w.lastTS = c.TS
	}
	if l, ok := e.(*event.Lost); ok {
		w.lost(l)
		return w.err
	}
	if k, ok := e.(*event.Kernel); ok {
		w.learnWaker(k)
		// paired on arrival, in the order the kernel did them, not the order tracks are written
		w.request(k)
	}
	t := w.thread(c)
	w.order++
	t.held = append(t.held, item{ts: c.TS, order: w.order, e: e})
	w.held++
	if s, ok := e.(*event.Syscall); ok {
		// Nothing later on this thread can start before this call's entry.
		w.flush(t, s.TS)
	} else if p, ok := e.(*event.Process); ok && p.Name == "exit" {
		w.flush(t, ^uint64(0)) // the thread is gone: nothing more can come before this
	}
	if len(t.held) > maxHeldPerThread {
		w.flush(t, ^uint64(0))
	}
	if w.held > maxHeld {
		w.flushLargest()
	}
	return w.err
}

// Close writes what is still held and ends the JSON. Flows whose cause never came are dropped.
func (w *Writer) Close(s *event.Summary) error {
	tids := make([]uint32, 0, len(w.threads))
	for tid := range w.threads {
		tids = append(tids, tid)
	}
	sort.Slice(tids, func(i, j int) bool { return tids[i] < tids[j] })
	for _, tid := range tids {
		w.flush(w.threads[tid], ^uint64(0))
	}
	if s != nil && s.Truncated {
		w.write(&traceEvent{Name: "recording cut short", Cat: "iotrace", Ph: "i", TS: at(w.lastTS), S: "g"})
	}
	w.bw.WriteString("\n]}\n")
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write perfetto trace: %w", err)
	}
	return nil
}

// thread returns the track of c's thread, writing its names when they are new or better: comm,
// else a name learned from a waker, else what the track had, else "tid N".
func (w *Writer) thread(c *event.Common) *thread {
	t := w.threads[c.TID]
	if t == nil {
		t = &thread{pid: c.PID, tid: c.TID}
		w.threads[c.TID] = t
	}
	name := c.Comm
	if name == "" {
		name = w.names[c.TID]
	}
	if name == "" {
		name = t.name
	}
	if name == "" {
		name = "tid " + strconv.FormatUint(uint64(c.TID), 10)
	}
	if name != t.name || c.PID != t.pid {
		t.pid, t.name = c.PID, name
		w.write(&traceEvent{Name: "thread_name", Ph: "M", PID: c.PID, TID: c.TID, Args: map[string]string{"name": name}})
		if c.TID == c.PID {
			w.write(&traceEvent{Name: "process_name", Ph: "M", PID: c.PID, TID: c.TID, Args: map[string]string{"name": name}})
		}
	}
	return t
}

// flush writes t's held events that start at or before upTo, in timestamp order.
func (w *Writer) flush(t *thread, upTo uint64) {
	if len(t.held) == 0 {
		return
	}
	sort.Slice(t.held, func(i, j int) bool {
		a, b := t.held[i], t.held[j]
		if a.ts != b.ts {
			return a.ts < b.ts
		}
		// a syscall first, so what starts with it nests inside it
		if sa, sb := isSyscall(a.e), isSyscall(b.e); sa != sb {
			return sa
		}
		return a.order < b.order
	})
	n := 0
	for n < len(t.held) && t.held[n].ts <= upTo {
		w.emit(t, t.held[n].e)
		t.held[n].e = nil
		n++
	}
	t.held = append(t.held[:0], t.held[n:]...)
	w.held -= n
}

func (w *Writer) flushLargest() {
	var big *thread
	for _, t := range w.threads {
		if big == nil || len(t.held) > len(big.held) || len(t.held) == len(big.held) && t.tid < big.tid {
			big = t
		}
	}
	w.flush(big, ^uint64(0))
}

func isSyscall(e event.Event) bool { _, ok := e.(*event.Syscall); return ok }

// emit writes one event on its track.
func (w *Writer) emit(t *thread, e event.Event) {
	c := e.Base()
	switch x := e.(type) {
	case *event.Syscall:
		w.slice(t, x.Name, catIO, c, x.Dur, !x.Unfinished && x.Dur > 0, syscallArgs(x, w.arch))
		w.recent.put(c.Seq, endpoint{c.TS, c.PID, c.TID})
		if waiting, ok := w.pending.take(c.Seq); ok {
			for _, k := range waiting {
				w.flow(endpoint{c.TS, c.PID, c.TID}, k)
			}
		}
	case *event.Kernel:
		dur := kernelDur(x)
		w.slice(t, x.Name, catIO, c, dur, dur > 0, kernelArgs(x))
		w.pageCounter(x)
		if x.CauseSeq != 0 {
			here := endpoint{c.TS, c.PID, c.TID}
			if from, ok := w.recent.get(x.CauseSeq); ok {
				w.flow(from, here)
			} else if waiting, _ := w.pending.get(x.CauseSeq); len(waiting) < 1024 {
				w.pending.put(x.CauseSeq, append(waiting, here))
			}
		}
	case *event.Process:
		w.write(&traceEvent{Name: callfmt.Process(x), Cat: "process", Ph: "i", TS: at(c.TS), PID: c.PID, TID: c.TID, S: "t",
			Args: processArgs(x)})
	}
}

// slice writes a span as a complete slice when it nests in what is open on the thread, as an
// async slice when it overlaps without nesting, and as an instant when it has no length.
func (w *Writer) slice(t *thread, name, cat string, c *event.Common, dur uint64, span bool, args any) {
	for len(t.open) > 0 && t.open[len(t.open)-1] <= c.TS {
		t.open = t.open[:len(t.open)-1]
	}
	if !span {
		w.write(&traceEvent{Name: name, Cat: cat, Ph: "i", TS: at(c.TS), PID: c.PID, TID: c.TID, S: "t", Args: args})
		return
	}
	end := c.TS + dur
	if len(t.open) == 0 || t.open[len(t.open)-1] >= end {
		t.open = append(t.open, end)
		w.write(&traceEvent{Name: name, Cat: cat, Ph: "X", TS: at(c.TS), Dur: at(dur), PID: c.PID, TID: c.TID, Args: args})
		return
	}
	w.nextSpan++
	id := w.nextSpan
	w.write(&traceEvent{Name: name, Cat: cat + ",async", Ph: "b", TS: at(c.TS), PID: c.PID, TID: c.TID, ID: id, Args: args})
	w.write(&traceEvent{Name: name, Cat: cat + ",async", Ph: "e", TS: at(end), PID: c.PID, TID: c.TID, ID: id})
}

// catIO is the category of syscall and kernel-event slices and of the flows between them:
// Chrome DevTools binds a flow's phases only to events of the flow's own category (and its
// pid, tid and ts), so the two kinds share one; args.kind tells them apart.
const catIO = "io"

// flow writes an arrow from a syscall to a kernel event: "s" binds to the slice enclosing its
// start, "f" with bp=e to the slice or instant enclosing its end.
func (w *Writer) flow(from, to endpoint) {
	w.nextFlow++
	w.write(&traceEvent{Name: "caused", Cat: catIO, Ph: "s", TS: at(from.ts), PID: from.pid, TID: from.tid, ID: w.nextFlow})
	w.write(&traceEvent{Name: "caused", Cat: catIO, Ph: "f", TS: at(to.ts), PID: to.pid, TID: to.tid, ID: w.nextFlow, BP: "e"})
}

func (w *Writer) lost(l *event.Lost) {
	ts := l.TS
	if ts == 0 { // counted at the end: show it there
		ts = w.lastTS
	}
	if ts < w.global {
		ts = w.global
	}
	w.global = ts
	w.write(&traceEvent{Name: fmt.Sprintf("%d events lost", l.Count), Cat: "lost", Ph: "i", TS: at(ts), S: "g",
		Args: map[string]any{"count": l.Count, "cpu": l.CPU, "reason": l.Reason}})
}

// pageCounter follows the pages of each file that page-cache events add and remove. The count
// starts at zero: it is what this trace saw change, not what was cached before it.
func (w *Writer) pageCounter(k *event.Kernel) {
	var sign int64
	switch {
	case strings.Contains(k.Name, "add_to_page_cache"):
		sign = 1
	case strings.Contains(k.Name, "delete_from_page_cache"):
		sign = -1
	default:
		return
	}
	file, ok := k.Args.Str("file")
	if !ok {
		ino, ok := k.Args.Int("i_ino")
		if !ok {
			return
		}
		dev, _ := k.Args.Str("s_dev")
		file = fmt.Sprintf("inode %d on %s", ino, dev)
	}
	c := w.pages[file]
	if c == nil {
		c = &counter{pid: k.PID, tid: k.TID}
		w.pages[file] = c
	}
	c.pages += sign * pagesOf(k.Args)
	// Threads are flushed one by one, so two threads filling one file can reach here slightly
	// out of order: the counter keeps its order, and the value is the running total.
	c.ts = max(c.ts, k.TS)
	w.write(&traceEvent{Name: "page cache: " + file, Cat: "page_cache", Ph: "C", TS: at(c.ts), PID: c.pid, TID: c.tid,
		Args: map[string]int64{"pages": c.pages}})
}

// pagesOf is the number of pages one page-cache event covers: nr_pages where the kernel says,
// else a folio of 2^order pages.
func pagesOf(args event.Fields) int64 {
	if n, ok := args.Int("nr_pages"); ok {
		return n
	}
	if o, ok := args.Int("order"); ok && o >= 0 && o < 31 {
		return 1 << o
	}
	return 1
}

// learnWaker names a thread the trace has no comm for — an io-wq worker, a kworker — from a
// sched_blocked event whose waker it was. A track already named keeps its name until it is seen
// again.
func (w *Writer) learnWaker(k *event.Kernel) {
	tid, ok := k.Args.Int("waker_tid")
	comm, ok2 := k.Args.Str("waker_comm")
	if !ok || !ok2 || tid <= 0 || comm == "" || len(w.names) >= maxNames {
		return
	}
	w.names[uint32(tid)] = comm
}

// request pairs the issue and the completion of a block or io_uring request into an async slice
// of the issuing process, written when the completion is.
func (w *Writer) request(k *event.Kernel) {
	key, name, begin := requestKey(k)
	if key == "" {
		return
	}
	if begin {
		if len(w.requests) >= maxRequests { // completions never traced: forget any one
			for old := range w.requests {
				delete(w.requests, old)
				break
			}
		}
		w.requests[key] = request{ts: k.TS, pid: k.PID, tid: k.TID, name: name, seq: k.Seq}
		return
	}
	r, ok := w.requests[key]
	if !ok || k.TS < r.ts {
		return
	}
	delete(w.requests, key)
	w.nextSpan++
	args := event.Fields{{Key: "issue_seq", Val: r.seq}, {Key: "complete_seq", Val: k.Seq}}
	w.write(&traceEvent{Name: r.name, Cat: "request", Ph: "b", TS: at(r.ts), PID: r.pid, TID: r.tid, ID: w.nextSpan, Args: args})
	w.write(&traceEvent{Name: r.name, Cat: "request", Ph: "e", TS: at(k.TS), PID: r.pid, TID: r.tid, ID: w.nextSpan})
}

// requestKey identifies the request a kernel event begins or ends, and names it.
func requestKey(k *event.Kernel) (key, name string, begin bool) {
	str := func(f string) string {
		v, _ := k.Args.Get(f)
		return fmt.Sprint(v)
	}
	switch k.Name {
	case "block_rq_issue", "block_rq_complete":
		name = "block " + strings.TrimSpace(str("rwbs")+" "+str("nr_sector")+" sectors")
		return "blk " + str("dev") + " " + str("sector"), name, k.Name == "block_rq_issue"
	case "io_uring_submit_req", "io_uring_complete":
		return "uring " + str("ctx") + " " + str("req"), "io_uring req " + str("req"), k.Name == "io_uring_submit_req"
	}
	return "", "", false
}

// kernelDur is how long a kernel event lasted, when it says.
func kernelDur(k *event.Kernel) uint64 {
	for _, key := range []string{"off_cpu_ns", "dur_ns"} {
		if n, ok := k.Args.Int(key); ok && n > 0 {
			return uint64(n)
		}
	}
	return 0
}

func (w *Writer) write(te *traceEvent) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(te)
	if err != nil {
		w.err = fmt.Errorf("encode %s event: %w", te.Name, err)
		return
	}
	if w.count > 0 {
		w.bw.WriteString(",\n")
	}
	w.count++
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("write perfetto trace: %w", err)
	}
}

func syscallArgs(s *event.Syscall, arch string) event.Fields {
	raw := make(event.Fields, len(s.Args))
	for i, a := range s.Args {
		raw[i] = event.Field{Key: a.Name, Val: a.Value}
	}
	f := event.Fields{
		{Key: "kind", Val: "syscall"},
		{Key: "call", Val: callfmt.Call(s, arch) + " = " + callfmt.Result(s, arch)},
		{Key: "seq", Val: s.Seq},
		{Key: "ret", Val: s.Ret},
	}
	if s.Errno != "" {
		f = append(f, event.Field{Key: "errno", Val: s.Errno})
	}
	f = append(f, event.Field{Key: "args", Val: raw})
	if len(s.Decoded) > 0 {
		f = append(f, event.Field{Key: "decoded", Val: s.Decoded})
	}
	return appendNotes(f, s.Notes)
}

func kernelArgs(k *event.Kernel) event.Fields {
	f := event.Fields{{Key: "kind", Val: "kernel"}, {Key: "seq", Val: k.Seq}}
	if k.CauseSeq != 0 {
		f = append(f, event.Field{Key: "cause_seq", Val: k.CauseSeq})
	}
	if k.Outside != "" { // no traced call caused it: where it came from
		f = append(f, event.Field{Key: "outside", Val: k.Outside})
	}
	if k.Via != "" { // raised by an io_uring helper thread
		f = append(f, event.Field{Key: "via", Val: k.Via})
	}
	if k.UntracedCall != "" {
		f = append(f, event.Field{Key: "untraced_call", Val: k.UntracedCall})
	}
	f = append(f, k.Args...)
	return appendNotes(f, k.Notes)
}

func appendNotes(f event.Fields, notes []string) event.Fields {
	if len(notes) == 0 {
		return f
	}
	list := make([]any, len(notes))
	for i, n := range notes {
		list[i] = n
	}
	return append(f, event.Field{Key: "notes", Val: list})
}

func processArgs(p *event.Process) map[string]any {
	a := map[string]any{"seq": p.Seq}
	if p.ChildPID != 0 {
		a["child_pid"], a["child_tid"] = p.ChildPID, p.ChildTID
	}
	if p.Filename != "" {
		a["filename"] = p.Filename
	}
	return a
}
