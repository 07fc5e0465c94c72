package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/record"
)

// ShowOptions are `iotrace show`'s.
type ShowOptions struct {
	IO   *iostreams.IOStreams
	Out  OutputOptions
	File string
}

// NewCmdShow builds `iotrace show FILE`.
func NewCmdShow(ios *iostreams.IOStreams, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "show FILE",
		Short: "Re-render a recorded timeline (works without root or BPF)",
		Args:  exactArgs(1, "show needs one recording: iotrace show FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runShow(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out.Format, "format", "text", "what stdout shows: text or jsonl")
	cmd.Flags().BoolVar(&opts.Out.Summary, "summary", false, "print a per-syscall summary table at the end")
	cmd.Flags().StringVar(&opts.Out.Color, "color", "auto", "colour: auto, always or never (NO_COLOR is honoured)")
	return cmd
}

func runShow(opts *ShowOptions) error {
	if err := opts.Out.check(opts.IO); err != nil {
		return err
	}
	rd, err := record.Open(opts.File)
	if err != nil {
		return err
	}
	defer rd.Close()
	r, closeFile, err := opts.Out.renderers(opts.IO)
	if err != nil {
		return err
	}
	defer closeFile()
	if err := r.Header(rd.Header()); err != nil {
		return err
	}
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := r.Event(e); err != nil {
			return err
		}
	}
	for _, w := range rd.Warnings() {
		fmt.Fprintf(opts.IO.ErrOut, "iotrace: warning: %s\n", w)
	}
	return r.Close(rd.Summary())
}

func exactArgs(n int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return flagErrorf("%s", msg)
		}
		return nil
	}
}
