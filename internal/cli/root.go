// Package cli is iotrace's command tree. Each command is an options struct, a NewCmdX
// constructor that parses into it, and a run function that does the work.
package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/launch"
	"github.com/iotrace/iotrace/internal/session"
)

// ExitError carries an exit status that is not a failure of iotrace (the target's own).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// FlagError is bad input on the command line: one sentence, then the usage hint.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

func flagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// Main runs iotrace and returns its exit status.
func Main() int {
	launch.MaybeRunGate()
	// Decoding allocates a little for every event: collect a quarter as often as Go's default
	// (measured: a third less CPU for show, at twice the heap). A traced run bounds its heap
	// itself (session.Run).
	debug.SetGCPercent(400)
	if len(os.Args) > 1 && (os.Args[1] == "trace" || os.Args[1] == "run" || os.Args[1] == "tour") {
		// a run owns its signals from the start (see session.CatchSignals)
		session.CatchSignals()
	}
	ios := iostreams.System()
	root := NewCmdRoot(ios)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	fmt.Fprintf(ios.ErrOut, "iotrace: %s\n", err)
	var intr *session.InterruptedError
	if errors.As(err, &intr) {
		if sig, ok := intr.Sig.(syscall.Signal); ok {
			return 128 + int(sig)
		}
		return 130
	}
	var nf *launch.NotFoundError
	if errors.As(err, &nf) {
		return 127
	}
	var cr *launch.CannotRunError
	if errors.As(err, &cr) {
		return 126
	}
	var fe *FlagError
	if errors.As(err, &fe) {
		fmt.Fprintln(ios.ErrOut, "Run 'iotrace --help' for usage.")
		return 2
	}
	return 1
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(ios *iostreams.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "iotrace",
		Short: "See what Linux does under advanced I/O: syscalls and the kernel work behind them, traced with eBPF",
		Long: `iotrace traces a program's system calls with eBPF, decodes them like strace
(buffers, iovecs, epoll events, AIO control blocks…), and prints an annotated timeline.
Built-in workloads demonstrate scatter/gather, epoll, mmap, fadvise, asynchronous I/O and dup.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       session.Version,
	}
	root.SetVersionTemplate("iotrace {{.Version}} (" + runtime.GOOS + "/" + runtime.GOARCH + ", " + runtime.Version() + ")\n")
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &FlagError{Err: err} })
	root.AddCommand(
		NewCmdTour(ios, nil),
		NewCmdList(ios),
		NewCmdRun(ios, nil),
		NewCmdTrace(ios, nil),
		NewCmdShow(ios, nil),
		NewCmdDoctor(ios, nil),
		NewCmdExport(ios, nil),
		NewCmdDiff(ios, nil),
		newCmdWorkloadChild(ios),
	)
	// `iotrace completion bash|zsh|fish|powershell`, cobra's own
	root.CompletionOptions.HiddenDefaultCmd = false
	return root
}
