package session

import (
	"encoding/binary"
	"sync"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/rawrec"
	"github.com/iotrace/iotrace/internal/ring"
)

// viewFeed carries ring data from the recorder to a live view (a terminal) that may thin out:
// the recorder never waits for it. When the view falls behind by more than limit bytes, ring
// data is left out and counted, and the view is told what it missed before the next data it
// gets. The recording, when there is one, has everything.
type viewFeed struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []feedItem
	bytes  int
	limit  int
	skip   *event.Lost // what was left out since the view last took something
	closed bool
	why    string // the Reason of a skip
}

type feedItem struct {
	ring     []byte
	counters *rawrec.Counters
	skip     *event.Lost
}

// newViewFeed makes a feed; record names the raw recording that keeps what the view skips, if
// there is one.
func newViewFeed(limit int, record string) *viewFeed {
	f := &viewFeed{limit: limit, why: "the live view fell behind; record with -o FILE.iotrace to keep every call"}
	if record != "" {
		f.why = "the live view fell behind; " + record + " has them"
	}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// ring queues a copy of a span of the ring (in one or two parts), or counts it as skipped when
// the view is too far behind.
func (f *viewFeed) ring(a, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(a) + len(b)
	if f.bytes+n > f.limit && f.bytes > 0 {
		span := append(append(make([]byte, 0, n), a...), b...)
		f.skipped(span)
		return
	}
	if f.skip != nil {
		f.items = append(f.items, feedItem{skip: f.skip})
		f.skip = nil
	}
	f.items = append(f.items, feedItem{ring: append(append(make([]byte, 0, n), a...), b...)})
	f.bytes += n
	f.cond.Signal()
}

// skipped counts what span holds: the calls and kernel events the view will not show.
func (f *viewFeed) skipped(span []byte) {
	if f.skip == nil {
		f.skip = &event.Lost{CPU: -1, Reason: f.why}
	}
	s := f.skip
	_ = ring.Records(span, func(rec []byte) error {
		if len(rec) < 24 {
			return nil
		}
		ts := binary.LittleEndian.Uint64(rec)
		if s.TS == 0 {
			s.TS = ts
		}
		s.EndNS = max(s.EndNS, ts)
		switch bpf.IotraceIotKind(binary.LittleEndian.Uint16(rec[16:])) {
		case bpf.IotraceIotKindIOT_EV_SYSCALL:
			s.Calls++
		case bpf.IotraceIotKindIOT_EV_KERNEL, bpf.IotraceIotKindIOT_EV_BLOCKED:
			s.KernelEvents++
		case bpf.IotraceIotKindIOT_EV_FORK, bpf.IotraceIotKindIOT_EV_EXEC, bpf.IotraceIotKindIOT_EV_EXIT:
			s.ProcessEvents++
		}
		return nil
	})
	s.Count = s.Calls + s.KernelEvents + s.ProcessEvents
}

func (f *viewFeed) counters(c *rawrec.Counters) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, feedItem{counters: c})
	f.cond.Signal()
}

// close ends the feed: next returns false once the queue is empty.
func (f *viewFeed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.skip != nil {
		f.items = append(f.items, feedItem{skip: f.skip})
		f.skip = nil
	}
	f.closed = true
	f.cond.Signal()
}

// next waits for the next item; false when the feed is closed and drained.
func (f *viewFeed) next() (feedItem, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.items) == 0 && !f.closed {
		f.cond.Wait()
	}
	if len(f.items) == 0 {
		return feedItem{}, false
	}
	it := f.items[0]
	f.items[0] = feedItem{}
	f.items = f.items[1:]
	f.bytes -= len(it.ring)
	return it, true
}
