package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/diff"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/replay"
)

// DiffOptions are `iotrace diff`'s.
type DiffOptions struct {
	IO   *iostreams.IOStreams
	A, B string
}

// NewCmdDiff builds `iotrace diff A B`.
func NewCmdDiff(ios *iostreams.IOStreams, runF func(*DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two recordings: calls and time per syscall, kernel events and what they moved",
		Long: `Compare two recordings side by side (works without root or BPF): per syscall the calls,
errors and time in A and B and the change; per kernel event the count and the sums of its
amounts (pages, nr_pages, sectors, bytes, time off CPU) where it carries them.`,
		Example: `  iotrace diff with-willneed.jsonl without-willneed.jsonl`,
		Args:    exactArgs(2, "diff needs two recordings: iotrace diff A B"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.A, opts.B = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runDiff(opts)
		},
	}
	return cmd
}

func runDiff(opts *DiffOptions) error {
	a, err := profile(opts.IO, opts.A)
	if err != nil {
		return err
	}
	b, err := profile(opts.IO, opts.B)
	if err != nil {
		return err
	}
	return diff.Write(opts.IO.Out, a, b)
}

// profile reads one recording into a diff profile, warning about a recording cut short.
func profile(ios *iostreams.IOStreams, path string) (*diff.Profile, error) {
	rd, err := replay.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	p := diff.NewProfile(path, rd.Header())
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if _, ok := e.(*event.Prediction); !ok { // verdicts are no work to compare
			p.Add(e)
		}
	}
	for _, w := range rd.Warnings() {
		fmt.Fprintf(ios.ErrOut, "iotrace: warning: %s\n", w)
	}
	return p, nil
}
