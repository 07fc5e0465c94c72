package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// bench holds what every section needs.
type bench struct {
	cfg  *config
	h    *helpers
	work string
	ctx  context.Context
	out  io.Writer
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// result is one finished process, timed from outside.
type result struct {
	launchNS uint64        // CLOCK_MONOTONIC just before the fork
	wall     time.Duration // launch to reaped
	cpu      time.Duration // user+system of the process and of the children it reaped (wait4)
	maxRSS   int64         // bytes; wait4 reports the largest of the process and its reaped children
	stderr   string
	stdout   string // when runOpts.stdout asked for it
}

// runOpts tune one launch.
type runOpts struct {
	// watch is called with the pid once the process runs, and its stop function when it ended.
	watch func(pid int) (stop func())
	// stdout: keep what the process writes to stdout (else it goes to /dev/null)
	stdout bool
}

// exec runs argv with stdin and stdout on /dev/null and stderr captured, and fails when it
// exits non-zero.
func (b *bench) exec(argv []string, o runOpts) (result, error) {
	if err := b.ctx.Err(); err != nil {
		return result{}, err
	}
	var stderr, stdout bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = &stderr
	if o.stdout {
		cmd.Stdout = &stdout
	}
	var r result
	r.launchNS = monotonicNS()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start %s: %w", argv[0], err)
	}
	var stop func()
	if o.watch != nil {
		stop = o.watch(cmd.Process.Pid)
	}
	err := cmd.Wait()
	r.wall = time.Since(t0)
	if stop != nil {
		stop()
	}
	r.stderr = stderr.String()
	r.stdout = stdout.String()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
		r.maxRSS = ru.Maxrss << 10
	}
	if err != nil {
		if ctxErr := b.ctx.Err(); ctxErr != nil {
			return r, ctxErr
		}
		return r, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(r.stderr, 2000))
	}
	return r, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func monotonicNS() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// userHZ is the unit of /proc/stat (USER_HZ is 100 on every architecture Linux runs on today).
const userHZ = 100

// busyCPU is the CPU time, in seconds, every process on the machine has used since boot.
func busyCPU() float64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return parseBusy(line)
}

// parseBusy sums user, nice, system, irq, softirq and steal of /proc/stat's "cpu" line.
func parseBusy(line string) float64 {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var sum float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseFloat(f[i], 64)
		sum += v
	}
	return sum / userHZ
}

// noise measures the CPU that processes outside the bench use while it runs: rows measured
// while another process was busy are marked, since the tracer's reader competes for the same CPUs.
type noise struct {
	busy0 float64
	t0    time.Time
	own   time.Duration
}

func startNoise() *noise { return &noise{busy0: busyCPU(), t0: time.Now()} }

func (n *noise) add(r result) { n.own += r.cpu }

// other is the CPUs' worth (cores) used by everything else.
func (n *noise) other() float64 {
	el := time.Since(n.t0).Seconds()
	if el <= 0 {
		return 0
	}
	return (busyCPU() - n.busy0 - n.own.Seconds()) / el
}

// noisyCores marks a row measured while other processes used more than this many cores.
const noisyCores = 0.15

func noiseMark(other float64) string {
	if other > noisyCores {
		return "*"
	}
	return ""
}
