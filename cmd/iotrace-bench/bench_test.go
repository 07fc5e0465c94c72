package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestParsers(t *testing.T) {
	stderr := "sysload writev n=300000 syscalls=300000 loop_ns=1857427261 ns_per_syscall=6191.4\n" +
		"STAMP 1859752823990\n" +
		"paced rate=0 threads=2 calls=239044 secs=2.012 achieved_per_s=118839 self_cpu_s=1.157\n"
	if v, ok := loopNS(stderr); !ok || v != 1857427261 {
		t.Errorf("loopNS = %d, %v", v, ok)
	}
	if v, ok := stampNS(stderr); !ok || v != 1859752823990 {
		t.Errorf("stampNS = %d, %v", v, ok)
	}
	want := pacedLine{calls: 239044, secs: 2.012, achieved: 118839, selfCPU: 1.157}
	if p, ok := parsePaced(stderr); !ok || p != want {
		t.Errorf("parsePaced = %+v, %v; want %+v", p, ok, want)
	}
	for _, f := range []func(string) bool{
		func(s string) bool { _, ok := loopNS(s); return ok },
		func(s string) bool { _, ok := stampNS(s); return ok },
		func(s string) bool { _, ok := parsePaced(s); return ok },
	} {
		if f("nothing here\n") {
			t.Error("a parser accepted a line it should not")
		}
	}
}

func TestParseSummaryTable(t *testing.T) {
	const table = "% time     seconds  usecs/call     calls    errors syscall\n" +
		"------ ----------- ----------- --------- --------- ----------------\n" +
		" 99.94    1.607555           1   1000000           writev\n" +
		"  0.01    0.000206         102         2         1 nanosleep\n" +
		"  0.00    0.000002           1         1           syscall_451\n" +
		"------ ----------- ----------- --------- --------- ----------------\n" +
		"100.00    1.608544           1   1000003         1 total\n"
	tests := []struct {
		name   string
		stderr string
		ok     bool
		want   traceSummary
	}{
		{"no loss", "sysload writev n=1 loop_ns=5\n" + table, true,
			traceSummary{calls: map[string]uint64{"writev": 1000000, "nanosleep": 2, "syscall_451": 1}, total: 1000003}},
		{"loss", table + "lost events: 1234\n", true,
			traceSummary{calls: map[string]uint64{"writev": 1000000, "nanosleep": 2, "syscall_451": 1}, total: 1000003, lost: 1234}},
		{"no table", "iotrace: something failed\n", false, traceSummary{}},
		// a table cut before its total line must not pass for a complete one with zero loss
		{"cut short", strings.SplitAfter(table, "syscall_451\n")[0], false,
			traceSummary{calls: map[string]uint64{"writev": 1000000, "nanosleep": 2, "syscall_451": 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseSummaryTable(tc.stderr)
			if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// The table iotrace show --summary-only prints for a raw recording, lost calls included.
func TestParseShowSummary(t *testing.T) {
	out := "% time     seconds  usecs/call     calls    errors syscall\n" +
		"------ ----------- ----------- --------- --------- ----------------\n" +
		" 99.93    1.250234           0   1901625           writev\n" +
		"  0.06    0.000731         731         1           execve\n" +
		"  0.01    0.000100          10        10         1 mmap\n" +
		"------ ----------- ----------- --------- --------- ----------------\n" +
		"100.00    1.251084           0   1901636         1 total\n" +
		"lost events: 98387\n" +
		"  on CPU 1: 98377 calls, 9 kernel events, 1 process events\n"
	got, ok := parseSummaryTable(out)
	want := traceSummary{calls: map[string]uint64{"writev": 1901625, "execve": 1, "mmap": 10}, total: 1901636, lost: 98387}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v (ok %v), want %+v", got, ok, want)
	}
	if _, ok := parseSummaryTable("no table here\n"); ok {
		t.Error("a run without a table read as one")
	}
}

func TestParseStatusAndPeak(t *testing.T) {
	st := parseStatus(strings.NewReader("Name:\tiotrace\nVmHWM:\t  133120 kB\nVmRSS:\t  100 kB\n" +
		"RssAnon:\t   60000 kB\nRssFile:\t   72000 kB\nThreads:\t8\n"))
	want := map[string]int64{"VmHWM": 133120 << 10, "VmRSS": 100 << 10, "RssAnon": 60000 << 10, "RssFile": 72000 << 10}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("parseStatus = %v, want %v", st, want)
	}
	peak := map[string]int64{"RssAnon": 70000 << 10}
	mergePeak(peak, st)
	if peak["RssAnon"] != 70000<<10 || peak["RssFile"] != 72000<<10 {
		t.Errorf("mergePeak kept %v", peak)
	}
}

func TestParseBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal
	got := parseBusy("cpu  100 20 300 99999 50 4 6 70 0 0\n")
	if want := (100 + 20 + 300 + 4 + 6 + 70) / float64(userHZ); got != want {
		t.Errorf("parseBusy = %v, want %v", got, want)
	}
	if parseBusy("cpu0 1 2 3 4 5 6 7 8\n") != 0 {
		t.Error("parseBusy read a per-CPU line")
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		in := append([]float64(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !reflect.DeepEqual(in, tc.in) {
			t.Errorf("median reordered its input: %v", tc.in)
		}
	}
}

// fakeTracer loses events above capacity; the producer reaches at most top calls/s.
func fakeTracer(capacity, top int) func(int) (rateTrial, error) {
	return func(rate int) (rateTrial, error) {
		achieved := float64(rate)
		if rate == 0 || rate > top {
			achieved = float64(top)
		}
		var lost uint64
		if achieved > float64(capacity) {
			lost = uint64(achieved - float64(capacity))
		}
		return rateTrial{offered: rate, achieved: achieved, lost: lost}, nil
	}
}

func TestSearchRate(t *testing.T) {
	tests := []struct {
		name            string
		capacity, top   int
		steps           int
		wantNil         bool
		lo, hi          float64 // best.achieved must fall in [lo, hi]
		wantOfferedZero bool
	}{
		{name: "producer-bound", capacity: 1_000_000, top: 120_000, steps: 3, lo: 120_000, hi: 120_000, wantOfferedZero: true},
		{name: "tracer-bound", capacity: 300_000, top: 2_000_000, steps: 6, lo: 250_000, hi: 300_000},
		{name: "no bisection", capacity: 300_000, top: 2_000_000, steps: 0, lo: 250_000, hi: 300_000},
		{name: "hopeless", capacity: 10, top: 2_000_000, steps: 3, wantNil: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			best, trials, err := searchRate(fakeTracer(tc.capacity, tc.top), tc.steps)
			if err != nil {
				t.Fatal(err)
			}
			if len(trials) == 0 || trials[0].offered != 0 {
				t.Errorf("first trial should be unpaced: %+v", trials)
			}
			if tc.wantNil {
				if best != nil {
					t.Errorf("best = %+v, want none", *best)
				}
				return
			}
			if best == nil {
				t.Fatalf("no best rate; trials %+v", trials)
			}
			if best.lost != 0 || best.achieved < tc.lo || best.achieved > tc.hi || (best.offered == 0) != tc.wantOfferedZero {
				t.Errorf("best = %+v, want zero loss and achieved in [%v, %v]", *best, tc.lo, tc.hi)
			}
		})
	}
}

func TestSearchRateStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, _, err := searchRate(func(int) (rateTrial, error) {
		calls++
		return rateTrial{}, boom
	}, 3)
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("err = %v after %d calls, want boom after 1", err, calls)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(*config) bool
	}{
		{"defaults", nil, false, func(c *config) bool {
			return c.scale == 1 && c.rssEvents == 10_000_000 && len(c.modes) == 4 && c.only["rate"]
		}},
		{"quick", []string{"-quick"}, false, func(c *config) bool { return c.scale == 10 && c.rssEvents == 2_000_000 }},
		{"quick keeps explicit flags", []string{"-quick", "-scale", "2"}, false, func(c *config) bool {
			return c.scale == 2 && c.rateSteps == 2
		}},
		{"lists", []string{"-modes", "writev, epoll", "-only", "overhead"}, false, func(c *config) bool {
			return reflect.DeepEqual(c.modes, []string{"writev", "epoll"}) && c.only["overhead"] && !c.only["rss"]
		}},
		{"bad mode", []string{"-modes", "sendfile"}, true, nil},
		{"bad section", []string{"-only", "everything"}, true, nil},
		{"bad tracer", []string{"-tracers", "dtrace"}, true, nil},
		{"bad runs", []string{"-runs", "0"}, true, nil},
		{"stray argument", []string{"writev"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseFlags(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && !tc.check(c) {
				t.Errorf("config %+v", *c)
			}
		})
	}
}

// The embedded helpers must stay the copies testdata/README.md names.
func TestHelpersMatchTheirOrigin(t *testing.T) {
	readme, err := os.ReadFile("testdata/README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|.*\\| `([0-9a-f]{64})` \\|$")
	rows := row.FindAllStringSubmatch(string(readme), -1)
	if len(rows) != 4 {
		t.Fatalf("README lists %d digests, want 4", len(rows))
	}
	for _, m := range rows {
		data, err := sources.ReadFile("testdata/" + m[1])
		if err != nil {
			t.Errorf("%s is not embedded: %v", m[1], err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != m[2] {
			t.Errorf("%s: sha256 %s, README says %s", m[1], got, m[2])
		}
	}
}

func TestBuildHelpers(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	h, err := buildHelpers(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(h.sysload, "writev", "10", "-t").CombinedOutput()
	if err != nil {
		t.Fatalf("sysload: %v\n%s", err, out)
	}
	if _, ok := loopNS(string(out)); !ok {
		t.Errorf("sysload -t printed no loop_ns: %q", out)
	}
	out, err = exec.Command(h.stamp).CombinedOutput()
	if _, ok := stampNS(string(out)); err != nil || !ok {
		t.Errorf("stamp: %v %q", err, out)
	}
	if _, err := os.Stat(h.captureBT); err != nil {
		t.Error(err)
	}
	out, err = exec.Command(h.storm, "1000", "2").CombinedOutput()
	if m := stormRe.FindStringSubmatch(string(out)); err != nil || m == nil || m[1] != "1000" {
		t.Errorf("storm: %v %q", err, out)
	}
}
