// Package session wires the stages for one traced run — probes, launch, reader, decoder,
// annotator, renderers — and owns its shutdown: on the target's exit or Ctrl-C it detaches
// the probes, drains the ring, and closes the renderers with the summary.
package session

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/annotate"
	"github.com/iotrace/iotrace/internal/decode"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/launch"
	"github.com/iotrace/iotrace/internal/probe"
	"github.com/iotrace/iotrace/internal/reader"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/render/summary"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Version is iotrace's version, stamped into recordings.
var Version = "0.1.0-dev"

// Options describe one traced run.
type Options struct {
	Argv []string // command to launch, or
	PID  int      // process to attach to

	Filter  *syscalls.Filter
	Snaplen int
	// KernelEvents selects kernel events by name (probe.KernelEventNames); nil: none.
	KernelEvents map[string]bool
	// RingBytes and WakeupBytes tune the kernel side (0: defaults).
	RingBytes, WakeupBytes int

	Renderer render.Renderer
	// Info receives iotrace's own notices (stderr).
	Info io.Writer
	// Notes are added to the header (for example what a workload run is about).
	Notes []string
	// Stdin/Stdout/Stderr of the launched command (nil: iotrace's).
	Stdin, Stdout, Stderr *os.File
}

const (
	// 16 MiB: the ring is mapped twice into iotrace, so its size counts double in RSS
	defaultRing   = 16 << 20
	defaultWakeup = 256 << 10
)

// Run traces one target and returns its exit status (0 for an attached process that is detached).
func Run(opts Options) (int, error) {
	table := syscalls.Native()
	ring := orDefault(opts.RingBytes, defaultRing)
	cfg := probe.Config{
		Table: table, Filter: opts.Filter, Always: syscalls.ModelSyscalls, Snaplen: opts.Snaplen,
		// a wakeup threshold above a quarter of a small ring would let it fill between polls
		RingBytes: ring, WakeupBytes: min(orDefault(opts.WakeupBytes, defaultWakeup), ring/4),
		KernelEvents: opts.KernelEvents,
	}
	var target *launch.Target
	var attached *launch.Attached
	var err error
	// Resolve the target before loading anything, so bad input costs nothing.
	if len(opts.Argv) > 0 {
		target, err = launch.Start(launch.Options{Argv: opts.Argv, Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr})
		if err != nil {
			return 0, err
		}
	} else {
		if attached, err = launch.Attach(opts.PID); err != nil {
			return 0, err
		}
	}

	set, err := probe.Load(cfg)
	if err != nil {
		if target != nil {
			target.Abort()
		}
		return 0, err
	}
	defer set.Close()
	if set.TracefsMounted {
		fmt.Fprintln(opts.Info, "iotrace: tracefs was not mounted; mounted it at /sys/kernel/tracing")
	}

	rd, err := reader.New(set.Events(), set.Lost)
	if err != nil {
		if target != nil {
			target.Abort()
		}
		return 0, err
	}
	defer rd.Close()

	dec := decode.New(table)
	formats := make(map[uint16]decode.KernelFormat, len(set.Kernel))
	for id, k := range set.Kernel {
		formats[id] = decode.KernelFormat{Name: k.Name, Fields: k.Format.Fields}
	}
	dec.SetKernelFormats(formats)
	ann := annotate.New(table.Arch())
	ann.FromProc = true
	for _, m := range set.Missing {
		if strings.HasPrefix(m.Name, "readahead:") && opts.KernelEvents["page_cache_sync_ra"] {
			ann.InferReadahead = true
		}
	}
	var counter summary.Counter
	hdr := header(opts, set, table)
	counter.Start(hdr.StartNS)
	if err := opts.Renderer.Header(hdr); err != nil {
		if target != nil {
			target.Abort()
		}
		return 0, err
	}

	// Ctrl-C reaches the launched command through the terminal; iotrace itself stays to finish
	// the output. With -p, it is the signal to detach.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	if target != nil {
		ann.SeedForExec(target.PID, launch.GateFD)
		if err := set.AddTarget(target.PID, true); err != nil {
			target.Abort()
			return 0, err
		}
	} else {
		ann.Seed(attached.PID)
		for _, tid := range attached.TIDs {
			dec.SetComm(uint32(tid), attached.Comm)
		}
		if err := set.AddTarget(attached.PID, false); err != nil {
			return 0, err
		}
	}

	h := &handler{dec: dec, ann: ann, counter: &counter, out: opts.Renderer, filter: opts.Filter}
	var wg sync.WaitGroup
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		readErr = rd.Run(h)
	}()

	status := 0
	if target != nil {
		if err := target.Release(); err != nil {
			target.Abort()
			return 0, err
		}
		status, err = waitTarget(target, sigs)
	} else {
		err = waitAttached(attached.PID, sigs)
	}

	// Detach first so nothing new arrives, then drain what is in the ring.
	set.Detach()
	if stopErr := rd.Stop(); stopErr != nil && err == nil {
		err = stopErr
	}
	wg.Wait()
	if err == nil {
		err = readErr
	}
	if err == nil {
		err = h.err
	}
	for _, e := range ann.Flush() {
		if rerr := h.render(e); rerr != nil && err == nil {
			err = rerr
		}
	}
	sum := counter.Summary()
	if target != nil {
		sum.ExitCode = &status
	}
	if cerr := opts.Renderer.Close(sum); err == nil {
		err = cerr
	}
	return status, err
}

// handler is the reader's consumer: decode, annotate, count, render — on the reader's goroutine.
type handler struct {
	dec     *decode.Decoder
	ann     *annotate.Annotator
	counter *summary.Counter
	out     render.Renderer
	filter  *syscalls.Filter // what the user asked to see; the model sees more
	hidden  uint64           // seq of the last syscall -e hid
	err     error
}

func (h *handler) Record(raw []byte) error {
	e, err := h.dec.Decode(raw)
	if err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	if e == nil {
		return nil
	}
	return h.emit(e)
}

func (h *handler) Lost(reason, cpu int, count uint64) {
	if err := h.emit(h.dec.Lost(reason, cpu, count, monotonicNow())); err != nil && h.err == nil {
		h.err = err
	}
}

func (h *handler) emit(e event.Event) error {
	for _, out := range h.ann.Annotate(e) {
		if err := h.render(out); err != nil {
			return err
		}
	}
	return nil
}

// render counts and writes one annotated event, unless -e hides it: a hidden syscall hides
// the kernel work it caused too.
func (h *handler) render(e event.Event) error {
	switch x := e.(type) {
	case *event.Syscall:
		if h.filter != nil && !h.filter.All() && !h.filter.Match(x.Nr) {
			h.hidden = x.Seq
			return nil
		}
	case *event.Kernel:
		if x.CauseSeq != 0 && x.CauseSeq == h.hidden {
			return nil
		}
	}
	h.counter.Add(e)
	return h.out.Event(e)
}

func waitTarget(t *launch.Target, sigs <-chan os.Signal) (int, error) {
	done := make(chan struct{})
	var status int
	var err error
	go func() {
		status, err = t.Wait()
		close(done)
	}()
	for {
		select {
		case <-done:
			return status, err
		case sig := <-sigs:
			// The terminal sent SIGINT to the whole foreground group, the target included; a
			// SIGTERM aimed at iotrace alone is passed on.
			if sig == syscall.SIGTERM {
				_ = t.Signal(sig)
			}
		}
	}
}

// waitAttached returns when the process exits or the user asks to detach.
func waitAttached(pid int, sigs <-chan os.Signal) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		// no pidfd (kernels before 5.3): detach only on a signal
		<-sigs
		return nil
	}
	defer unix.Close(pidfd)
	exited := make(chan struct{})
	go func() {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err == nil || !errors.Is(err, unix.EINTR) {
				close(exited)
				return
			}
		}
	}()
	select {
	case <-exited:
	case <-sigs:
	}
	return nil
}

func header(opts Options, set *probe.Set, t *syscalls.Table) *event.Header {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	mono := monotonicNow()
	h := &event.Header{
		Schema:            event.Schema,
		Version:           Version,
		Kernel:            unix.ByteSliceToString(uts.Release[:]),
		Arch:              syscalls.Machine(t.Arch()),
		Command:           opts.Argv,
		AttachPID:         opts.PID,
		WallClockOffsetNS: time.Now().UnixNano() - int64(mono),
		StartNS:           mono,
		Snaplen:           opts.Snaplen,
		Notes:             opts.Notes,
	}
	if opts.Filter != nil && !opts.Filter.All() {
		h.Filter = opts.Filter.String()
	}
	for _, p := range set.Missing {
		h.MissingProbes = append(h.MissingProbes, p.String())
		if strings.HasPrefix(p.Name, "readahead:page_cache_sync_ra") {
			h.Notes = append(h.Notes, "this kernel has no readahead tracepoints: readahead is inferred from page-cache fills")
		}
	}
	return h
}

func monotonicNow() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// Describe names a target for messages: the command line or the pid.
func Describe(opts Options) string {
	if len(opts.Argv) > 0 {
		return strings.Join(opts.Argv, " ")
	}
	return fmt.Sprintf("pid %d", opts.PID)
}
