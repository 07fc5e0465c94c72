package render

import (
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

type collect struct{ seqs []uint64 }

func (c *collect) Header(*event.Header) error { return nil }
func (c *collect) Event(e event.Event) error {
	switch e := e.(type) {
	case *event.Syscall:
		c.seqs = append(c.seqs, e.Seq)
	case *event.Kernel:
		c.seqs = append(c.seqs, e.Seq)
	case *event.Process:
		c.seqs = append(c.seqs, e.Seq)
	}
	return nil
}
func (c *collect) Close(*event.Summary) error { return nil }

// -Z shows the failed calls and what they caused; -z the others; events of no call stay.
func TestStatusFilter(t *testing.T) {
	events := []event.Event{
		&event.Syscall{Common: event.Common{Seq: 1}, Name: "openat", Ret: 3},
		&event.Kernel{Common: event.Common{Seq: 2}, CauseSeq: 1},
		&event.Syscall{Common: event.Common{Seq: 3}, Name: "openat", Ret: -2, Errno: "ENOENT"},
		&event.Kernel{Common: event.Common{Seq: 4}, CauseSeq: 3},
		&event.Kernel{Common: event.Common{Seq: 5}, Outside: event.OutsideUser},
		&event.Syscall{Common: event.Common{Seq: 6}, Name: "exit_group", Unfinished: true},
		&event.Process{Common: event.Common{Seq: 7}, Name: "exit"},
	}
	for _, tt := range []struct {
		keep Status
		want []uint64
	}{
		{StatusAll, []uint64{1, 2, 3, 4, 5, 6, 7}},
		{StatusFailed, []uint64{3, 4, 5, 7}},
		{StatusSuccessful, []uint64{1, 2, 5, 7}},
	} {
		c := &collect{}
		f := NewStatusFilter(c, tt.keep)
		for _, e := range events {
			if err := f.Event(e); err != nil {
				t.Fatal(err)
			}
		}
		if len(c.seqs) != len(tt.want) {
			t.Errorf("status %d: passed %v, want %v", tt.keep, c.seqs, tt.want)
			continue
		}
		for i := range c.seqs {
			if c.seqs[i] != tt.want[i] {
				t.Errorf("status %d: passed %v, want %v", tt.keep, c.seqs, tt.want)
				break
			}
		}
	}
}
