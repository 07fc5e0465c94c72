package main

import (
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// rssTarget: a recording streams to its file, so memory must not grow with its length.
const rssTarget = 64 << 20

// peakRSS records a long writev storm with -o and reports iotrace's peak resident set.
func (b *bench) peakRSS() error {
	n := b.cfg.rssEvents
	path := filepath.Join(b.work, "rss.iotrace")
	defer os.Remove(path)
	cmd := []string{b.h.sysload, "writev", strconv.FormatInt(n, 10), "-t"}
	argv := iotraceArgs(b, path, cmd)
	b.printf("\n## Peak RSS of iotrace over a %d-event recording (-o FILE; target < %d MiB)\n\n", n, rssTarget>>20)

	// wait4's ru_maxrss is the peak of iotrace's whole resident set, which counts the ring
	// buffer's shared mapping; sampling /proc tells that apart from iotrace's own heap.
	// The sampler is the only writer, and it has stopped before peak is read.
	peak := map[string]int64{}
	watch := func(pid int) func() {
		done := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				if st, err := procStatus(pid); err == nil {
					mergePeak(peak, st)
				}
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
		}()
		return func() { close(done); <-stopped }
	}
	r, err := b.exec(argv, runOpts{watch: watch})
	if err != nil {
		return err
	}
	size := int64(-1)
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	sum, err := b.recordingSummary(path)
	if err != nil {
		return err
	}
	loop, _ := loopNS(r.stderr)
	verdict := "meets"
	if r.maxRSS >= rssTarget {
		verdict = "misses"
	}
	b.printf("peak RSS (wait4 ru_maxrss)  %8.1f MiB   %s the target\n", mib(r.maxRSS), verdict)
	b.printf("  sampled peaks (/proc, every 20 ms): RssAnon %.1f MiB, RssFile %.1f MiB, RssShmem %.1f MiB, VmHWM %.1f MiB\n",
		mib(peak["RssAnon"]), mib(peak["RssFile"]), mib(peak["RssShmem"]), mib(peak["VmHWM"]))
	b.printf("  recording %.0f MiB, %d writev delivered, %d lost; wall %.1f s, storm loop %.1f s (%.0f events/s)\n",
		mib(size), sum.calls["writev"], sum.lost, r.wall.Seconds(), float64(loop)/1e9, float64(n)/(float64(loop)/1e9))
	return nil
}

func mib(v int64) float64 { return float64(v) / (1 << 20) }

// mergePeak keeps the largest value seen per key.
func mergePeak(peak, sample map[string]int64) {
	for k, v := range sample {
		peak[k] = max(peak[k], v)
	}
}
