package cli

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/predict"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/session"
	"github.com/iotrace/iotrace/internal/syscalls"
	"github.com/iotrace/iotrace/workloads"
	"github.com/iotrace/iotrace/workloads/catalog"
)

// markerPrefix names the thread when a workload starts (prctl PR_SET_NAME), so the timeline can
// show where each workload begins without any side channel; "iot:W/V" and "iot:W" again mark
// where each of its variants begins and ends.
const markerPrefix = predict.MarkerPrefix

// NewCmdList builds `iotrace list`.
func NewCmdList(ios *iostreams.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in workloads and their variants",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			for _, w := range catalog.All() {
				fmt.Fprintf(ios.Out, "%-10s %s\n", w.Name, w.Desc)
				for _, v := range w.Variants {
					fmt.Fprintf(ios.Out, "  %-18s %s\n", v.Name, v.Desc)
				}
			}
			return nil
		},
	}
}

// RunOptions are `iotrace run`'s and `iotrace tour`'s.
type RunOptions struct {
	IO       *iostreams.IOStreams
	Out      OutputOptions
	Name     string
	Variant  string
	All      bool // every syscall, not only the workload's
	NoTrace  bool
	Snaplen  int
	Size     int64
	Count    int
	Tour     bool
	workload []*workloads.Workload
}

// NewCmdRun builds `iotrace run NAME`.
func NewCmdRun(ios *iostreams.IOStreams, runF func(*RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "run NAME [--variant V]",
		Short: "Run one built-in workload, traced (see `iotrace list`)",
		Args:  exactArgs(1, "run needs a workload name: see iotrace list"),
		RunE: func(_ *cobra.Command, args []string) error {
			w, err := catalog.Lookup(args[0])
			if err != nil {
				return &FlagError{Err: err}
			}
			if opts.Variant != "" {
				if _, err := w.Lookup(opts.Variant); err != nil {
					return &FlagError{Err: err}
				}
			}
			opts.Name, opts.workload = w.Name, []*workloads.Workload{w}
			if runF != nil {
				return runF(opts)
			}
			return runWorkloads(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Variant, "variant", "", "run only this variant (default: all, in order)")
	cmd.Flags().BoolVar(&opts.NoTrace, "no-trace", false, "run the workload plain, without tracing")
	addWorkloadFlags(cmd, opts)
	// shell completion: workload names, then the named workload's variants
	cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, w := range catalog.All() {
			names = append(names, w.Name+"\t"+w.Desc)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	_ = cmd.RegisterFlagCompletionFunc("variant", func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		var names []string
		if len(args) > 0 {
			if w, err := catalog.Lookup(args[0]); err == nil {
				for _, v := range w.Variants {
					names = append(names, v.Name+"\t"+v.Desc)
				}
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// NewCmdTour builds `iotrace tour`.
func NewCmdTour(ios *iostreams.IOStreams, runF func(*RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: ios, Tour: true}
	cmd := &cobra.Command{
		Use:   "tour",
		Short: "Every built-in workload, traced, one after another, with what to look for",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			opts.workload = catalog.All()
			if runF != nil {
				return runF(opts)
			}
			return runWorkloads(opts)
		},
	}
	addWorkloadFlags(cmd, opts)
	// the tour ends with what the kernel did, summed up
	_ = cmd.Flags().Set("summary", "true")
	cmd.Flags().Lookup("summary").DefValue = "true"
	return cmd
}

func addWorkloadFlags(cmd *cobra.Command, opts *RunOptions) {
	addOutputFlags(cmd, &opts.Out)
	cmd.Flags().BoolVar(&opts.All, "all", false, "show every syscall, not only the ones the workload is about")
	cmd.Flags().IntVar(&opts.Out.Collapse, "collapse", 4, "fold runs of more than N calls of one syscall into one line (0: show all)")
	cmd.Flags().IntVarP(&opts.Snaplen, "string-limit", "s", 32, "bytes of each buffer and iovec shown")
	cmd.Flags().Int64Var(&opts.Size, "size", 0, "file size in bytes for file-based workloads (default: each workload's own)")
	cmd.Flags().IntVar(&opts.Count, "count", 0, "repetitions or descriptor counts, where a workload has them")
}

// workloadArgv is the traced child's command line: this binary in workload mode.
func workloadArgv(opts *RunOptions) ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find iotrace's own binary: %w", err)
	}
	argv := []string{self, workloadCmd}
	for _, w := range opts.workload {
		argv = append(argv, w.Name)
	}
	if opts.Variant != "" {
		argv = append(argv, "--variant", opts.Variant)
	}
	if opts.Size > 0 {
		argv = append(argv, "--size", strconv.FormatInt(opts.Size, 10))
	}
	if opts.Count > 0 {
		argv = append(argv, "--count", strconv.Itoa(opts.Count))
	}
	return argv, nil
}

func runWorkloads(opts *RunOptions) error {
	if opts.NoTrace {
		return runInProcess(opts.workload, opts.Variant, workloads.Options{Size: opts.Size, Count: opts.Count, Stdout: opts.IO.Out})
	}
	if err := opts.Out.check(opts.IO); err != nil {
		return err
	}
	argv, err := workloadArgv(opts)
	if err != nil {
		return err
	}
	var filter *syscalls.Filter
	if !opts.All {
		if filter, err = workloadFilter(opts.workload); err != nil {
			return err
		}
	}
	var notes []string
	for _, w := range opts.workload {
		notes = append(notes, "workload "+w.Name+": "+w.Desc)
	}
	wrap := func(r render.Renderer) render.Renderer {
		if opts.Out.Format == "text" {
			r = &headings{Renderer: r, ios: opts.IO, workloads: opts.workload, tour: opts.Tour, all: opts.All}
		}
		// outermost: the predictions are judged on every event, before headings hide the
		// start-up, and their verdicts reach every output (the -o recording too)
		return predict.Wrap(r)
	}
	sopts := session.Options{Argv: argv, Filter: filter, Snaplen: opts.Snaplen, Notes: notes}
	if opts.Out.Format == "jsonl" {
		// stdout carries JSON Lines: the workload narrates on stderr
		sopts.Stdout = os.Stderr
	}
	return traceWith(opts.IO, &opts.Out, sopts, wrap)
}

// workloadFilter narrows a run to the syscalls its workloads are about, plus the markers.
func workloadFilter(ws []*workloads.Workload) (*syscalls.Filter, error) {
	t := syscalls.Native()
	names := []string{"prctl", "execve"}
	for _, w := range ws {
		for _, n := range w.Syscalls {
			if _, ok := t.Nr(n); ok {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return syscalls.ParseFilter(t, []string{"trace=" + strings.Join(slices.Compact(names), ",")})
}

// headings prints a heading (and in the tour, what to look for) where each workload begins.
type headings struct {
	render.Renderer
	ios       *iostreams.IOStreams
	workloads []*workloads.Workload
	tour      bool
	// all shows the Go runtime's start-up too; otherwise the timeline starts at the first marker.
	all     bool
	started bool
	// shown are the workloads whose heading is out: each variant's end marks its workload again.
	shown map[string]bool
}

func (h *headings) Event(e event.Event) error {
	if s, ok := e.(*event.Syscall); ok && s.Name == "prctl" {
		if name, ok := s.Decoded.Str("arg2"); ok && strings.HasPrefix(name, markerPrefix) {
			h.started = true
			h.heading(strings.TrimPrefix(name, markerPrefix))
		}
	}
	if !h.started && !h.all {
		return nil
	}
	return h.Renderer.Event(e)
}

func (h *headings) heading(name string) {
	if h.shown[name] {
		return
	}
	if h.shown == nil {
		h.shown = map[string]bool{}
	}
	h.shown[name] = true
	cs := h.ios.ColorScheme()
	for _, w := range h.workloads {
		if w.Name != name {
			continue
		}
		fmt.Fprintf(h.ios.Out, "\n%s\n", cs.Bold("== "+w.Name+": "+w.Desc))
		if h.tour {
			fmt.Fprintf(h.ios.Out, "%s\n\n", cs.Dim(wrap(w.Guide, 96)))
		}
	}
}

func wrap(s string, width int) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(s) {
		if col > 0 && col+1+len(word) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// mark names this thread markerPrefix+name (prctl PR_SET_NAME): the marker the timeline's
// headings and the predictions key on. The thread's own name keeps 15 bytes of it; the trace
// reads the whole string from the call's argument.
func mark(name string) {
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafePointer(markerPrefix+name)), 0, 0, 0)
}

// workloadCmd is the hidden command the traced child runs.
const workloadCmd = "__workload"

func newCmdWorkloadChild(ios *iostreams.IOStreams) *cobra.Command {
	opts := workloads.Options{Stdout: ios.Out}
	var variant string
	cmd := &cobra.Command{
		Use:    workloadCmd + " NAME…",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var ws []*workloads.Workload
			for _, name := range args {
				w, err := catalog.Lookup(name)
				if err != nil {
					return err
				}
				ws = append(ws, w)
			}
			return runInProcess(ws, variant, opts)
		},
	}
	cmd.Flags().StringVar(&variant, "variant", "", "")
	cmd.Flags().Int64Var(&opts.Size, "size", 0, "")
	cmd.Flags().IntVar(&opts.Count, "count", 0, "")
	return cmd
}

// runInProcess runs workloads in this process, marking where each begins, and where each of
// its variants begins and ends. One that fails does not stop the others; the failures are said
// together at the end (and the exit is non-zero).
func runInProcess(ws []*workloads.Workload, variant string, opts workloads.Options) error {
	opts.Mark = mark
	var failed []string
	for _, w := range ws {
		mark(w.Name)
		if err := workloads.Run(w, variant, opts); err != nil {
			failed = append(failed, strings.ReplaceAll(err.Error(), "\n", "; "))
		}
	}
	switch {
	case len(failed) == 1 && len(ws) == 1:
		return fmt.Errorf("workload %s", failed[0])
	case len(failed) > 0:
		return fmt.Errorf("%d of %d workloads had a failure: %s", len(failed), len(ws), strings.Join(failed, "; "))
	}
	return nil
}
