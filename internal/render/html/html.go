// Package html writes a timeline as one self-contained HTML page: threads as lanes, syscalls as
// bars coloured by I/O mechanism and as long as the time they took (blocked time shows as
// length), kernel events as ticks and spans under them, details on hover and click, zoom and pan,
// and a summary table. The page needs nothing from the network: its CSS and script are inlined
// from files embedded in the binary, and the events follow as JSON.
//
// The events stream into the page as they arrive, so exporting a large recording takes no more
// memory than a small one; only the per-thread names and the summary wait for the end.
package html

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/iotrace/iotrace/internal/callfmt"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

var (
	//go:embed timeline.html
	page string
	//go:embed timeline.css
	style string
	//go:embed timeline.js
	script string
)

// Mechanisms are the syscall classes bars are coloured by, in legend order; anything else is
// "other".
var Mechanisms = []string{"vectored", "epoll", "mmap", "fadvise", "aio", "dup"}

// Options shape the page.
type Options struct {
	Title string
}

// Writer is a render.Renderer writing the page.
type Writer struct {
	bw    *bufio.Writer
	opts  Options
	arch  string
	start uint64
	hdr   *event.Header
	mech  map[string]string
	count int
	err   error

	threads []thread // in order of first appearance
	seen    map[uint32]int
	wakers  map[uint32]string // names of threads that woke others, for threads without comm
}

type thread struct {
	PID  uint32 `json:"pid"`
	TID  uint32 `json:"tid"`
	Comm string `json:"comm"`
}

// New returns a Writer on w; Close flushes but does not close w.
func New(w io.Writer, opts Options) *Writer {
	mech := make(map[string]string)
	classes := syscalls.Classes()
	for i := len(Mechanisms) - 1; i >= 0; i-- { // the first class listed wins
		for _, name := range classes[Mechanisms[i]] {
			mech[name] = Mechanisms[i]
		}
	}
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), opts: opts, mech: mech, seen: make(map[uint32]int),
		wakers: make(map[uint32]string)}
}

// The page is timeline.html cut at these markers.
const (
	markTitle  = "{{title}}"
	markStyle  = "/*{{style}}*/"
	markEvents = "<!--{{events}}-->"
	markMeta   = "<!--{{meta}}-->"
	markScript = "/*{{script}}*/"
)

func (w *Writer) Header(h *event.Header) error {
	w.hdr, w.start, w.arch = h, h.StartNS, syscalls.GoArch(h.Arch)
	head, _, _ := strings.Cut(page, markEvents)
	head = strings.Replace(head, markTitle, escapeText(w.opts.Title), 1)
	head = strings.Replace(head, markStyle, style, 1)
	w.bw.WriteString(head)
	w.bw.WriteString(`<script id="events" type="application/json">[` + "\n")
	return w.flushErr()
}

// item is one event in the page; keys are short because a page holds many.
type item struct {
	Kind   string   `json:"k"`           // s(yscall) k(ernel) p(rocess) l(ost)
	Seq    uint64   `json:"q,omitempty"` // seq
	T      int64    `json:"t"`           // ns since the start of tracing
	Dur    uint64   `json:"d,omitempty"`
	PID    uint32   `json:"p,omitempty"`
	TID    uint32   `json:"i,omitempty"`
	Name   string   `json:"n"`
	Mech   string   `json:"m,omitempty"`
	Call   string   `json:"c,omitempty"` // syscall: name(args) = result; kernel: key=value …
	Failed bool     `json:"e,omitempty"`
	Open   bool     `json:"u,omitempty"` // never returned
	Cause  uint64   `json:"x,omitempty"`
	Notes  []string `json:"o,omitempty"`
}

func (w *Writer) Event(e event.Event) error {
	c := e.Base()
	it := item{Seq: c.Seq, T: int64(c.TS - w.start), PID: c.PID, TID: c.TID}
	if _, lost := e.(*event.Lost); !lost {
		w.thread(c)
	}
	switch x := e.(type) {
	case *event.Syscall:
		it.Kind, it.Name, it.Dur = "s", x.Name, x.Dur
		it.Mech = w.mech[x.Name]
		if it.Mech == "" {
			it.Mech = "other"
		}
		it.Call = callfmt.Call(x, w.arch) + " = " + callfmt.Result(x, w.arch)
		it.Failed, it.Open, it.Notes = x.Failed(), x.Unfinished, x.Notes
	case *event.Kernel:
		it.Kind, it.Name, it.Cause, it.Notes = "k", x.Name, x.CauseSeq, x.Notes
		if tid, ok := x.Args.Int("waker_tid"); ok && len(w.wakers) < 1<<14 {
			if comm, ok := x.Args.Str("waker_comm"); ok && tid > 0 {
				w.wakers[uint32(tid)] = comm
			}
		}
		it.Call = kernelText(x.Args)
		for _, key := range []string{"off_cpu_ns", "dur_ns"} { // time blocked, or any span
			if n, ok := x.Args.Int(key); ok && n > 0 {
				it.Dur = uint64(n)
				break
			}
		}
	case *event.Process:
		it.Kind, it.Name = "p", callfmt.Process(x)
	case *event.Lost:
		it.Kind, it.Name = "l", fmt.Sprintf("%d events lost", x.Count)
		if x.CPU >= 0 {
			it.Name += fmt.Sprintf(" on CPU %d", x.CPU)
		}
		if x.Reason != "" {
			it.Name += " (" + x.Reason + ")"
		}
		if x.TS == 0 {
			it.T = -1 // counted at the end, no time: the page lists it, not on the axis
		}
	default:
		return nil
	}
	b, err := json.Marshal(it) // escapes <, > and &: safe inside <script>
	if err != nil {
		return fmt.Errorf("encode %s event: %w", e.Kind(), err)
	}
	if w.count > 0 {
		w.bw.WriteString(",\n")
	}
	w.count++
	w.bw.Write(b)
	return w.flushErr()
}

// meta is what the page needs besides the events.
type meta struct {
	Title      string        `json:"title"`
	Command    []string      `json:"command,omitempty"`
	Kernel     string        `json:"kernel"`
	Arch       string        `json:"arch"`
	Version    string        `json:"version"`
	Missing    []string      `json:"missing,omitempty"`
	Notes      []string      `json:"notes,omitempty"`
	WallStart  int64         `json:"wall_start_ns"`
	Threads    []thread      `json:"threads"`
	Mechanisms []string      `json:"mechanisms"`
	Summary    *summaryTable `json:"summary,omitempty"`
}

type summaryTable struct {
	Syscalls  []event.SyscallStat `json:"syscalls"`
	Events    uint64              `json:"events"`
	Lost      uint64              `json:"lost"`
	Duration  uint64              `json:"duration_ns"`
	ExitCode  *int                `json:"exit_code,omitempty"`
	Truncated bool                `json:"truncated,omitempty"`
}

// Close ends the events, writes the threads, summary and script, and flushes.
func (w *Writer) Close(s *event.Summary) error {
	for i, t := range w.threads {
		if t.Comm == "" { // an io-wq worker or kworker: named by the events it woke
			w.threads[i].Comm = w.wakers[t.TID]
		}
	}
	m := meta{Title: w.opts.Title, Threads: w.threads, Mechanisms: append(append([]string(nil), Mechanisms...), "other")}
	if m.Threads == nil {
		m.Threads = []thread{}
	}
	if h := w.hdr; h != nil {
		m.Command, m.Kernel, m.Arch, m.Version = h.Command, h.Kernel, h.Arch, h.Version
		m.Missing, m.Notes = h.MissingProbes, h.Notes
		m.WallStart = int64(h.StartNS) + h.WallClockOffsetNS
	}
	if s != nil {
		m.Summary = &summaryTable{Syscalls: s.Syscalls, Events: s.Events, Lost: s.Lost, Duration: s.DurationNS,
			ExitCode: s.ExitCode, Truncated: s.Truncated}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode page metadata: %w", err)
	}
	_, rest, _ := strings.Cut(page, markEvents)
	mid, tail, _ := strings.Cut(rest, markMeta)
	w.bw.WriteString("\n]</script>")
	w.bw.WriteString(mid)
	w.bw.WriteString(`<script id="meta" type="application/json">`)
	w.bw.Write(b)
	w.bw.WriteString(`</script>`)
	w.bw.WriteString(strings.Replace(tail, markScript, script, 1))
	if err := w.flushErr(); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

func (w *Writer) thread(c *event.Common) {
	if i, ok := w.seen[c.TID]; ok {
		if c.Comm != "" { // the latest name: after exec, the program's
			w.threads[i].Comm, w.threads[i].PID = c.Comm, c.PID
		}
		return
	}
	w.seen[c.TID] = len(w.threads)
	w.threads = append(w.threads, thread{PID: c.PID, TID: c.TID, Comm: c.Comm})
}

// flushErr reports a failed write: bufio keeps the first error and returns it from every
// later Write, so the writes before need no checks of their own.
func (w *Writer) flushErr() error {
	if _, err := w.bw.Write(nil); err != nil && w.err == nil {
		w.err = fmt.Errorf("write html: %w", err)
	}
	return w.err
}

// kernelText writes a kernel event's arguments as key=value pairs, as the text timeline does.
func kernelText(args event.Fields) string {
	var b strings.Builder
	for i, kv := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv.Key)
		b.WriteByte('=')
		writeValue(&b, kv.Val)
	}
	return b.String()
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case event.Fields:
		b.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(kv.Key + "=")
			writeValue(b, kv.Val)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case nil:
		b.WriteString("null")
	default:
		fmt.Fprint(b, x)
	}
}

// escapeText escapes s for HTML text content.
func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
