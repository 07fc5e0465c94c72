// Package filter decides which events of a recorded timeline `iotrace show` prints: by thread,
// process, syscall set (-e, as `trace` takes it), time window, failure and kernel event name.
//
// A kernel event follows the syscall that caused it (cause_seq) when that syscall has been seen:
// `--tid 5 -e read` keeps the page-cache fills a read on thread 5 caused even when a kworker ran
// them, and drops those of the calls it hides; `--pid KWORKER` shows the kworker's own work. Lost-event counts are kept under every filter but
// the time window, so nothing is hidden silently.
package filter

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Options are the filters as the command line spells them.
type Options struct {
	TIDs  []string // thread ids; each entry may hold a comma-separated list
	PIDs  []string // process (thread group) ids
	Exprs []string // -e expressions, strace syntax
	// Since and Until bound the window, relative to the start of tracing: "1.5s", "200ms", or
	// a bare number of seconds as the text timeline prints them ("0.0042").
	Since, Until string
	Failed       bool
	// KernelEvents lists the kernel event names to keep, comma-separated, with shell-style
	// patterns ("mm_filemap_*") and the groups of KernelGroups; "all" (or empty) keeps all,
	// "none" hides them. Names are not checked against a catalogue: a recording may come from
	// another iotrace.
	KernelEvents string
	// KernelGroups maps a group name (block, filemap, sched …) to the event names it stands for.
	KernelGroups map[string][]string
}

// Filter is a parsed Options bound to one recording. The zero value keeps everything.
type Filter struct {
	tids, pids   map[uint32]bool // nil: any
	syscalls     *syscalls.Filter
	start        uint64
	since, until uint64 // ns after start; until 0: no bound
	hasUntil     bool
	failed       bool
	kernel       []string // patterns; nil: all
	noKernel     bool

	// causes remembers what was decided for recent syscalls, so their kernel events follow.
	causes decisions
}

// New parses o for the recording h describes: -e names are checked against the syscall table
// of the recording's arch, and times are relative to its start.
func New(o Options, h *event.Header) (*Filter, error) {
	f := &Filter{start: h.StartNS, failed: o.Failed}
	var err error
	if f.tids, err = parseIDs("--tid", o.TIDs); err != nil {
		return nil, err
	}
	if f.pids, err = parseIDs("--pid", o.PIDs); err != nil {
		return nil, err
	}
	if len(o.Exprs) > 0 {
		t, err := syscalls.ForArch(h.Arch)
		if err != nil {
			return nil, fmt.Errorf("-e: %w", err)
		}
		if f.syscalls, err = syscalls.ParseFilter(t, o.Exprs); err != nil {
			return nil, err
		}
	}
	if o.Since != "" {
		if f.since, err = parseOffset("--since", o.Since); err != nil {
			return nil, err
		}
	}
	if o.Until != "" {
		if f.until, err = parseOffset("--until", o.Until); err != nil {
			return nil, err
		}
		f.hasUntil = true
		if f.until < f.since {
			return nil, fmt.Errorf("--until %s is before --since %s", o.Until, o.Since)
		}
	}
	if err := f.parseKernel(o.KernelEvents, o.KernelGroups); err != nil {
		return nil, err
	}
	return f, nil
}

// IsZero reports whether the filter keeps every event, so a caller can keep the recording's
// own summary instead of recounting.
func (f *Filter) IsZero() bool {
	return f.tids == nil && f.pids == nil && (f.syscalls == nil || f.syscalls.All()) &&
		f.since == 0 && !f.hasUntil && !f.failed && f.kernel == nil && !f.noKernel
}

// Keep reports whether e is shown. Call it on every event in recording order: a syscall's
// verdict is remembered for the kernel events it caused.
func (f *Filter) Keep(e event.Event) bool {
	c := e.Base()
	switch x := e.(type) {
	case *event.Lost:
		return c.TS == 0 || f.inWindow(c.TS)
	case *event.Syscall:
		v := verdict{task: f.task(c), call: (f.syscalls == nil || f.syscalls.MatchName(x.Name)) && (!f.failed || x.Failed())}
		f.causes.put(c.Seq, v)
		return v.task && v.call && f.inWindow(c.TS)
	case *event.Kernel:
		if f.noKernel || !f.kernelName(x.Name) || !f.inWindow(c.TS) {
			return false
		}
		if x.CauseSeq != 0 {
			if v, seen := f.causes.get(x.CauseSeq); seen {
				// The work of a shown call, on whatever thread it ran, and the work on a thread
				// asked for, unless -e or --failed hides the call behind it.
				return v.call && (v.task || f.task(c))
			}
		}
		// Not caused by a syscall seen so far: only its own thread speaks for it, and it
		// cannot be evidence of a failure.
		return f.task(c) && !f.failed
	}
	// process events, as strace prints exits whatever -e and -Z select
	return f.task(c) && f.inWindow(c.TS)
}

func (f *Filter) task(c *event.Common) bool {
	return (f.tids == nil || f.tids[c.TID]) && (f.pids == nil || f.pids[c.PID])
}

func (f *Filter) inWindow(ts uint64) bool {
	if ts < f.start {
		return f.since == 0 // before tracing started (attach): only an unbounded window has it
	}
	rel := ts - f.start
	return rel >= f.since && (!f.hasUntil || rel <= f.until)
}

func (f *Filter) kernelName(name string) bool {
	if f.kernel == nil {
		return true
	}
	for _, p := range f.kernel {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func (f *Filter) parseKernel(list string, groups map[string][]string) error {
	switch strings.TrimSpace(list) {
	case "", "all":
		return nil
	case "none":
		f.noKernel = true
		return nil
	}
	f.kernel = []string{}
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return fmt.Errorf("--kernel-events %q: empty name", list)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("--kernel-events: bad pattern %q", p)
		}
		if p == "all" || p == "none" {
			return fmt.Errorf("--kernel-events: %q cannot be combined with names", p)
		}
		if names, ok := groups[p]; ok {
			f.kernel = append(f.kernel, names...)
			continue
		}
		f.kernel = append(f.kernel, p)
	}
	return nil
}

func parseIDs(flag string, lists []string) (map[uint32]bool, error) {
	if len(lists) == 0 {
		return nil, nil
	}
	ids := make(map[uint32]bool)
	for _, list := range lists {
		for _, s := range strings.Split(list, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
			if err != nil || n == 0 {
				return nil, fmt.Errorf("%s %q: want a positive thread or process id", flag, s)
			}
			ids[uint32(n)] = true
		}
	}
	return ids, nil
}

// parseOffset reads a time since the start: a Go duration ("1.5s", "200ms", "3us") or a bare
// number of seconds.
func parseOffset(flag, s string) (uint64, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return 0, fmt.Errorf("%s %q: want a time since the start such as 1.5s, 200ms or 0.25", flag, s)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 {
		return 0, fmt.Errorf("%s %q: times count from the start of tracing and cannot be negative", flag, s)
	}
	return uint64(d), nil
}

// maxDecisions bounds the syscalls remembered for their kernel events: kernel work is
// attributed to a call in flight or just finished, never to one thousands of events back.
const maxDecisions = 1 << 14

// verdict is what was decided for a syscall: whether its thread and the call itself pass.
type verdict struct{ task, call bool }

// decisions is a bounded map from syscall seq to its verdict, forgetting the oldest.
type decisions struct {
	m    map[uint64]verdict
	ring []uint64
	next int
}

func (d *decisions) put(seq uint64, v verdict) {
	if d.m == nil {
		d.m = make(map[uint64]verdict)
		d.ring = make([]uint64, 0, maxDecisions)
	}
	if len(d.ring) < maxDecisions {
		d.ring = append(d.ring, seq)
	} else {
		delete(d.m, d.ring[d.next])
		d.ring[d.next] = seq
		d.next = (d.next + 1) % maxDecisions
	}
	d.m[seq] = v
}

func (d *decisions) get(seq uint64) (verdict, bool) {
	v, seen := d.m[seq]
	return v, seen
}
