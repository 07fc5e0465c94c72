package predict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// evidence is one variant's part of the timeline, indexed for the checks.
type evidence struct {
	hdr     *event.Header
	variant string
	calls   []*event.Syscall // in time order
	kernel  []*event.Kernel  // in time order
	caused  map[uint64][]*event.Kernel
	kinds   map[string]int // kernel events seen, by name
	lost    uint64         // events lost (or skipped by a live view) inside the variant
	cut     bool           // the variant's end is not in the trace
}

func newEvidence(h *event.Header, s *segment) *evidence {
	ev := &evidence{hdr: h, variant: s.v.Name, caused: map[uint64][]*event.Kernel{}, kinds: map[string]int{}, cut: s.cut}
	for _, e := range s.events {
		switch x := e.(type) {
		case *event.Syscall:
			ev.calls = append(ev.calls, x)
		case *event.Kernel:
			ev.kernel = append(ev.kernel, x)
			ev.kinds[x.Name]++
			if x.CauseSeq != 0 {
				ev.caused[x.CauseSeq] = append(ev.caused[x.CauseSeq], x)
			}
		case *event.Lost:
			ev.lost += weakening(x)
		}
	}
	// calls arrive when they return: order them by when they began
	slices.SortStableFunc(ev.calls, func(a, b *event.Syscall) int { return cmp(a.TS, b.TS) })
	slices.SortStableFunc(ev.kernel, func(a, b *event.Kernel) int { return cmp(a.TS, b.TS) })
	return ev
}

func cmp(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// weakening is how many of a loss record's events may have been evidence of the variant: calls,
// kernel events, captures and process events lost, or all that a live view skipped. Misses
// are not counted: they are machine-wide counts of events raised while another BPF program
// ran — mostly page faults inside iotrace's own programs as they read user memory.
func weakening(l *event.Lost) uint64 {
	if l.ViewOnly {
		return l.Count
	}
	return l.Calls + l.KernelEvents + l.Captures + l.ProcessEvents
}

// missing says why the kernel event cannot be in this trace ("" when it can): the kernel lacks
// its tracepoint (the header's missing probes), the run did not trace it (--kernel-events), or
// the run recorded no kernel events. name may list the names a tracepoint has had, "a|b".
func (ev *evidence) missing(name string) string {
	names := strings.Split(name, "|")
	for _, n := range names {
		if ev.kinds[n] > 0 {
			return "" // seen (a substitute source may stand in for a missing tracepoint)
		}
	}
	if ev.hdr != nil {
		for _, m := range ev.hdr.MissingProbes {
			probe, _, _ := strings.Cut(m, " ")
			if _, n, _ := strings.Cut(probe, ":"); slices.Contains(names, n) {
				return fmt.Sprintf("not measurable here: this kernel has no %s tracepoint", n)
			}
		}
		if k := ev.hdr.KernelEvents; len(k) > 0 && !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(k, n) }) {
			return fmt.Sprintf("not measurable here: the run did not trace %s (--kernel-events)", names[0])
		}
	}
	if len(ev.kernel) == 0 {
		return "not measurable here: the trace of this variant has no kernel events (--kernel-events none?)"
	}
	return ""
}

// untraced returns those of names the run's -e left out (its header's filter): their absence
// from the trace proves nothing.
func (ev *evidence) untraced(names ...string) []string {
	if ev.hdr == nil || ev.hdr.Filter == "" {
		return nil
	}
	t, err := syscalls.ForArch(syscalls.GoArch(ev.hdr.Arch))
	if err != nil {
		return nil
	}
	f, err := syscalls.ParseFilter(t, []string{ev.hdr.Filter})
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		if _, ok := t.Nr(n); ok && !f.MatchName(n) {
			out = append(out, n)
		}
	}
	return out
}

// Names a syscall has on one architecture or another.
var (
	fadviseCalls   = []string{"fadvise64", "fadvise64_64"}
	dup2Calls      = []string{"dup2", "dup3"}
	epollWaitCalls = []string{"epoll_wait", "epoll_pwait", "epoll_pwait2"}
	pollCalls      = []string{"poll", "ppoll"}
)

// named returns the calls with one of names for which keep holds (nil: all).
func (ev *evidence) named(keep func(*event.Syscall) bool, names ...string) []*event.Syscall {
	var out []*event.Syscall
	for _, s := range ev.calls {
		if slices.Contains(names, s.Name) && (keep == nil || keep(s)) {
			out = append(out, s)
		}
	}
	return out
}

// on returns a filter for calls whose descriptor argument key names the variant's file.
func (ev *evidence) on(key, file string) func(*event.Syscall) bool {
	return func(s *event.Syscall) bool { return ev.isFile(path(s, key), file) }
}

// isFile reports whether p is the variant's file (in the variant's own directory).
func (ev *evidence) isFile(p, file string) bool {
	return file != "" && strings.HasSuffix(p, "/"+ev.variant+"/"+file)
}

// path is what the decoded argument key names (a descriptor's file, a path).
func path(s *event.Syscall, key string) string {
	p, _ := s.Decoded.Str(key)
	return p
}

// fileID is the open-file identity of descriptor argument key (-1: unknown).
func fileID(s *event.Syscall, key string) int64 {
	if id, ok := s.Decoded.Int(key + "_file"); ok {
		return id
	}
	return -1
}

// arg is a raw argument as a signed number.
func arg(s *event.Syscall, name string) int64 {
	v, _ := s.Arg(name)
	return int64(v)
}

// str is a decoded argument as text.
func str(s *event.Syscall, key string) string {
	v, _ := s.Decoded.Str(key)
	return v
}

// objects is a decoded array of objects (iovecs, epoll events, iocbs).
func objects(s *event.Syscall, key string) []event.Fields {
	v, _ := s.Decoded.Get(key)
	arr, _ := v.([]any)
	var out []event.Fields
	for _, x := range arr {
		if f, ok := x.(event.Fields); ok {
			out = append(out, f)
		}
	}
	return out
}

// hasFlag reports whether a decoded flag set ("A|B") holds flag.
func hasFlag(flags, flag string) bool {
	return slices.Contains(strings.Split(flags, "|"), flag)
}

func end(s *event.Syscall) uint64 { return s.TS + s.Dur }

// causedBy returns the kernel events the call caused, named one of names (none: all).
func (ev *evidence) causedBy(s *event.Syscall, names ...string) []*event.Kernel {
	var out []*event.Kernel
	for _, k := range ev.caused[s.Seq] {
		if len(names) == 0 || slices.Contains(names, k.Name) {
			out = append(out, k)
		}
	}
	return out
}

// kernelOn returns the kernel events named name on the file with inode ino (i_ino or ino in
// the event), from..until in time.
func (ev *evidence) kernelOn(name string, ino int64, from, until uint64) []*event.Kernel {
	var out []*event.Kernel
	for _, k := range ev.kernel {
		if k.Name != name || k.TS < from || k.TS > until || ino <= 0 {
			continue
		}
		i, ok := k.Args.Int("i_ino")
		if !ok {
			i, _ = k.Args.Int("ino")
		}
		if i == ino {
			out = append(out, k)
		}
	}
	return out
}

// ino is the inode of the file behind descriptor argument key, as the annotator knew it (0:
// unknown).
func ino(s *event.Syscall, key string) int64 {
	i, _ := s.Decoded.Int(key + "_ino")
	return i
}

// pages sums the pages of page-cache events: a folio of order n is 2^n pages.
func pages(ks []*event.Kernel) int64 {
	var n int64
	for _, k := range ks {
		order, _ := k.Args.Int("order")
		n += 1 << max(order, 0)
	}
	return n
}

// pastEnd counts the pages page-cache events cover at index first or later: past the end of a
// file of first pages (a read at end of file caches one there on 5.15).
func pastEnd(ks []*event.Kernel, first int64) int64 {
	var n int64
	for _, k := range ks {
		idx, _ := k.Args.Int("index")
		order, _ := k.Args.Int("order")
		if end := idx + 1<<max(order, 0); end > first {
			n += end - max(idx, first)
		}
	}
	return n
}

// seqs are the events' seq numbers, for the record's evidence.
func seqs(calls ...*event.Syscall) []uint64 {
	var out []uint64
	for _, s := range calls {
		if s != nil && s.Seq != 0 {
			out = append(out, s.Seq)
		}
	}
	return out
}

// filePages is the size in pages of the file behind descriptor argument key, as the annotator
// knew it (0: unknown).
func filePages(s *event.Syscall, key string) int64 {
	size, ok := s.Decoded.Int(key + "_size")
	if !ok || size <= 0 {
		return 0
	}
	return (size + 4095) / 4096
}
