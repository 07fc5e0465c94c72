// Package reader drains the BPF ring buffer into raw records and watches the per-CPU loss
// counters, so that every record the kernel side could not deliver is reported.
package reader

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
)

// Handler receives records in ring order. raw is only valid during the call.
type Handler interface {
	Record(raw []byte) error
	// Lost is called when a loss counter grew: count more records were dropped on cpu.
	Lost(reason, cpu int, count uint64)
}

// LostFunc returns the loss counters: lost[reason][cpu].
type LostFunc func() ([][]uint64, error)

// Reader owns the ring buffer reader.
type Reader struct {
	rb   *ringbuf.Reader
	lost LostFunc
	seen [][]uint64
	// Poll is how often the reader looks at the ring when the kernel side batches wakeups.
	Poll time.Duration
}

// New opens a reader on the ring buffer map.
func New(events *ebpf.Map, lost LostFunc) (*Reader, error) {
	rb, err := ringbuf.NewReader(events)
	if err != nil {
		return nil, fmt.Errorf("open ring buffer: %w", err)
	}
	return &Reader{rb: rb, lost: lost, Poll: 5 * time.Millisecond}, nil
}

// Run delivers records to h until Stop has been called and the ring is drained.
func (r *Reader) Run(h Handler) error {
	var rec ringbuf.Record
	nextLostCheck := time.Now()
	r.rb.SetDeadline(time.Now().Add(r.Poll))
	for {
		err := r.rb.ReadInto(&rec)
		switch {
		case err == nil:
			if err := h.Record(rec.RawSample); err != nil {
				return err
			}
			if rec.Remaining > 0 {
				continue
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The kernel side batches wakeups: look again after a short sleep in epoll.
			r.rb.SetDeadline(time.Now().Add(r.Poll))
		case errors.Is(err, ringbuf.ErrFlushed):
			return r.checkLost(h)
		case errors.Is(err, ringbuf.ErrClosed):
			return r.checkLost(h)
		default:
			return fmt.Errorf("read ring buffer: %w", err)
		}
		if now := time.Now(); now.After(nextLostCheck) {
			if err := r.checkLost(h); err != nil {
				return err
			}
			nextLostCheck = now.Add(100 * time.Millisecond)
		}
	}
}

// Stop makes Run return once every record already in the ring has been delivered. Detach the
// probes first, so nothing new arrives.
func (r *Reader) Stop() error {
	return r.rb.Flush()
}

// Close releases the ring buffer reader.
func (r *Reader) Close() error { return r.rb.Close() }

func (r *Reader) checkLost(h Handler) error {
	if r.lost == nil {
		return nil
	}
	now, err := r.lost()
	if err != nil {
		return err
	}
	for reason, perCPU := range now {
		for len(r.seen) <= reason {
			r.seen = append(r.seen, nil)
		}
		for len(r.seen[reason]) < len(perCPU) {
			r.seen[reason] = append(r.seen[reason], 0)
		}
		for cpu, n := range perCPU {
			if d := n - r.seen[reason][cpu]; d > 0 {
				h.Lost(reason, cpu, d)
				r.seen[reason][cpu] = n
			}
		}
	}
	return nil
}
