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
	if s.Truncated {
		fmt.Fprint(bw, "(the recording was cut short: counted from the events it holds)\n")
	}
	writeKernel(bw, s.Kernel)
	return bw.Flush()
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

// Add counts e.
func (c *Counter) Add(e event.Event) {
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
