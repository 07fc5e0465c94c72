// Package diff compares two recorded timelines — the same workload with and without
// posix_fadvise, buffered against O_DIRECT — by what they add up to: calls and time per syscall,
// and per kernel event its count and the sums of its additive arguments (pages, sectors, bytes,
// time off CPU). Two profiles accumulate as the recordings stream past; Write prints them side by
// side with the change from A to B.
package diff

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render/summary"
)

// Additive are the kernel event arguments whose sums mean something: amounts, not positions
// (an index or a sector number summed is noise). "pages" is also counted for events that give a
// folio's order instead (page-cache fills and evictions: 2^order pages each).
var Additive = []string{"pages", "nr_pages", "nr_to_read", "nr_sector", "bytes", "size", "off_cpu_ns", "dur_ns"}

// Profile is one recording added up.
type Profile struct {
	Name    string // how the table names it: the file
	Command []string
	counter summary.Counter
	kernel  map[string]*kernelStat
}

type kernelStat struct {
	count uint64
	sums  map[string]int64
}

// NewProfile starts a profile of the recording whose header is h.
func NewProfile(name string, h *event.Header) *Profile {
	p := &Profile{Name: name, Command: h.Command, kernel: make(map[string]*kernelStat)}
	p.counter.Start(h.StartNS)
	return p
}

// Add counts e.
func (p *Profile) Add(e event.Event) {
	p.counter.Add(e)
	k, ok := e.(*event.Kernel)
	if !ok {
		return
	}
	st := p.kernel[k.Name]
	if st == nil {
		st = &kernelStat{sums: make(map[string]int64)}
		p.kernel[k.Name] = st
	}
	st.count++
	for _, key := range Additive {
		if n, ok := k.Args.Int(key); ok {
			st.sums[key] += n
		}
	}
	_, hasPages := k.Args.Get("pages")
	_, hasNr := k.Args.Get("nr_pages")
	if order, ok := k.Args.Int("order"); ok && !hasPages && !hasNr && order >= 0 && order < 31 {
		st.sums["pages"] += 1 << order
	}
}

// Write prints A and B side by side:
//
//	A: with.jsonl (./fadvise-demo): 61 events, 0.005490 s
//	B: without.jsonl (./fadvise-demo): 64 events, 0.005490 s
//
//	syscall     calls A   calls B   Δ calls    seconds A    seconds B    Δ seconds
//	readv             1         1         0     0.000003     0.000061    +0.000057
//	fadvise64         1         0        -1     0.000052     0.000000    -0.000052
//	total             2         1        -1     0.000055     0.000061    +0.000005
//
//	kernel event                            A            B            Δ
//	mm_filemap_add_to_page_cache            4            8           +4
//	  pages                                 4            8           +4
//	block_rq_issue                          2            1           -1
//	  bytes                             16384        32768       +16384
//
// Syscalls are sorted by how much their time changed, most first; kernel events by how much
// their count changed. Error columns appear when either recording has failed calls.
func Write(w io.Writer, a, b *Profile) error {
	sa, sb := a.counter.Summary(), b.counter.Summary()
	bw := bufio.NewWriter(w)
	for _, x := range []struct {
		tag string
		p   *Profile
		s   *event.Summary
	}{{"A", a, sa}, {"B", b, sb}} {
		fmt.Fprintf(bw, "%s: %s", x.tag, x.p.Name)
		if len(x.p.Command) > 0 {
			fmt.Fprintf(bw, " (%s)", strings.Join(x.p.Command, " "))
		}
		fmt.Fprintf(bw, ": %d events, %s s", x.s.Events, secs(x.s.DurationNS))
		if x.s.Lost > 0 {
			fmt.Fprintf(bw, ", %d lost", x.s.Lost)
		}
		bw.WriteString("\n")
	}
	bw.WriteString("\n")
	writeSyscalls(bw, sa, sb)
	writeKernel(bw, a, b)
	return bw.Flush()
}

func writeSyscalls(w io.Writer, sa, sb *event.Summary) {
	type row struct {
		name string
		a, b event.SyscallStat
	}
	byName := map[string]*row{}
	get := func(name string) *row {
		r := byName[name]
		if r == nil {
			r = &row{name: name}
			byName[name] = r
		}
		return r
	}
	errors := false
	for _, s := range sa.Syscalls {
		get(s.Name).a = s
		errors = errors || s.Errors > 0
	}
	for _, s := range sb.Syscalls {
		get(s.Name).b = s
		errors = errors || s.Errors > 0
	}
	rows := make([]*row, 0, len(byName))
	var total row
	total.name = "total"
	for _, r := range byName {
		rows = append(rows, r)
		total.a.Calls += r.a.Calls
		total.b.Calls += r.b.Calls
		total.a.Errors += r.a.Errors
		total.b.Errors += r.b.Errors
		total.a.TotalNS += r.a.TotalNS
		total.b.TotalNS += r.b.TotalNS
	}
	sort.Slice(rows, func(i, j int) bool {
		di, dj := absDiff(rows[i].a.TotalNS, rows[i].b.TotalNS), absDiff(rows[j].a.TotalNS, rows[j].b.TotalNS)
		if di != dj {
			return di > dj
		}
		ci, cj := absDiff(rows[i].a.Calls, rows[i].b.Calls), absDiff(rows[j].a.Calls, rows[j].b.Calls)
		if ci != cj {
			return ci > cj
		}
		return rows[i].name < rows[j].name
	})
	width := len("syscall")
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	line := func(name string, cells ...string) {
		fmt.Fprintf(w, "%-*s", width, name)
		for i, c := range cells {
			if i >= 3 && i < 6 && !errors {
				continue
			}
			n := 10
			if i >= 6 {
				n = 13
			}
			io.WriteString(w, pad(c, n))
		}
		fmt.Fprintln(w)
	}
	cells := func(r *row) []string {
		return []string{
			u(r.a.Calls), u(r.b.Calls), delta(int64(r.b.Calls) - int64(r.a.Calls)),
			u(r.a.Errors), u(r.b.Errors), delta(int64(r.b.Errors) - int64(r.a.Errors)),
			secs(r.a.TotalNS), secs(r.b.TotalNS), signedSecs(int64(r.b.TotalNS) - int64(r.a.TotalNS)),
		}
	}
	line("syscall", "calls A", "calls B", "Δ calls", "errors A", "errors B", "Δ errors", "seconds A", "seconds B", "Δ seconds")
	for _, r := range rows {
		line(r.name, cells(r)...)
	}
	line("total", cells(&total)...)
}

func writeKernel(w io.Writer, a, b *Profile) {
	names := map[string]bool{}
	for n := range a.kernel {
		names[n] = true
	}
	for n := range b.kernel {
		names[n] = true
	}
	if len(names) == 0 {
		fmt.Fprintln(w, "\nno kernel events in either recording")
		return
	}
	stat := func(p *Profile, name string) *kernelStat {
		if st := p.kernel[name]; st != nil {
			return st
		}
		return &kernelStat{}
	}
	sorted := make([]string, 0, len(names))
	width := len("kernel event")
	for n := range names {
		sorted = append(sorted, n)
		width = max(width, len(n))
	}
	sort.Slice(sorted, func(i, j int) bool {
		x, y := sorted[i], sorted[j]
		dx, dy := absDiff(stat(a, x).count, stat(b, x).count), absDiff(stat(a, y).count, stat(b, y).count)
		if dx != dy {
			return dx > dy
		}
		return x < y
	})
	row := func(name string, va, vb int64) {
		fmt.Fprintf(w, "%-*s%13d%13d%s\n", width, name, va, vb, pad(delta(vb-va), 13))
	}
	fmt.Fprintf(w, "\n%-*s%13s%13s%s\n", width, "kernel event", "A", "B", pad("Δ", 13))
	for _, n := range sorted {
		sa, sb := stat(a, n), stat(b, n)
		row(n, int64(sa.count), int64(sb.count))
		for _, key := range Additive {
			va, okA := sa.sums[key]
			vb, okB := sb.sums[key]
			if okA || okB {
				row("  "+key, va, vb)
			}
		}
	}
}

// pad right-aligns s in n columns, counting runes: "Δ" is one column, two bytes.
func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return strings.Repeat(" ", n-k) + s
	}
	return " " + s
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }

func delta(n int64) string {
	if n > 0 {
		return "+" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func secs(ns uint64) string { return fmt.Sprintf("%d.%06d", ns/1e9, ns%1e9/1e3) }

func signedSecs(ns int64) string {
	switch {
	case ns > 0:
		return "+" + secs(uint64(ns))
	case ns < 0:
		return "-" + secs(uint64(-ns))
	}
	return secs(0)
}
