// Package session runs one traced target: it loads the probes, starts or attaches to the target,
// and moves the BPF ring's records two ways — into the recording at the ring's own speed (the
// recorder only writes spans of raw records), and through the pipeline (decode, annotate) to
// the renderers. It owns shutdown: on the target's exit or Ctrl-C it detaches the probes,
// drains the ring, ends the recording and closes the renderers with the summary.
//
//	ring ──recorder──▶ recording (raw frames: the -o .iotrace file, or a spool)
//	                     └──▶ pipeline ──▶ renderers   (reads the recording back: complete)
//	ring ──recorder──▶ view feed ──▶ pipeline ──▶ renderers   (a terminal: may thin out, says so)
package session

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/annotate"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/launch"
	"github.com/iotrace/iotrace/internal/pipeline"
	"github.com/iotrace/iotrace/internal/probe"
	"github.com/iotrace/iotrace/internal/rawrec"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/ring"
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

	// Renderer receives the annotated timeline; nil: the run is only recorded (Record).
	Renderer render.Renderer
	// Complete: Renderer must get every event (it writes a file or a pipe). The pipeline then
	// reads the recording back and may lag behind the target; otherwise (a terminal) it reads
	// a bounded live feed and may skip ahead, saying so.
	Complete bool
	// Record, when set, receives the raw recording (-o FILE.iotrace); RecordName is its name
	// for messages (the file may be written under a temporary one).
	Record     *os.File
	RecordName string
	// SpoolDir is where a complete run without Record keeps its records meanwhile (an unnamed
	// file, gone at exit); "" is the temporary directory.
	SpoolDir string
	// Info receives iotrace's own notices (stderr).
	Info io.Writer
	// Notes are added to the header (for example what a workload run is about).
	Notes []string
	// Stdin/Stdout/Stderr of the launched command (nil: iotrace's).
	Stdin, Stdout, Stderr *os.File
	// Started, when set, is called once tracing has begun: from then on the outputs hold a
	// trace, whatever happens next.
	Started func()
}

const (
	// 16 MiB: the ring is mapped twice into iotrace, so its size counts double in RSS
	defaultRing   = 16 << 20
	defaultWakeup = 256 << 10
	// spanMax bounds one ring frame: the recorder releases the ring in steps of at most this.
	spanMax = 4 << 20
	// viewLimit is how far a live view may fall behind before it skips ahead.
	viewLimit = 8 << 20
	// poll is how often the recorder looks at the ring when no wakeup came (the kernel side
	// wakes it only every WakeupBytes); countersEvery, how often it saves the loss counters.
	poll          = 5 * time.Millisecond
	countersEvery = 100 * time.Millisecond
	// batchBytes is how much the recorder lets pile up before it writes (unless poll has
	// passed); batchWait, how long it waits for more meanwhile. A 16 MiB ring holds about 20 ms
	// of the fastest storm.
	batchBytes = 1 << 20
	batchWait  = 500 * time.Microsecond
	// flushEvery is how often records still in the writer's blocks are made readable, so a
	// pipeline reading the recording back keeps up with a slow trace.
	flushEvery = 20 * time.Millisecond
	// heapLimit is the soft limit of Go's memory during a trace.
	heapLimit = 24 << 20
	// recorderNice is the recorder thread's nice value: about nine times the CPU share of a
	// thread at 0 when both want the same CPU.
	recorderNice = -10
)

// keepLibc settles probe.LibcAuto: the libc uprobes stay selected when the program calls POSIX
// AIO, and are dropped otherwise (the header then does not list them among the traced events).
func keepLibc(sel map[string]bool, exe string) map[string]bool {
	if !sel[probe.LibcAuto] {
		return sel
	}
	out := make(map[string]bool, len(sel))
	keep := probe.UsesPOSIXAIO(exe)
	for name, on := range sel {
		if name == probe.LibcAuto {
			continue
		}
		if k, ok := probe.KernelEventByName(name); ok && k.Group == "libc" && !keep {
			continue
		}
		out[name] = on
	}
	return out
}

// Run traces one target and returns its exit status (0 for an attached process that is detached).
func Run(opts Options) (int, error) {
	// The ring and the writer's blocks are outside Go's heap; the heap stays small whatever the
	// trace's length (GC runs sooner near the limit).
	debug.SetMemoryLimit(heapLimit)
	table := syscalls.Native()
	ringBytes := orDefault(opts.RingBytes, defaultRing)
	cfg := probe.Config{
		Table: table, Filter: opts.Filter, Always: syscalls.ModelSyscalls, Snaplen: opts.Snaplen,
		// a wakeup threshold above a quarter of a small ring would let it fill between polls
		RingBytes: ringBytes, WakeupBytes: min(orDefault(opts.WakeupBytes, defaultWakeup), ringBytes/4),
		KernelEvents: opts.KernelEvents,
	}
	// Signals are iotrace's from the start: one that comes while the probes load must not kill
	// it halfway (a cut file, an orphaned gate), but end the run cleanly.
	sigs, stopSignals := signals()
	defer stopSignals()

	var target *launch.Target
	var attached *launch.Attached
	var err error
	// Resolve the target before loading anything, so bad input costs nothing.
	if len(opts.Argv) > 0 {
		target, err = launch.Start(launch.Options{Argv: opts.Argv, Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr})
		if err != nil {
			return 0, err
		}
	} else if attached, err = launch.Attach(opts.PID); err != nil {
		return 0, err
	}
	abort := func() {
		if target != nil {
			target.Abort()
		}
	}

	// a static program carries its own POSIX AIO functions: probe them there too
	if target != nil {
		cfg.Executables = []string{target.Path}
	} else {
		cfg.Executables = []string{fmt.Sprintf("/proc/%d/exe", attached.PID)}
	}
	cfg.KernelEvents = keepLibc(cfg.KernelEvents, cfg.Executables[0])
	set, err := probe.Load(cfg)
	if err != nil {
		abort()
		return 0, err
	}
	defer set.Close()
	if set.TracefsMounted {
		fmt.Fprintln(opts.Info, "iotrace: tracefs was not mounted; mounted it at /sys/kernel/tracing")
	}
	rg, err := ring.Open(set.Events())
	if err != nil {
		abort()
		return 0, err
	}
	defer rg.Close()

	hdr := header(opts, set, table)
	if target != nil {
		// what the command will have once it execs: read while the gate holds it
		hdr.Seeds = []annotate.Seed{annotate.ReadSeed(target.PID, true, launch.GateFD)}
	} else {
		hdr.Seeds = []annotate.Seed{annotate.ReadSeed(attached.PID, false)}
		hdr.Comms = map[uint32]string{}
		for _, tid := range attached.TIDs {
			hdr.Comms[uint32(tid)] = attached.Comm
		}
	}

	// a Ctrl-C (or TERM, HUP, QUIT) while loading: nothing was traced, the command never ran
	if sig := pendingStop(sigs); sig != nil {
		abort()
		return 128 + int(sig.(syscall.Signal)), &InterruptedError{Sig: sig}
	}
	out, err := newOutlet(opts, hdr)
	if err != nil {
		abort()
		return 0, err
	}
	defer out.close()

	pid, gated := opts.PID, false
	if target != nil {
		pid, gated = target.PID, true
	}
	if err := set.AddTarget(pid, gated); err != nil {
		abort()
		return 0, err
	}

	rec := &recorder{ring: rg, set: set, out: out, stop: make(chan struct{}), fin: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); rec.run() }()
	var sum *event.Summary
	var pipeErr error
	end := &rawrec.End{}
	endReady := make(chan struct{})
	go func() {
		defer wg.Done()
		if opts.Renderer != nil {
			sum, pipeErr = out.consume(opts.Renderer, endReady, end)
		}
	}()

	if opts.Started != nil {
		opts.Started()
	}
	w := &waiter{set: set, sigs: sigs, info: opts.Info, name: Describe(opts)}
	status := 0
	if target != nil {
		if err = target.Release(); err != nil {
			target.Abort()
		} else {
			status, err = w.target(target)
		}
	} else {
		status, err = w.attached(attached.PID)
	}

	// Detach first so nothing new arrives, then drain what is in the ring.
	set.Detach()
	close(rec.stop)
	_ = rg.Stop()
	end.TS = monotonicNow()
	if target != nil {
		end.ExitCode = &status
	}
	<-rec.fin
	if werr := out.end(end); werr != nil && err == nil {
		err = werr
	}
	close(endReady)
	wg.Wait()
	if err == nil {
		err = rec.err
	}
	if err == nil {
		err = pipeErr
	}
	if sum != nil {
		if cerr := opts.Renderer.Close(sum); err == nil {
			err = cerr
		}
	}
	return status, err
}

// recorder moves the ring's records to the outlet as fast as the ring fills: spans of raw
// records, one write each, and the loss counters now and then.
type recorder struct {
	ring *ring.Ring
	set  *probe.Set
	out  *outlet
	stop chan struct{}
	err  error
	fin  chan struct{} // closed when run returns
	// flushed is when the recording was last made readable to the pipeline reading it back
	flushed time.Time
}

func (r *recorder) run() {
	defer close(r.fin)
	// The recording is never sacrificed for the view: on a busy machine the decoding pipeline
	// (and a terminal) compete with the recorder for CPU, and the ring fills while the recorder
	// waits. Its own thread, at a higher priority (a lower nice; refused without privilege, and
	// then it runs as it is), keeps it ahead.
	runtime.LockOSThread()
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), recorderNice)
	nextCounters := time.Now()
	lastDrain := time.Now()
	for {
		select {
		case <-r.stop:
			// the probes are detached: take what is left, then the final counters
			r.drain()
			r.counters()
			return
		default:
		}
		// Write in batches: a write per few records would cost the recorder more than the
		// records do. Epoll reports the ring readable as soon as one byte is there, so it only
		// waits for an empty ring; a ring with less than a batch in it is given a moment more.
		pending := r.ring.Pending()
		switch {
		case pending == 0:
			if _, err := r.ring.Wait(poll); err != nil {
				r.err = err
				return
			}
		case pending < min(batchBytes, r.ring.Size()/4) && time.Since(lastDrain) < poll:
			time.Sleep(batchWait)
		default:
			r.drain()
			lastDrain = time.Now()
			if r.err != nil {
				return
			}
		}
		if now := time.Now(); now.After(nextCounters) {
			r.counters()
			nextCounters = now.Add(countersEvery)
		}
	}
}

// drain writes out what is committed in the ring now.
func (r *recorder) drain() {
	for todo := r.ring.Pending(); todo > 0; {
		a, b := r.ring.Span(spanMax)
		n := len(a) + len(b)
		if n == 0 {
			return // the next record is still being written
		}
		err := r.out.ring(a, b)
		r.ring.Release(n)
		if err != nil {
			r.err = err
			return
		}
		todo -= n
	}
	if time.Since(r.flushed) > flushEvery {
		if err := r.out.flush(); err != nil && r.err == nil {
			r.err = err
		}
		r.flushed = time.Now()
	}
}

func (r *recorder) counters() {
	lost, missed, err := r.set.Lost()
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		return
	}
	if err := r.out.counters(&rawrec.Counters{TS: monotonicNow(), Lost: lost, MissedKernel: missed.KernelEvents, MissedProcess: missed.ProcessEvents, MissedEntries: missed.SyscallEntries}); err != nil && r.err == nil {
		r.err = err
	}
}

// outlet is where the recorder's records go: a raw recording (the user's file or a spool the
// pipeline reads back), and/or a live view feed.
type outlet struct {
	hdr   *rawrec.Header
	w     *rawrec.Writer
	file  *os.File // the recording or spool being written
	back  *os.File // the same file, read back by the pipeline (complete runs)
	view  *viewFeed
	spool bool // file is a spool: gone when closed
}

func newOutlet(opts Options, hdr *rawrec.Header) (*outlet, error) {
	o := &outlet{hdr: hdr}
	f := opts.Record
	if f == nil && opts.Complete {
		var err error
		if f, o.back, err = spoolFile(opts.SpoolDir); err != nil {
			return nil, err
		}
		o.spool = true
	}
	if f != nil {
		w, err := rawrec.NewWriter(f, hdr)
		if err != nil {
			if o.spool {
				f.Close()
				o.back.Close()
			}
			return nil, err
		}
		o.w, o.file = w, f
	}
	if opts.Renderer == nil {
		return o, nil // recorded only: nothing reads the records back
	}
	if opts.Complete {
		if o.back == nil {
			back, err := reopen(o.file)
			if err != nil {
				o.close()
				return nil, fmt.Errorf("read back %s: %w", o.file.Name(), err)
			}
			o.back = back
		}
	} else {
		o.view = newViewFeed(viewLimit, opts.RecordName)
	}
	return o, nil
}

// spoolFile is an unnamed file in dir (O_TMPFILE), for a complete run that records nowhere,
// and a second open of it: the pipeline reads the records back at its own pace. Filesystems
// without O_TMPFILE (9p, NFS, older FUSE) get a named file, opened twice and then unlinked
// (a 9p file cannot be reopened through /proc once unlinked).
func spoolFile(dir string) (w, r *os.File, err error) {
	if dir == "" {
		dir = os.TempDir()
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
		return namedSpool(dir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("make a spool file in %s: %w", dir, err)
	}
	w = os.NewFile(uintptr(fd), dir+"/(iotrace spool)")
	if r, err = reopen(w); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("read back the spool file in %s: %w", dir, err)
	}
	return w, r, nil
}

func namedSpool(dir string) (w, r *os.File, err error) {
	w, err = os.CreateTemp(dir, ".iotrace-spool-*")
	if err != nil {
		return nil, nil, fmt.Errorf("make a spool file in %s: %w", dir, err)
	}
	r, err = os.Open(w.Name())
	if err == nil {
		err = os.Remove(w.Name())
	}
	if err != nil {
		w.Close()
		if r != nil {
			r.Close()
		}
		os.Remove(w.Name())
		return nil, nil, fmt.Errorf("spool file %s: %w", w.Name(), err)
	}
	return w, r, nil
}

// reopen opens f again for reading, with an offset of its own.
func reopen(f *os.File) (*os.File, error) {
	return os.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
}

func (o *outlet) ring(a, b []byte) error {
	if o.w != nil {
		if err := o.w.Ring(a, b); err != nil {
			return err
		}
	}
	if o.view != nil {
		o.view.ring(a, b)
	}
	return nil
}

func (o *outlet) flush() error {
	if o.w == nil {
		return nil
	}
	return o.w.Flush()
}

func (o *outlet) counters(c *rawrec.Counters) error {
	if o.w != nil {
		if err := o.w.Counters(c); err != nil {
			return err
		}
	}
	if o.view != nil {
		o.view.counters(c)
	}
	return nil
}

// end finishes the recording and the feed.
func (o *outlet) end(e *rawrec.End) error {
	var err error
	if o.w != nil {
		err = o.w.End(e)
		if cerr := o.w.Close(); err == nil {
			err = cerr
		}
	}
	if o.view != nil {
		o.view.close()
	}
	return err
}

// consume runs the pipeline on what the recorder saved and feeds the renderer; it returns the
// summary once the recording is finished and read. end is filled in before endReady closes.
func (o *outlet) consume(r render.Renderer, endReady <-chan struct{}, end *rawrec.End) (*event.Summary, error) {
	p, err := pipeline.New(o.hdr, r.Event)
	if err != nil {
		return nil, err
	}
	if err := r.Header(p.Header()); err != nil {
		o.abandon()
		return nil, err
	}
	if o.back != nil {
		rd, err := rawrec.NewReader(rawrec.NewTail(o.w, o.back), o.file.Name())
		if err != nil {
			return nil, err
		}
		for {
			f, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				// the recording stopped short (a write error): what was read stands
				if errors.Is(err, rawrec.ErrCutShort) {
					<-endReady
					return p.Finish(nil)
				}
				return nil, err
			}
			if err := p.Frame(f); err != nil {
				o.abandon()
				return nil, err
			}
		}
	} else {
		for {
			it, ok := o.view.next()
			if !ok {
				break
			}
			switch {
			case it.skip != nil:
				err = p.Skip(it.skip)
			case it.counters != nil:
				err = p.Counters(it.counters)
			default:
				err = p.Ring(it.ring)
			}
			if err != nil {
				o.abandon()
				return nil, err
			}
		}
	}
	<-endReady
	return p.Finish(end)
}

// abandon stops feeding a pipeline that failed (a renderer's write error): the recording goes on.
func (o *outlet) abandon() {
	if o.view != nil {
		go func() {
			for {
				if _, ok := o.view.next(); !ok {
					return
				}
			}
		}()
	}
}

func (o *outlet) close() {
	if o.back != nil {
		o.back.Close()
	}
	if o.spool && o.file != nil {
		o.file.Close()
	}
}

// header is the recording's header: the timeline's header line and what decoding needs.
func header(opts Options, set *probe.Set, t *syscalls.Table) *rawrec.Header {
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
	h.StartWallClock = time.Unix(0, int64(h.StartNS)+h.WallClockOffsetNS).UTC().Format(time.RFC3339Nano)
	raw := &rawrec.Header{Timeline: h, GoArch: t.Arch(), Kernel: map[uint16]rawrec.KernelFormat{}}
	if opts.Filter != nil && !opts.Filter.All() {
		h.Filter = opts.Filter.String()
		raw.Filter = []string{h.Filter}
	}
	for _, p := range set.Missing {
		h.MissingProbes = append(h.MissingProbes, p.String())
		if strings.HasPrefix(p.Name, "readahead:") && opts.KernelEvents["page_cache_sync_ra"] {
			raw.InferReadahead = true
		}
		if strings.HasPrefix(p.Name, "readahead:page_cache_sync_ra") {
			h.Notes = append(h.Notes, "this kernel has no readahead tracepoints: readahead is inferred from page-cache fills")
		}
	}
	for id, k := range set.Kernel {
		raw.Kernel[id] = rawrec.KernelFormat{Name: k.Name, Fields: k.Format.Fields}
	}
	for _, k := range raw.Kernel {
		h.KernelEvents = append(h.KernelEvents, k.Name)
	}
	slices.Sort(h.KernelEvents)
	return raw
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
