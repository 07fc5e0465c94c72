package cli

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/doctor"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/probe"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/session"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// TraceOptions are `iotrace trace`'s flags and arguments.
type TraceOptions struct {
	IO      *iostreams.IOStreams
	Out     OutputOptions
	Exprs   []string // -e
	PID     int
	Strace  straceFlags
	Snaplen int
	// RingBytes is --buffer-size: the BPF ring buffer's size.
	RingBytes int
	Argv      []string
}

// NewCmdTrace builds `iotrace trace`. runF replaces the run function in tests.
func NewCmdTrace(ios *iostreams.IOStreams, runF func(*TraceOptions) error) *cobra.Command {
	opts := &TraceOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "trace [flags] (-p PID | -- CMD [ARGS…])",
		Short: "Trace a command and all its descendants, or a running process",
		Example: `  iotrace trace -- cat /etc/hostname
  iotrace trace -e trace=%vectored,%desc -s 64 -- ./writev-demo
  iotrace trace -p 4242 -o run.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Argv = args
			exprs, pid, err := opts.Strace.apply(cmd, &opts.Out, opts.Exprs)
			if err != nil {
				return err
			}
			opts.Exprs, opts.PID = exprs, pid
			if opts.PID != 0 && len(args) > 0 {
				return flagErrorf("give either -p PID or a command, not both")
			}
			if opts.PID == 0 && len(args) == 0 {
				return flagErrorf("nothing to trace: give a command after -- or -p PID")
			}
			if opts.PID < 0 {
				return flagErrorf("invalid pid %d", opts.PID)
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrace(opts)
		},
	}
	addOutputFlags(cmd, &opts.Out)
	cmd.Flags().StringArrayVarP(&opts.Exprs, "expr", "e", nil, "syscalls to show, strace-style: trace=writev,readv, %file, %desc, %memory, %network, %process, %vectored, %epoll, %mmap, %fadvise, %aio, %dup; !negates")
	addStraceFlags(cmd, &opts.Strace)
	cmd.Flags().IntVarP(&opts.Snaplen, "string-limit", "s", 32, fmt.Sprintf("bytes of each buffer and iovec shown (at most %d)", probe.SnapMax))
	cmd.Flags().IntVar(&opts.RingBytes, "buffer-size", 16<<20, "bytes of the kernel's ring buffer (a power of two, at least 4096): smaller loses events sooner")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func addOutputFlags(cmd *cobra.Command, o *OutputOptions) {
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "record the timeline to `FILE`: FILE.iotrace keeps the raw records (complete at any rate; read with show/export), any other name JSON Lines")
	cmd.Flags().StringVar(&o.Format, "format", "text", "what stdout shows: text, jsonl, or none (only record, with -o)")
	o.allowNone = true
	cmd.Flags().BoolVarP(&o.Summary, "summary", "C", false, "print a per-syscall summary table at the end (strace -C)")
	cmd.Flags().StringVar(&o.Color, "color", "auto", "colour: auto, always or never (NO_COLOR is honoured)")
	cmd.Flags().StringVar(&o.KernelEvents, "kernel-events", "all", kernelEventsHelp())
}

func runTrace(opts *TraceOptions) error {
	if err := opts.Out.check(opts.IO); err != nil {
		return err
	}
	if opts.Snaplen < 0 || opts.Snaplen > probe.SnapMax {
		return flagErrorf("-s %d is outside 0..%d", opts.Snaplen, probe.SnapMax)
	}
	if r := opts.RingBytes; r < 4096 || r&(r-1) != 0 || r > maxRing {
		return flagErrorf("--buffer-size %d is not a power of two from 4096 to %d (1 GiB)", r, maxRing)
	}
	filter, err := syscalls.ParseFilter(syscalls.Native(), opts.Exprs)
	if err != nil {
		return &FlagError{Err: err}
	}
	return traceWith(opts.IO, &opts.Out, session.Options{
		Argv: opts.Argv, PID: opts.PID, Filter: filter, Snaplen: opts.Snaplen, RingBytes: opts.RingBytes,
	}, nil)
}

// maxRing is the largest ring buffer iotrace asks for: the kernel's limit is higher, but the
// ring is locked memory.
const maxRing = 1 << 30

// traceWith checks privileges, builds the renderers (wrapped by wrap, when given) and runs the
// session; the target's exit status becomes iotrace's.
func traceWith(ios *iostreams.IOStreams, out *OutputOptions, sopts session.Options, wrap func(render.Renderer) render.Renderer) error {
	if err := doctor.CheckPrivileges(); err != nil {
		return err
	}
	outs, err := out.outputs(ios)
	if err != nil {
		return err
	}
	sopts.Renderer = outs.renderer(wrap)
	sopts.Record, sopts.Complete, sopts.SpoolDir = outs.record, outs.complete, outs.spoolDir
	if outs.record != nil {
		sopts.RecordName = outs.file.Path()
	}
	sopts.Info = ios.ErrOut
	if sopts.KernelEvents, err = parseKernelEvents(out.KernelEvents); err != nil {
		return err
	}
	traced := false
	sopts.Started = func() { traced = true }
	status, err := session.Run(sopts)
	if errors.Is(err, syscall.EPIPE) {
		// whoever read stdout went away (| head): the trace went on, into the recording
		if out.Output != "" {
			fmt.Fprintf(ios.ErrOut, "iotrace: stdout was closed early; %s has the whole trace\n", out.Output)
		}
		err = nil
	}
	if errno, full := storageFull(err); traced && full && outs.file != nil {
		// the disk ran out under the recording: what reached it is cut wherever the space
		// ended, without its summary, so it is thrown away (an older file of the name stays)
		outs.abort()
		return fmt.Errorf("%s could not be written: %w; the cut recording was not kept", out.Output, errno)
	}
	if traced {
		// what was traced stays, even after an error midway: the file says where it ends
		if cerr := outs.commit(); err == nil {
			err = cerr
		}
	} else {
		outs.abort()
	}
	if err != nil {
		return err
	}
	if status != 0 {
		return &ExitError{Code: status}
	}
	return nil
}

// storageFull reports whether err is the filesystem running out of room (space, quota, file
// size), and which.
func storageFull(err error) (syscall.Errno, bool) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG} {
		if errors.Is(err, errno) {
			return errno, true
		}
	}
	return 0, false
}
