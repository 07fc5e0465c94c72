package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/outfile"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/render/jsonl"
	"github.com/iotrace/iotrace/internal/render/summary"
	"github.com/iotrace/iotrace/internal/render/text"
)

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
	// Time is the text view's time column (strace's -t, -tt, -ttt, -r).
	Time text.TimeColumn
	// Status picks the calls the views show by outcome (strace -z, -Z); the -o file has all.
	Status render.Status
	// allowNone: the command records, so --format none (only record) makes sense.
	allowNone bool
}

func (o *OutputOptions) check(ios *iostreams.IOStreams) error {
	if o.Format != "text" && o.Format != "jsonl" && (o.Format != "none" || !o.allowNone) {
		if o.allowNone {
			return flagErrorf("unknown --format %q: use text, jsonl or none", o.Format)
		}
		return flagErrorf("unknown --format %q: use text or jsonl", o.Format)
	}
	if o.Format == "none" && o.Output == "" && !o.Summary {
		return flagErrorf("--format none shows nothing: give -o FILE to record")
	}
	if err := ios.SetColorMode(o.Color); err != nil {
		return &FlagError{Err: err}
	}
	return nil
}

// outputs is what a run writes to: the renderers of the timeline, and the raw recording.
type outputs struct {
	r render.Renderer
	// record is the raw recording (-o FILE.iotrace), nil when not asked for.
	record *os.File
	// complete: a renderer writes a file or a pipe, so it must get every event; a terminal
	// may be thinned out instead.
	complete bool
	// spoolDir is where a complete run keeps its records while the renderers catch up.
	spoolDir string
	// file is the -o output, put in place by commit (or thrown away by abort).
	file *outfile.File
	// view is what renders on stdout (r without the -o file's renderer, fileR)
	view  []render.Renderer
	fileR render.Renderer
}

// commit closes the renderers' file and puts it at its name.
func (o *outputs) commit() error {
	if o.file == nil {
		return nil
	}
	return o.file.Commit()
}

// abort throws the output away: nothing was traced, and an older file at its name stays.
func (o *outputs) abort() {
	if o.file != nil {
		o.file.Abort()
	}
}

// isRawName reports whether -o names a raw recording (decoded when read, like perf.data).
func isRawName(path string) bool { return strings.HasSuffix(path, ".iotrace") }

// outputs builds what a run writes: text or JSON Lines on stdout, and the -o recording — raw
// for a FILE.iotrace, JSON Lines otherwise.
func (o *OutputOptions) outputs(ios *iostreams.IOStreams) (*outputs, error) {
	out := &outputs{complete: !ios.IsStdoutTTY()}
	var file io.Writer
	if o.Output != "" {
		perm := outfile.Public
		if isRawName(o.Output) {
			perm = outfile.Private
		}
		f, err := outfile.Create(o.Output, perm)
		if err != nil {
			return nil, err
		}
		out.file = f
		if isRawName(o.Output) {
			out.record = f.File
		} else {
			file, out.complete = f, true
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				out.spoolDir = filepath.Dir(o.Output)
			}
		}
	}
	var rs []render.Renderer
	switch o.Format {
	case "none":
		// nothing on stdout: only the recording (and the summary, when asked for)
		out.complete = file != nil
		if o.Summary {
			// stdout is the command's: the table goes to stderr, as strace -c's does
			rs = append(rs, summaryTable{ios.ErrOut})
			out.complete = true
		}
	case "jsonl":
		w := io.Writer(ios.Out)
		if file != nil {
			// the same lines twice: encode once
			w, file = io.MultiWriter(ios.Out, file), nil
		}
		rs = append(rs, jsonl.New(w))
		if o.Summary {
			// stdout is for machines: the table goes to stderr
			rs = append(rs, summaryTable{ios.ErrOut})
		}
	default:
		rs = append(rs, text.New(ios.Out, text.Options{Color: ios.ColorEnabled(), Summary: o.Summary, Info: ios.ErrOut, Collapse: o.Collapse, Time: o.Time}))
	}
	for i := range rs {
		rs[i] = render.NewStatusFilter(rs[i], o.Status)
	}
	out.view = rs
	if file != nil {
		out.fileR = jsonl.New(file)
		rs = append(rs, out.fileR)
	}
	if len(rs) > 0 {
		out.r = render.NewMulti(rs...)
	}
	return out, nil
}

// renderer is what the run renders into, with wrap (the workloads' headings, which start the
// view at the first workload) around the views on stdout only: the -o file keeps everything.
func (o *outputs) renderer(wrap func(render.Renderer) render.Renderer) render.Renderer {
	if wrap == nil || len(o.view) == 0 {
		return o.r
	}
	rs := []render.Renderer{wrap(render.NewMulti(o.view...))}
	if o.fileR != nil {
		rs = append(rs, o.fileR)
	}
	return render.NewMulti(rs...)
}

// renderers builds the renderers alone, for commands that re-render a recording.
func (o *OutputOptions) renderers(ios *iostreams.IOStreams) (render.Renderer, func() error, error) {
	out, err := o.outputs(ios)
	if err != nil {
		return nil, nil, err
	}
	return out.r, out.commit, nil
}

// summaryTable prints only the strace -c style table, at the end.
type summaryTable struct{ w io.Writer }

func (summaryTable) Header(*event.Header) error       { return nil }
func (summaryTable) Event(event.Event) error          { return nil }
func (s summaryTable) Close(sum *event.Summary) error { return summary.Write(s.w, sum) }
