package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/filter"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/predict"
	"github.com/iotrace/iotrace/internal/probe"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/render/summary"
	"github.com/iotrace/iotrace/internal/replay"
)

// ShowOptions are `iotrace show`'s.
type ShowOptions struct {
	IO          *iostreams.IOStreams
	Out         OutputOptions
	Filter      filter.Options
	SummaryOnly bool
	File        string
}

// NewCmdShow builds `iotrace show FILE`.
func NewCmdShow(ios *iostreams.IOStreams, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "show FILE",
		Short: "Re-render a recorded timeline, filtered (works without root or BPF)",
		Example: `  iotrace show run.jsonl --tid 4243 -e trace=%vectored
  iotrace show run.jsonl --since 1.5s --until 2s --kernel-events block,sched
  iotrace show run.jsonl --failed --summary-only`,
		Args: exactArgs(1, "show needs one recording: iotrace show FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.SummaryOnly && opts.Out.Summary {
				return flagErrorf("give --summary or --summary-only, not both")
			}
			if runF != nil {
				return runF(opts)
			}
			return runShow(opts)
		},
	}
	f := &opts.Filter
	cmd.Flags().StringSliceVar(&f.TIDs, "tid", nil, "only these threads (`TID`[,TID…]), with the kernel work their calls caused")
	cmd.Flags().StringSliceVar(&f.PIDs, "pid", nil, "only these processes (`PID`[,PID…])")
	cmd.Flags().StringArrayVarP(&f.Exprs, "expr", "e", nil, "syscalls to show, as trace takes them: trace=writev,readv, %file, %vectored, …; !negates")
	cmd.Flags().StringVar(&f.Since, "since", "", "from this `TIME` after the start of tracing (1.5s, 200ms, 0.25)")
	cmd.Flags().StringVar(&f.Until, "until", "", "up to this `TIME` after the start of tracing")
	cmd.Flags().BoolVar(&f.Failed, "failed", false, "only syscalls that failed, and the kernel work they caused")
	cmd.Flags().StringVar(&f.KernelEvents, "kernel-events", "all", "kernel events to keep: all, none, or a `LIST` of groups (filemap, readahead, block, io_uring, writeback, kmem, exceptions, sched, libc), names and patterns (mm_filemap_*)")
	cmd.Flags().BoolVar(&opts.SummaryOnly, "summary-only", false, "print only the summary table of what the filters keep (strace -c)")
	cmd.Flags().StringVar(&opts.Out.Format, "format", "text", "what stdout shows: text or jsonl")
	cmd.Flags().BoolVar(&opts.Out.Summary, "summary", false, "print a per-syscall summary table at the end")
	cmd.Flags().StringVar(&opts.Out.Color, "color", "auto", "colour: auto, always or never (NO_COLOR is honoured)")
	return cmd
}

func runShow(opts *ShowOptions) error {
	if err := opts.Out.check(opts.IO); err != nil {
		return err
	}
	rd, err := replay.Open(opts.File)
	if err != nil {
		return err
	}
	defer rd.Close()
	opts.Filter.KernelGroups = kernelEventGroups()
	f, err := filter.New(opts.Filter, rd.Header())
	if err != nil {
		return &FlagError{Err: err}
	}
	var r render.Renderer = summaryTable{opts.IO.Out}
	if !opts.SummaryOnly {
		var closeFile func() error
		if r, closeFile, err = opts.Out.renderers(opts.IO); err != nil {
			return err
		}
		defer closeFile()
	}
	if err := r.Header(rd.Header()); err != nil {
		return err
	}
	var kept summary.Counter
	kept.Start(rd.Header().StartNS)
	// a workload's predictions are judged on the whole recording, as the run judged them,
	// whatever the filters keep; their verdicts are shown with the timeline
	judge := predict.New(rd.Header())
	verdicts := func(ps []*event.Prediction) error {
		for _, p := range ps {
			if err := r.Event(p); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if _, ok := e.(*event.Prediction); ok {
			continue // judged again below
		}
		ps := judge.Event(e)
		if f.Keep(e) {
			kept.Add(e)
			if err := r.Event(e); err != nil {
				return err
			}
		}
		if err := verdicts(ps); err != nil {
			return err
		}
	}
	if err := verdicts(judge.Finish()); err != nil {
		return err
	}
	for _, w := range rd.Warnings() {
		fmt.Fprintf(opts.IO.ErrOut, "iotrace: warning: %s\n", w)
	}
	return r.Close(predict.WithStat(filteredSummary(rd.Summary(), f, &kept), judge.Stat()))
}

// kernelEventGroups are the groups --kernel-events takes, as trace has them; "sched" is the
// off-CPU time its events record as sched_blocked and sched_preempted.
func kernelEventGroups() map[string][]string {
	groups := map[string][]string{"sched": {"sched_blocked", "sched_preempted"}}
	for _, k := range probe.KernelEvents {
		groups[k.Group] = append(groups[k.Group], k.Names...)
	}
	return groups
}

// filteredSummary is the recording's own summary when nothing was filtered out, else one
// counted from what was kept; the target's exit status and a cut-short mark carry over.
func filteredSummary(full *event.Summary, f *filter.Filter, kept *summary.Counter) *event.Summary {
	if f.IsZero() {
		return full
	}
	s := kept.Summary()
	s.ExitCode, s.Truncated = full.ExitCode, full.Truncated
	return s
}

func exactArgs(n int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return flagErrorf("%s", msg)
		}
		return nil
	}
}
