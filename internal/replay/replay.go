// Package replay opens a recording of either kind as a stream of annotated events, for `show`,
// `export` and `diff`: a JSON Lines recording is read as it was written (internal/record); a raw
// recording (internal/rawrec) goes through the pipeline, decoded and annotated the way the live
// trace was — so both give the same timeline.
package replay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/pipeline"
	"github.com/iotrace/iotrace/internal/rawrec"
	"github.com/iotrace/iotrace/internal/record"
)

// Reader is a recording being read.
type Reader interface {
	// Header is the timeline's header.
	Header() *event.Header
	// Next returns the next event, and io.EOF after the last one.
	Next() (event.Event, error)
	// Summary is the recording's summary once Next has returned io.EOF (nil before).
	Summary() *event.Summary
	// Warnings say what was wrong but still readable (a file cut short), one sentence each.
	Warnings() []string
	Close() error
}

// Open opens the recording at path, of either kind.
func Open(path string) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError: "open FILE: no such file or directory"
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not an iotrace recording", path)
	}
	r, err := newReader(f, path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// NewReader reads a recording of either kind from rd, naming it name in messages.
func NewReader(rd io.Reader, name string) (Reader, error) { return newReader(rd, name, nil) }

func newReader(rd io.Reader, name string, closer io.Closer) (Reader, error) {
	br := bufio.NewReaderSize(rd, 1<<20)
	if prefix, _ := br.Peek(len(rawrec.Magic)); rawrec.IsRaw(prefix) {
		return openRaw(br, name, closer)
	}
	r, err := record.NewReader(br, name)
	if err != nil {
		return nil, err
	}
	return &jsonReader{Reader: r, closer: closer}, nil
}

type jsonReader struct {
	*record.Reader
	closer io.Closer
}

func (j *jsonReader) Close() error {
	if j.closer == nil {
		return nil
	}
	return j.closer.Close()
}

// rawReader decodes a raw recording frame by frame through the pipeline and hands out the
// events it makes.
type rawReader struct {
	name     string
	rd       *rawrec.Reader
	p        *pipeline.Pipeline
	closer   io.Closer
	queue    []event.Event
	head     int
	end      *rawrec.End
	summary  *event.Summary
	warnings []string
	err      error
}

func openRaw(br io.Reader, name string, closer io.Closer) (*rawReader, error) {
	rd, err := rawrec.NewReader(br, name)
	if err != nil {
		return nil, err
	}
	r := &rawReader{name: name, rd: rd, closer: closer}
	if r.p, err = pipeline.New(rd.Header(), r.push); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

func (r *rawReader) push(e event.Event) error {
	r.queue = append(r.queue, e)
	return nil
}

func (r *rawReader) Header() *event.Header   { return r.p.Header() }
func (r *rawReader) Summary() *event.Summary { return r.summary }
func (r *rawReader) Warnings() []string      { return r.warnings }

func (r *rawReader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

func (r *rawReader) Next() (event.Event, error) {
	if r.err != nil {
		return nil, r.err
	}
	for r.head == len(r.queue) {
		r.queue, r.head = r.queue[:0], 0
		if r.summary != nil {
			return nil, io.EOF
		}
		f, err := r.rd.Next()
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, rawrec.ErrCutShort):
			if errors.Is(err, rawrec.ErrCutShort) {
				r.warnings = append(r.warnings, fmt.Sprintf("%s: %s; showing what was recorded before the cut", r.name, rawrec.ErrCutShort))
			}
			if r.summary, err = r.p.Finish(r.end); err != nil {
				return nil, r.fail(fmt.Errorf("%s: %w", r.name, err))
			}
			continue
		case err != nil:
			return nil, r.fail(err)
		}
		if f.Type == rawrec.FrameEnd {
			if r.end, err = rawrec.ParseEnd(f.Payload); err != nil {
				return nil, r.fail(fmt.Errorf("%s: at byte %d: %w", r.name, f.Offset, err))
			}
			continue
		}
		if err := r.p.Frame(f); err != nil {
			return nil, r.fail(fmt.Errorf("%s: at byte %d: %w", r.name, f.Offset, err))
		}
	}
	e := r.queue[r.head]
	r.queue[r.head] = nil
	r.head++
	return e, nil
}

func (r *rawReader) fail(err error) error {
	r.err = err
	return err
}
