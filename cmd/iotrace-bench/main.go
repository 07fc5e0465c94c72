// Command iotrace-bench measures what tracing costs: a syscall storm run untraced and under
// iotrace (and strace, bpftrace and the rbref ring-buffer floor where present) in interleaved
// pairs, iotrace's start-up latency, its peak RSS over a long recording, and the highest event
// rate it sustains with zero loss. It needs root and gcc; `make bench` runs it.
//
// The figures are ratios taken pair by pair on the same machine in the same run: timings on
// shared machines drift, so only rows of one run compare.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// config is what the flags ask for.
type config struct {
	iotrace string
	rbref   string
	modes   []string
	tracers []string
	only    map[string]bool
	runs    int
	scale   int64

	startupRuns int
	rssEvents   int64
	rateSecs    float64
	rateThreads int
	rateSteps   int
}

var sections = []string{"overhead", "storm", "startup", "rss", "rate"}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "iotrace-bench: %s\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("iotrace-bench", flag.ContinueOnError)
	iotrace := fs.String("iotrace", "bin/iotrace", "the iotrace binary to measure")
	rbref := fs.String("rbref", "", "rbref binary (shared/bench/rbref/build.sh) for the floor rows; skipped when empty")
	modes := fs.String("modes", strings.Join(modeNames(), ","), "storm modes: writev, pread, epoll, mixed")
	tracers := fs.String("tracers", "iotrace,iotrace-live,rbref,bpftrace,strace", "tracers to compare (those not installed are skipped)")
	only := fs.String("only", strings.Join(sections, ","), "sections to run: "+strings.Join(sections, ", "))
	runs := fs.Int("runs", 3, "traced/untraced pairs per overhead row (the median ratio is shown)")
	scale := fs.Int64("scale", 1, "divide every storm's length by this")
	startupRuns := fs.Int("startup-runs", 5, "launches per start-up row")
	rssEvents := fs.Int64("rss-events", 10_000_000, "writev calls in the peak-RSS recording")
	rateSecs := fs.Float64("rate-secs", 3, "seconds each offered rate is held")
	rateThreads := fs.Int("rate-threads", 2, "writev threads offering the rate")
	rateSteps := fs.Int("rate-steps", 4, "bisection steps of the zero-loss rate search")
	quick := fs.Bool("quick", false, "a run of under two minutes: -scale 10 -runs 3 -startup-runs 3 -rss-events 2000000 -rate-secs 2 -rate-steps 2 (explicit flags win)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quickDefaults := map[string]string{
			"scale": "10", "runs": "3", "startup-runs": "3", "rss-events": "2000000", "rate-secs": "2", "rate-steps": "2",
		}
		for name, v := range quickDefaults {
			if !set[name] {
				_ = fs.Set(name, v)
			}
		}
	}
	c := &config{
		iotrace: *iotrace, rbref: *rbref, modes: splitList(*modes), tracers: splitList(*tracers),
		only: map[string]bool{}, runs: *runs, scale: *scale, startupRuns: *startupRuns,
		rssEvents: *rssEvents, rateSecs: *rateSecs, rateThreads: *rateThreads, rateSteps: *rateSteps,
	}
	for _, s := range splitList(*only) {
		if !slices.Contains(sections, s) {
			return nil, fmt.Errorf("unknown section %q in -only (have %s)", s, strings.Join(sections, ", "))
		}
		c.only[s] = true
	}
	for _, m := range c.modes {
		if _, ok := storms[m]; !ok {
			return nil, fmt.Errorf("unknown mode %q (have %s)", m, strings.Join(modeNames(), ", "))
		}
	}
	for _, t := range c.tracers {
		if !slices.Contains(tracerNames, t) {
			return nil, fmt.Errorf("unknown tracer %q (have %s)", t, strings.Join(tracerNames, ", "))
		}
	}
	switch {
	case c.runs < 1, c.scale < 1, c.startupRuns < 1, c.rssEvents < 1, c.rateThreads < 1, c.rateThreads > 64, c.rateSteps < 0:
		return nil, errors.New("-runs, -scale, -startup-runs, -rss-events and -rate-threads must be positive (threads at most 64)")
	case c.rateSecs <= 0:
		return nil, errors.New("-rate-secs must be positive")
	}
	return c, nil
}

func run(args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root: iotrace, bpftrace and rbref load BPF programs")
	}
	if cfg.iotrace, err = filepath.Abs(cfg.iotrace); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.iotrace); err != nil {
		return fmt.Errorf("iotrace binary: %w (run 'make build' first)", err)
	}

	// Ctrl-C reaches the children through the terminal; the bench itself stays to clean up.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	work, err := os.MkdirTemp("", "iotrace-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	h, err := buildHelpers(work)
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, h: h, work: work, ctx: ctx, out: os.Stdout}

	var uts unix.Utsname
	_ = unix.Uname(&uts)
	b.printf("# iotrace-bench: %s %s, %d CPUs, %s, iotrace %s\n", unix.ByteSliceToString(uts.Release[:]),
		unix.ByteSliceToString(uts.Machine[:]), runtime.NumCPU(), time.Now().Format("2006-01-02 15:04"), cfg.iotrace)
	if err := b.warmUp(); err != nil {
		return err
	}
	start := time.Now()
	for _, s := range sections {
		if !cfg.only[s] {
			continue
		}
		var err error
		switch s {
		case "overhead":
			err = b.overhead()
		case "storm":
			err = b.zeroLossStorm()
		case "startup":
			err = b.startup()
		case "rss":
			err = b.peakRSS()
		case "rate":
			err = b.maxRate()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	b.printf("\n(total %.0f s)\n", time.Since(start).Seconds())
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// warmUp puts the binaries in the page cache and pays one-time costs (BTF parsing caches,
// tracefs mount) before anything is timed.
func (b *bench) warmUp() error {
	if _, err := b.exec([]string{b.h.sysload, "writev", "1000"}, runOpts{}); err != nil {
		return err
	}
	_, err := b.exec(iotraceArgs(b, b.recordPath(), []string{b.h.stamp}), runOpts{})
	return err
}
