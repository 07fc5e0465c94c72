package main

import (
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
)

// storm is one sysload mode.
type storm struct {
	n       int64  // iterations of a full run (untraced about 0.3-0.7 s on a 2-vCPU VM)
	perIter int64  // syscalls per iteration
	primary string // the syscall every iteration makes exactly once, to count deliveries
}

// The lengths are those of shared/bench/anchors.py, so the rows compare with its table.
var storms = map[string]storm{
	"writev": {3_000_000, 1, "writev"},
	"pread":  {2_000_000, 1, "pread64"},
	"epoll":  {800_000, 3, "epoll_wait"},
	"mixed":  {500_000, 5, "epoll_wait"},
}

func modeNames() []string { return []string{"writev", "pread", "epoll", "mixed"} }

// tracer is one way of tracing the storm. Slow tracers run a storm div times shorter (its
// untraced twin runs the same length), so that a full run stays within minutes.
type tracer struct {
	name string
	div  int64
	argv func(b *bench, cmd []string) []string
	// how iotrace's losses are read: from its recording (raw) or its summary table on stderr;
	// the others report no loss we can read.
	countsLost, raw bool
}

var tracerNames = []string{"iotrace", "iotrace-live", "rbref", "bpftrace", "strace"}

// iotraceArgs is the configuration under test: default settings, every capture, the records
// written raw to output (FILE.iotrace), as perf record does; the decoding is `iotrace show`'s,
// after the run (recordingSummary). A live JSON Lines run is a row of its own (iotraceLive).
func iotraceArgs(b *bench, output string, cmd []string) []string {
	return append([]string{b.cfg.iotrace, "trace", "--format", "none", "-o", output, "--"}, cmd...)
}

// iotraceLive decodes, annotates and encodes JSON Lines while the target runs (a complete
// pipeline reading the recording back), with the summary table on stderr.
func iotraceLive(b *bench, cmd []string) []string {
	return append([]string{b.cfg.iotrace, "trace", "--format", "jsonl", "--summary", "-o", "/dev/null", "--"}, cmd...)
}

func (b *bench) tracers() (use []tracer, skipped []string) {
	all := map[string]tracer{
		"iotrace": {"iotrace record", 1, func(b *bench, cmd []string) []string {
			return iotraceArgs(b, b.recordPath(), cmd)
		}, true, true},
		"iotrace-live": {"iotrace jsonl", 1, iotraceLive, true, false},
		// the floor: a minimal C + libbpf capture with batched wakeups
		"rbref": {"rbref batched", 1, func(b *bench, cmd []string) []string {
			return append([]string{b.cfg.rbref, "-b", "-o", "/dev/null", "--"}, cmd...)
		}, false, false},
		"bpftrace": {"bpftrace printf", 10, func(b *bench, cmd []string) []string {
			return []string{"bpftrace", "-o", "/dev/null", "-c", strings.Join(cmd, " "), b.h.captureBT}
		}, false, false},
		"strace": {"strace", 30, func(b *bench, cmd []string) []string {
			return append([]string{"strace", "-f", "-qq", "-o", "/dev/null"}, cmd...)
		}, false, false},
	}
	for _, name := range b.cfg.tracers {
		t := all[name]
		switch name {
		case "rbref":
			if b.cfg.rbref == "" {
				skipped = append(skipped, "rbref (no -rbref)")
				continue
			}
		case "bpftrace", "strace":
			if _, err := exec.LookPath(name); err != nil {
				skipped = append(skipped, name+" (not installed)")
				continue
			}
		}
		use = append(use, t)
	}
	return use, skipped
}

// overheadRow is one mode under one tracer.
type overheadRow struct {
	mode, tracer     string
	n                int64
	baseNS, tracedNS float64 // per syscall, median loop time
	loopX, wallX     float64 // medians of the pair ratios
	cpuX             float64
	lost, missing    int64 // -1: the tracer does not say
	other            float64
}

func (b *bench) overhead() error {
	ts, skipped := b.tracers()
	b.printf("\n## Overhead: traced ÷ untraced, median of %d interleaved pairs\n", b.cfg.runs)
	b.printf("(loop = the storm's own loop time, start-up excluded; wall and cpu = the whole process tree;\n")
	b.printf(" iotrace record: %s, decoded after the run by iotrace show;\n", strings.Join(iotraceArgs(b, "FILE.iotrace", []string{"CMD"}), " "))
	b.printf(" iotrace jsonl: %s)\n", strings.Join(iotraceLive(b, []string{"CMD"}), " "))
	if len(skipped) > 0 {
		b.printf("(skipped: %s)\n", strings.Join(skipped, ", "))
	}
	b.printf("\n%-7s %-16s %9s %9s %9s %8s %8s %8s %9s %8s %6s\n",
		"mode", "tracer", "N", "base ns", "traced ns", "loop x", "wall x", "cpu x", "lost", "missing", "other")
	b.printf("%s\n", strings.Repeat("-", 102))
	for _, mode := range b.cfg.modes {
		for _, t := range ts {
			r, err := b.overheadRow(mode, t)
			if err != nil {
				return err
			}
			b.printf("%-7s %-16s %9d %9.0f %9.0f %8.2f %8.2f %8.2f %9s %8s %5.2f%s\n",
				r.mode, r.tracer, r.n, r.baseNS, r.tracedNS, r.loopX, r.wallX, r.cpuX,
				countOrDash(r.lost), countOrDash(r.missing), r.other, noiseMark(r.other))
		}
	}
	b.printf("(lost: iotrace's summary, summed over the runs; missing: storm calls neither delivered nor counted lost;\n")
	b.printf(" other: cores used by processes outside the bench during the row, '*' above %.2f: compare such rows with care)\n", noisyCores)
	return nil
}

func (b *bench) overheadRow(mode string, t tracer) (overheadRow, error) {
	s := storms[mode]
	n := max(1, s.n/t.div/b.cfg.scale)
	cmd := []string{b.h.sysload, mode, strconv.FormatInt(n, 10), "-t"}
	row := overheadRow{mode: mode, tracer: t.name, n: n, lost: -1, missing: -1}
	if t.countsLost {
		row.lost, row.missing = 0, 0
	}
	var loopX, wallX, cpuX, traced, base []float64
	nz := startNoise()
	for i := 0; i < b.cfg.runs; i++ {
		a, err := b.exec(t.argv(b, cmd), runOpts{})
		if err != nil {
			return row, err
		}
		u, err := b.exec(cmd, runOpts{})
		if err != nil {
			return row, err
		}
		nz.add(a)
		nz.add(u)
		la, okA := loopNS(a.stderr)
		lu, okU := loopNS(u.stderr)
		if !okA || !okU {
			return row, fmt.Errorf("%s %s: no loop_ns line from sysload", mode, t.name)
		}
		loopX = append(loopX, float64(la)/float64(lu))
		wallX = append(wallX, a.wall.Seconds()/u.wall.Seconds())
		cpuX = append(cpuX, a.cpu.Seconds()/math.Max(u.cpu.Seconds(), 1e-3))
		traced = append(traced, float64(la))
		base = append(base, float64(lu))
		if t.countsLost {
			sum, ok := parseSummaryTable(a.stderr)
			if t.raw {
				var err error
				if sum, err = b.recordingSummary(b.recordPath()); err != nil {
					return row, fmt.Errorf("%s %s: %w", mode, t.name, err)
				}
				ok = true
			}
			if !ok {
				return row, fmt.Errorf("%s %s: iotrace printed no summary table:\n%s", mode, t.name, tail(a.stderr, 2000))
			}
			row.lost += int64(sum.lost)
			if got := int64(sum.calls[s.primary]); got < n {
				row.missing += max(0, n-got-int64(sum.lost))
			}
		}
	}
	calls := float64(n * s.perIter)
	row.baseNS = median(base) / calls
	row.tracedNS = median(traced) / calls
	row.loopX, row.wallX, row.cpuX = median(loopX), median(wallX), median(cpuX)
	row.other = nz.other()
	return row, nil
}

func countOrDash(v int64) string {
	if v < 0 {
		return "-"
	}
	return strconv.FormatInt(v, 10)
}
