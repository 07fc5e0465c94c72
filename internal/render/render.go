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
type Multi []Renderer

func (m Multi) Header(h *event.Header) error {
	for _, r := range m {
		if err := r.Header(h); err != nil {
			return err
		}
	}
	return nil
}

func (m Multi) Event(e event.Event) error {
	for _, r := range m {
		if err := r.Event(e); err != nil {
			return err
		}
	}
	return nil
}

// Close closes every renderer and returns the first error.
func (m Multi) Close(s *event.Summary) error {
	var first error
	for _, r := range m {
		if err := r.Close(s); err != nil && first == nil {
			first = err
		}
	}
	return first
}
