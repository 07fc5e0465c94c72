// Package jsonl writes a timeline as JSON Lines (docs/jsonl.md): the header, one line per event,
// the summary last.
package jsonl

import (
	"bufio"
	"fmt"
	"io"

	"github.com/iotrace/iotrace/internal/event"
)

// Writer is a render.Renderer. Lines are buffered; Close (or Flush) pushes them out.
type Writer struct {
	bw  *bufio.Writer
	buf []byte // one line, reused so a steady stream of events does not allocate
}

// New returns a Writer on w. Closing the Writer flushes but does not close w.
func New(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 4<<10)}
}

func (w *Writer) Header(h *event.Header) error { return w.write(h) }

func (w *Writer) Event(e event.Event) error { return w.write(e) }

// Close writes the summary line, when there is one, and flushes.
func (w *Writer) Close(s *event.Summary) error {
	if s != nil {
		if err := w.write(s); err != nil {
			return err
		}
	}
	return w.Flush()
}

// Flush writes out buffered lines, so a long trace can be followed while it runs.
func (w *Writer) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write json lines: %w", err)
	}
	return nil
}

func (w *Writer) write(r event.Record) error {
	b, err := event.AppendJSON(w.buf[:0], r)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("write json lines: %w", err)
	}
	return nil
}
