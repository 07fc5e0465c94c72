package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	loopRe   = regexp.MustCompile(`loop_ns=(\d+)`)
	stampRe  = regexp.MustCompile(`STAMP (\d+)`)
	pacedRe  = regexp.MustCompile(`paced rate=\d+ threads=\d+ calls=(\d+) secs=([\d.]+) achieved_per_s=(\d+) self_cpu_s=([\d.]+)`)
	lostRe   = regexp.MustCompile(`(?m)^lost events: (\d+)$`)
	sumRowRe = regexp.MustCompile(`(?m)^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\S+)$`)
)

// loopNS is sysload's own loop time (its -t line), which leaves a tracer's start-up out.
func loopNS(stderr string) (int64, bool) {
	m := loopRe.FindStringSubmatch(stderr)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	return v, err == nil
}

// stampNS is the CLOCK_MONOTONIC time stamp printed at its start.
func stampNS(stderr string) (uint64, bool) {
	m := stampRe.FindStringSubmatch(stderr)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseUint(m[1], 10, 64)
	return v, err == nil
}

// pacedLine is paced's final report.
type pacedLine struct {
	calls    uint64
	secs     float64
	achieved float64 // calls per second
	selfCPU  float64 // seconds
}

func parsePaced(stderr string) (pacedLine, bool) {
	m := pacedRe.FindStringSubmatch(stderr)
	if m == nil {
		return pacedLine{}, false
	}
	var p pacedLine
	p.calls, _ = strconv.ParseUint(m[1], 10, 64)
	p.secs, _ = strconv.ParseFloat(m[2], 64)
	p.achieved, _ = strconv.ParseFloat(m[3], 64)
	p.selfCPU, _ = strconv.ParseFloat(m[4], 64)
	return p, true
}

// traceSummary is what iotrace said at the end of a run: calls per syscall and lost events.
type traceSummary struct {
	calls map[string]uint64
	total uint64 // calls of every syscall
	lost  uint64
}

// parseSummaryTable reads the strace -c style table that `iotrace trace --summary` prints
// (on stderr with --format jsonl), and its "lost events: N" line. ok is false when no table
// was printed, so a missing line is never taken for zero loss.
func parseSummaryTable(stderr string) (s traceSummary, ok bool) {
	i := strings.Index(stderr, "% time     seconds  usecs/call     calls    errors syscall\n")
	if i < 0 {
		return s, false
	}
	table := stderr[i:]
	s.calls = map[string]uint64{}
	for _, m := range sumRowRe.FindAllStringSubmatch(table, -1) {
		if m[2] == "total" {
			ok = true
			s.total, _ = strconv.ParseUint(m[1], 10, 64)
			continue
		}
		n, _ := strconv.ParseUint(m[1], 10, 64)
		s.calls[m[2]] += n
	}
	if m := lostRe.FindStringSubmatch(table); m != nil {
		s.lost, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return s, ok
}

// recordingSummary decodes a raw recording with `iotrace show --summary-only` and reads its
// table: what a user sees of the run afterwards.
func (b *bench) recordingSummary(path string) (traceSummary, error) {
	r, err := b.exec([]string{b.cfg.iotrace, "show", "--summary-only", path}, runOpts{stdout: true})
	if err != nil {
		return traceSummary{}, err
	}
	sum, ok := parseSummaryTable(r.stdout)
	if !ok {
		return traceSummary{}, fmt.Errorf("iotrace show %s printed no summary table:\n%s", path, tail(r.stdout, 2000))
	}
	return sum, nil
}

// recordPath is where a traced run of the bench records.
func (b *bench) recordPath() string { return filepath.Join(b.work, "run.iotrace") }

// procCPU reads a process's own CPU time (user + system, its reaped children left out) from
// /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// the fields after the command name, which is in parentheses and may hold spaces
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// procStatus reads the resident-set lines of /proc/PID/status, in bytes.
func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseStatus(f), nil
}

func parseStatus(r io.Reader) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(k, "Rss") && !strings.HasPrefix(k, "Vm") {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err == nil {
				out[k] = n << 10
			}
		}
	}
	return out
}

// median of xs; NaN-free callers only. It sorts a copy.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
