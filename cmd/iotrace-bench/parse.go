package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
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

// recordingSummary reads the summary line that ends a JSON Lines recording (schema iotrace/v1).
func recordingSummary(path string) (traceSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return traceSummary{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return traceSummary{}, err
	}
	const window = 1 << 20 // the summary line is short: a few hundred bytes per distinct syscall
	off := max(st.Size()-window, 0)
	buf, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return traceSummary{}, fmt.Errorf("read %s: %w", path, err)
	}
	return lastSummaryLine(buf)
}

func lastSummaryLine(buf []byte) (traceSummary, error) {
	buf = bytes.TrimRight(buf, "\n")
	last := buf[bytes.LastIndexByte(buf, '\n')+1:]
	var rec struct {
		Type     string `json:"type"`
		Lost     uint64 `json:"lost"`
		Syscalls []struct {
			Name  string `json:"name"`
			Calls uint64 `json:"calls"`
		} `json:"syscalls"`
	}
	if err := json.Unmarshal(last, &rec); err != nil {
		return traceSummary{}, fmt.Errorf("last line of the recording: %w", err)
	}
	if rec.Type != "summary" {
		return traceSummary{}, fmt.Errorf("the recording ends with a %q line, not its summary", rec.Type)
	}
	s := traceSummary{calls: map[string]uint64{}, lost: rec.Lost}
	for _, sc := range rec.Syscalls {
		s.calls[sc.Name] += sc.Calls
	}
	return s, nil
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
