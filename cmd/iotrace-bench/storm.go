package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"
)

// stormCalls is the zero-loss storm of issue 10: 2,000,000 writev calls of 4 small buffers to
// /dev/null, recorded at default settings; once on one thread, once on two.
const stormCalls = 2_000_000

var stormRe = regexp.MustCompile(`storm calls=(\d+) threads=(\d+) loop_ns=(\d+)`)

// zeroLossStorm records the storm with -o FILE.iotrace and reads the recording back: every
// call must be there. It also tells what each side costs per record: the recorder while the
// storm runs (iotrace's CPU over the records it wrote), and the decoding afterwards (show).
func (b *bench) zeroLossStorm() error {
	n := max(stormCalls/b.cfg.scale, 1000)
	b.printf("\n## Zero-loss storm: %d writev calls (4 iovecs to /dev/null), recorded with default settings\n", n)
	b.printf("(iotrace %s; the storm's own loop time; then iotrace show decodes the file)\n\n",
		"trace --format none -o FILE.iotrace -- storm N THREADS")
	b.printf("%-8s %11s %11s %9s %9s %10s %12s %13s %13s\n", "threads", "issued", "recorded", "lost", "loop ns", "file MiB",
		"record ns/ev", "decode ns/ev", "decoded ev/s")
	b.printf("%s\n", "-------- ----------- ----------- --------- --------- ---------- ------------ ------------- -------------")
	for _, threads := range []int{1, 2} {
		path := b.recordPath()
		cmd := []string{b.h.storm, strconv.FormatInt(n, 10), strconv.Itoa(threads)}
		var own time.Duration // iotrace's own CPU, sampled until it exits
		watch := func(pid int) func() {
			done, stopped := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(stopped)
				for {
					if c, err := procCPU(pid); err == nil {
						own = c
					}
					select {
					case <-done:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}()
			return func() { close(done); <-stopped }
		}
		r, err := b.exec(iotraceArgs(b, path, cmd), runOpts{watch: watch})
		if err != nil {
			return err
		}
		m := stormRe.FindStringSubmatch(r.stderr)
		if m == nil {
			return fmt.Errorf("no report line from the storm:\n%s", tail(r.stderr, 2000))
		}
		issued, _ := strconv.ParseInt(m[1], 10, 64)
		loop, _ := strconv.ParseInt(m[3], 10, 64)
		size := int64(-1)
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
		// decode the whole recording, as show prints it, and time it
		t0 := time.Now()
		d, err := b.exec([]string{b.cfg.iotrace, "show", "--format", "jsonl", "--summary", path}, runOpts{})
		if err != nil {
			return err
		}
		decodeWall := time.Since(t0)
		sum, ok := parseSummaryTable(d.stderr)
		if !ok {
			return fmt.Errorf("iotrace show printed no summary table:\n%s", tail(d.stderr, 2000))
		}
		recorded := sum.calls["writev"]
		events := max(sum.total, 1)
		b.printf("%-8d %11d %11d %9d %9.0f %10.0f %12.0f %13.0f %13.0f\n", threads, issued, recorded, sum.lost,
			float64(loop)/float64(issued), mib(size), own.Seconds()*1e9/float64(events),
			d.cpu.Seconds()*1e9/float64(events), float64(events)/decodeWall.Seconds())
		os.Remove(path)
	}
	b.printf("(recorded ÷ issued must be 1: the file keeps every call whatever the reader's speed;\n")
	b.printf(" record ns/ev: iotrace's own CPU while the storm ran (sampled from /proc, 10 ms ticks), per\n")
	b.printf(" call recorded; decode ns/ev: show's CPU per call, decoding, annotating and writing JSON Lines)\n")
	return nil
}
