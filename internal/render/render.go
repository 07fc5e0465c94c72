// Package render defines what every output format implements; the formats live in subpackages.
package render

import "github.com/iotrace/iotrace/internal/event"

// Renderer receives a timeline in order: one header, events, then Close with the summary.
type Renderer interface {
	Header(h *event.Header) error
	Event(e event.Event) error
	Close(s *event.Summary) error
}

// Multi fans one timeline out to several renderers (text on the terminal, JSON Lines to -o).
// A renderer that fails (stdout closed by `| head`) is dropped and the others go on, so a closed
// terminal never costs the recording; Close returns the first error any of them had.
type Multi struct {
	rs   []Renderer
	errs []error // by renderer: why it was dropped
}

// NewMulti fans out to rs.
func NewMulti(rs ...Renderer) *Multi { return &Multi{rs: rs, errs: make([]error, len(rs))} }

// Len is how many renderers there are.
func (m *Multi) Len() int { return len(m.rs) }

func (m *Multi) each(f func(Renderer) error) error {
	alive := false
	for i, r := range m.rs {
		if m.errs[i] != nil {
			continue
		}
		if err := f(r); err != nil {
			m.errs[i] = err
			continue
		}
		alive = true
	}
	if !alive {
		return m.first()
	}
	return nil
}

func (m *Multi) Header(h *event.Header) error {
	return m.each(func(r Renderer) error { return r.Header(h) })
}
func (m *Multi) Event(e event.Event) error {
	return m.each(func(r Renderer) error { return r.Event(e) })
}

// Close closes every renderer still there and returns the first error of any of them.
func (m *Multi) Close(s *event.Summary) error {
	for i, r := range m.rs {
		if m.errs[i] == nil {
			m.errs[i] = r.Close(s)
		}
	}
	return m.first()
}

func (m *Multi) first() error {
	for _, err := range m.errs {
		if err != nil {
			return err
		}
	}
	return nil
}
