package cli

import (
	"io"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/render/jsonl"
	"github.com/iotrace/iotrace/internal/render/summary"
	"github.com/iotrace/iotrace/internal/render/text"
)

const syscallNoFollow = unix.O_NOFOLLOW

// OutputOptions are the flags every command that prints a timeline shares.
type OutputOptions struct {
	Format  string // text | jsonl
	Output  string // -o FILE: JSON Lines recording
	Summary bool
	Color   string
	// KernelEvents is --kernel-events, for commands that trace.
	KernelEvents string
	// Collapse folds long runs of one syscall in the text timeline (run and tour).
	Collapse int
}

func (o *OutputOptions) check(ios *iostreams.IOStreams) error {
	if o.Format != "text" && o.Format != "jsonl" {
		return flagErrorf("unknown --format %q: use text or jsonl", o.Format)
	}
	if err := ios.SetColorMode(o.Color); err != nil {
		return &FlagError{Err: err}
	}
	return nil
}

// renderers builds what a run writes: text or JSON Lines on stdout, and the -o recording.
// closeFile releases the recording file once the renderers are closed.
func (o *OutputOptions) renderers(ios *iostreams.IOStreams) (r render.Renderer, closeFile func() error, err error) {
	var out render.Multi
	closeFile = func() error { return nil }
	var file io.Writer
	if o.Output != "" {
		f, err := createOutput(o.Output)
		if err != nil {
			return nil, nil, err
		}
		file, closeFile = f, f.Close
	}
	if o.Format == "jsonl" {
		w := io.Writer(ios.Out)
		if file != nil {
			// the same lines twice: encode once
			w, file = io.MultiWriter(ios.Out, file), nil
		}
		out = append(out, jsonl.New(w))
		if o.Summary {
			// stdout is for machines: the table goes to stderr
			out = append(out, summaryTable{ios.ErrOut})
		}
	} else {
		out = append(out, text.New(ios.Out, text.Options{Color: ios.ColorEnabled(), Summary: o.Summary, Info: ios.ErrOut, Collapse: o.Collapse}))
	}
	if file != nil {
		out = append(out, jsonl.New(file))
	}
	return out, closeFile, nil
}

// summaryTable prints only the strace -c style table, at the end.
type summaryTable struct{ w io.Writer }

func (summaryTable) Header(*event.Header) error       { return nil }
func (summaryTable) Event(event.Event) error          { return nil }
func (s summaryTable) Close(sum *event.Summary) error { return summary.Write(s.w, sum) }
