package predict

import (
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render"
)

// Renderer judges the predictions of the timeline passing through it to next: each variant's
// verdicts follow the event that ended it, and the summary counts them. Prediction records
// already in the timeline (a recording being shown again) are dropped: they are judged anew, so
// a newer iotrace re-judges an old recording as it re-explains it.
type Renderer struct {
	next render.Renderer
	ev   *Evaluator
}

// Wrap returns a Renderer in front of next.
func Wrap(next render.Renderer) *Renderer { return &Renderer{next: next} }

func (r *Renderer) Header(h *event.Header) error {
	r.ev = New(h)
	return r.next.Header(h)
}

func (r *Renderer) Event(e event.Event) error {
	if _, ok := e.(*event.Prediction); ok {
		return nil
	}
	if r.ev == nil {
		r.ev = New(nil) // no header: nothing to go by but the markers
	}
	preds := r.ev.Event(e)
	if err := r.next.Event(e); err != nil {
		return err
	}
	return r.emit(preds)
}

func (r *Renderer) emit(preds []*event.Prediction) error {
	for _, p := range preds {
		if err := r.next.Event(p); err != nil {
			return err
		}
	}
	return nil
}

// Close judges a variant still open and puts the verdicts' count in the summary.
func (r *Renderer) Close(s *event.Summary) error {
	if r.ev == nil {
		return r.next.Close(s)
	}
	if err := r.emit(r.ev.Finish()); err != nil {
		return err
	}
	return r.next.Close(WithStat(s, r.ev.Stat()))
}

// WithStat returns s with the predictions' count set (a copy: s may be shared).
func WithStat(s *event.Summary, st *event.PredictionStat) *event.Summary {
	if s == nil || st == nil {
		return s
	}
	c := *s
	c.Predictions = st
	return &c
}
