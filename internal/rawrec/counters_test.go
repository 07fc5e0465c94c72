package rawrec

import (
	"reflect"
	"testing"
)

// Counters go through a frame unchanged, and a frame from before entries were counted (two
// misses) still reads.
func TestCountersRoundTrip(t *testing.T) {
	c := &Counters{TS: 7, Lost: [][]uint64{{1, 2}, {3, 4}}, MissedKernel: 5, MissedProcess: 6, MissedEntries: 8}
	got, err := unmarshalCounters(marshalCounters(c))
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, c)
	}
	old := marshalCounters(c)
	old = old[:len(old)-8]
	got, err = unmarshalCounters(old)
	if err != nil || got.MissedProcess != 6 || got.MissedEntries != 0 {
		t.Errorf("a two-miss frame: %+v, %v", got, err)
	}
	if _, err := unmarshalCounters(old[:len(old)-4]); err == nil {
		t.Error("a cut frame was accepted")
	}
}
