package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/outfile"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/render/html"
	"github.com/iotrace/iotrace/internal/render/perfetto"
	"github.com/iotrace/iotrace/internal/replay"
)

// ExportOptions are `iotrace export`'s.
type ExportOptions struct {
	IO     *iostreams.IOStreams
	File   string
	Format string // perfetto | html
	Output string // path, or - for stdout
}

// NewCmdExport builds `iotrace export FILE --format perfetto|html -o OUT`.
func NewCmdExport(ios *iostreams.IOStreams, runF func(*ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "export FILE --format perfetto|html -o OUT",
		Short: "Turn a recording into a Perfetto/Chrome trace or a self-contained HTML timeline",
		Long: `Export a recorded timeline for a viewer (works without root or BPF).

  perfetto  Chrome trace-event JSON: open it at https://ui.perfetto.dev or chrome://tracing.
            One track per thread, syscalls as slices with their decoded arguments, kernel
            events on the thread that ran them, arrows from a call to the work it caused.
  html      One file with no outside references: threads as lanes, calls as bars coloured
            by mechanism, kernel evidence on hover and click, zoom and pan, a summary table.`,
		Example: `  iotrace export run.jsonl --format perfetto -o run.json
  iotrace export run.jsonl --format html -o run.html`,
		Args: exactArgs(1, "export needs one recording: iotrace export FILE --format perfetto|html -o OUT"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.Format != "perfetto" && opts.Format != "html" {
				return flagErrorf("unknown --format %q: use perfetto or html", opts.Format)
			}
			if opts.Output == "" {
				return flagErrorf("export needs -o OUT (- for stdout)")
			}
			if runF != nil {
				return runF(opts)
			}
			return runExport(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "perfetto", "perfetto (Chrome trace-event JSON) or html")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to `OUT` (- for stdout)")
	return cmd
}

func runExport(opts *ExportOptions) (err error) {
	rd, err := replay.Open(opts.File)
	if err != nil {
		return err
	}
	defer rd.Close()

	out := opts.IO.Out
	if opts.Output != "-" {
		if sameFile(opts.Output, opts.File) {
			return fmt.Errorf("the output %s is the recording being exported: give it another name", opts.Output)
		}
		f, cerr := outfile.Create(opts.Output, outfile.Public)
		if cerr != nil {
			return cerr
		}
		defer func() {
			if err != nil {
				f.Abort() // a half-written export only misleads; an older file of that name stays
				return
			}
			err = f.Commit()
		}()
		out = f
	}

	var r render.Renderer
	if opts.Format == "html" {
		r = html.New(out, html.Options{Title: exportTitle(opts.File, rd.Header())})
	} else {
		r = perfetto.New(out)
	}
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
		if _, ok := e.(*event.Prediction); ok {
			continue // a verdict, not an event on a thread: `show` prints them
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

// sameFile says whether two paths name one file (hard links and symlinks included).
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// exportTitle names the page after what was traced: the workload as `iotrace run` names it (the
// recorded command is iotrace's hidden child), else the command, else the recording's file.
func exportTitle(file string, h *event.Header) string {
	switch c := h.Command; {
	case len(c) > 2 && c[1] == workloadCmd:
		return "iotrace run " + strings.Join(c[2:], " ")
	case len(c) > 0:
		return "iotrace trace -- " + strings.Join(c, " ")
	case h.AttachPID != 0:
		return fmt.Sprintf("iotrace trace -p %d", h.AttachPID)
	}
	return "iotrace show " + filepath.Base(file)
}
