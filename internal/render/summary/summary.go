// Package summary prints the strace -c style table of a trace and counts the summary of a
// timeline as it streams past.
//
// The table has strace's exact columns, sorted by total time, most first:
//
//	% time     seconds  usecs/call     calls    errors syscall
//	------ ----------- ----------- --------- --------- ----------------
//	 62.50    0.000010           5         2           writev
//	------ ----------- ----------- --------- --------- ----------------
//	100.00    0.000016           3         5         1 total
//
// followed by "lost events: N" whenever N > 0, so nothing is lost silently, and by a remark when
// the summary was recomputed from a recording cut short.
package summary

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

const rule = "------ ----------- ----------- --------- --------- ----------------\n"

// Write prints s as a table.
func Write(w io.Writer, s *event.Summary) error {
	rows := append([]event.SyscallStat(nil), s.Syscalls...)
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.TotalNS != b.TotalNS {
			return a.TotalNS > b.TotalNS
		}
		if a.Calls != b.Calls {
			return a.Calls > b.Calls
		}
		return a.Name < b.Name
	})
	var total event.SyscallStat
	for _, r := range rows {
		total.Calls += r.Calls
		total.Errors += r.Errors
		total.TotalNS += r.TotalNS
	}

	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, "% time     seconds  usecs/call     calls    errors syscall\n")
	fmt.Fprint(bw, rule)
	for _, r := range rows {
		pct := 0.0
		if total.TotalNS > 0 {
			pct = 100 * float64(r.TotalNS) / float64(total.TotalNS)
		}
		writeRow(bw, pct, r, r.Name)
	}
	fmt.Fprint(bw, rule)
	writeRow(bw, 100, total, "total")
	if s.Lost > 0 {
		fmt.Fprintf(bw, "lost events: %d\n", s.Lost)
	}
	writeLost(bw, s.LostBy)
	if s.Truncated {
		fmt.Fprint(bw, "(the recording was cut short: counted from the events it holds)\n")
	}
	writeKernel(bw, s.Kernel)
	if s.Predictions != nil {
		fmt.Fprintln(bw, PredictionLine(s.Predictions))
	}
	return bw.Flush()
}

// PredictionLine counts the workloads' predictions: "predictions: 52 held ✔, 1 did not hold on
// this machine ✘, 2 not measurable here". A ✘ is always counted, never left out.
func PredictionLine(st *event.PredictionStat) string {
	line := fmt.Sprintf("predictions: %d held ✔, %d did not hold on this machine ✘", st.Held, st.Failed)
	if st.Unmeasurable > 0 {
		line += fmt.Sprintf(", %d not measurable here", st.Unmeasurable)
	}
	return line
}

// writeLost says what was lost by kind and CPU: "lost on CPU 0: 120 calls, 3 kernel events".
func writeLost(w io.Writer, by []event.LostStat) {
	for _, l := range by {
		var parts []string
		add := func(n uint64, what string) {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, what))
			}
		}
		add(l.Calls, "calls")
		add(l.KernelEvents, "kernel events")
		add(l.ProcessEvents, "process events")
		add(l.Captures, "entry captures (their calls are recorded, marked capture_lost)")
		add(l.Missed, "events skipped by the kernel while another BPF program ran (machine-wide)")
		if len(parts) == 0 {
			continue
		}
		where := fmt.Sprintf("  on CPU %d: ", l.CPU)
		if l.CPU < 0 {
			where = "  "
		}
		fmt.Fprintf(w, "%s%s\n", where, strings.Join(parts, ", "))
	}
}

// writeRow follows strace's "%6.2f %11.6f %11lu %9u %9.u %s": a zero error count is blank.
func writeRow(w io.Writer, pct float64, r event.SyscallStat, name string) {
	var perCall uint64
	if r.Calls > 0 {
		perCall = r.TotalNS / 1000 / r.Calls
	}
	errs := ""
	if r.Errors > 0 {
		errs = fmt.Sprint(r.Errors)
	}
	fmt.Fprintf(w, "%6.2f %11.6f %11d %9d %9s %s\n",
		pct, float64(r.TotalNS)/1e9, perCall, r.Calls, errs, name)
}

// Counter accumulates a Summary from a stream of events: what a recording cut short lost, and
// what a live session hands to Close. The zero value is ready to use.
type Counter struct {
	events, lost uint64
	stats        map[string]*event.SyscallStat
	kernel       map[string]*kernelAcc
	start, end   uint64
	started      bool
}

// Start sets the time the duration is measured from (the header's StartNS); without it, the
// first event's time is used.
func (c *Counter) Start(ns uint64) {
	c.start, c.started = ns, true
}

// Add counts e. A prediction's verdict is no traced event: it is not counted.
func (c *Counter) Add(e event.Event) {
	if _, ok := e.(*event.Prediction); ok {
		return
	}
	c.events++
	base := e.Base()
	if !c.started {
		c.Start(base.TS)
	}
	end := base.TS
	switch x := e.(type) {
	case *event.Syscall:
		if c.stats == nil {
			c.stats = make(map[string]*event.SyscallStat)
		}
		st := c.stats[x.Name]
		if st == nil {
			st = &event.SyscallStat{Name: x.Name}
			c.stats[x.Name] = st
		}
		st.Calls++
		st.TotalNS += x.Dur
		if x.Failed() {
			st.Errors++
		}
		end += x.Dur
	case *event.Lost:
		c.lost += x.Count
	case *event.Kernel:
		c.addKernel(x)
	}
	if end > c.end {
		c.end = end
	}
}

// Summary returns what was counted, syscalls sorted by name. ExitCode is left nil: only the
// session knows which process is the target.
func (c *Counter) Summary() *event.Summary {
	s := &event.Summary{Events: c.events, Lost: c.lost, Syscalls: []event.SyscallStat{}}
	for _, st := range c.stats {
		s.Syscalls = append(s.Syscalls, *st)
	}
	sort.Slice(s.Syscalls, func(i, j int) bool { return s.Syscalls[i].Name < s.Syscalls[j].Name })
	s.Kernel = c.kernelStats()
	if c.end > c.start {
		s.DurationNS = c.end - c.start
	}
	return s
}
