// Package cli is iotrace's command tree. Each command is an options struct, a NewCmdX
// constructor that parses into it, and a run function that does the work.
package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/launch"
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
	var nf *launch.NotFoundError
	if errors.As(err, &nf) {
		return 127
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
	}
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
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}

// createOutput creates a recording without following a symlink at its name, so a link planted
// in a shared directory cannot redirect it.
func createOutput(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscallNoFollow, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return f, nil
}
