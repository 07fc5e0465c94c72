// Package perfettotest checks the structure of Chrome trace-event JSON the way the viewers
// depend on it, for tests of anything that writes it.
package perfettotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Event is one trace event as the checks read it.
type Event struct {
	Name string          `json:"name"`
	Cat  string          `json:"cat"`
	Ph   string          `json:"ph"`
	TS   *float64        `json:"ts"`
	Dur  *float64        `json:"dur"`
	PID  uint32          `json:"pid"`
	TID  uint32          `json:"tid"`
	ID   json.RawMessage `json:"id"`
	S    string          `json:"s"`
	BP   string          `json:"bp"`
	Args json.RawMessage `json:"args"`
}

// Trace is what Validate found.
type Trace struct {
	Events []Event
	// Counts by kind: complete and B/E slices, async slices, thread instants, flows (s→f
	// pairs), counter values, and named threads.
	Slices, Async, Instants, Flows, Counters, Threads int
}

type track struct{ pid, tid uint32 }

// span is a slice or instant on a thread track, for binding flows.
type span struct {
	start, end float64
	cat        string
}

// Validate parses data and checks what Perfetto and chrome://tracing rely on:
//   - the JSON parses, as {"traceEvents":[…]} or a bare array, every event with a known ph
//     and every timed one with a ts;
//   - on each thread track, timestamps never go back, B/E pairs balance with matching names,
//     and complete slices nest (no partial overlap);
//   - every async "b" has one "e" with the same cat and id, not before it;
//   - every flow "s" has one "f" with the same cat, name and id, and each binds to a slice or
//     instant of its thread that encloses its time (Perfetto) and, as Chrome DevTools' trace
//     engine binds them, to one of the same category that starts at its very time;
//   - counters have numeric values and never go back in time per track;
//   - every thread with events is named by a thread_name metadata event.
//
// It returns every problem found, joined.
func Validate(data []byte) (*Trace, error) {
	var doc struct {
		TraceEvents []Event `json:"traceEvents"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		var arr []Event
		if err2 := json.Unmarshal(data, &arr); err2 != nil {
			return nil, fmt.Errorf("not trace-event JSON: %w", err)
		}
		doc.TraceEvents = arr
	}
	tr := &Trace{Events: doc.TraceEvents}
	var errs []error
	fail := func(i int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("event %d: %s", i, fmt.Sprintf(format, args...)))
	}

	last := map[track]float64{}
	stacks := map[track][]string{}    // open B names
	xends := map[track][]float64{}    // ends of open X slices
	spans := map[track][]span{}       // for flow binding
	asyncOpen := map[string]float64{} // cat/id -> start
	type flowEnd struct {
		i   int
		ts  float64
		tr  track
		cat string
	}
	flowStart := map[string]flowEnd{}
	flowFinish := map[string]flowEnd{}
	counters := map[string]float64{}
	named := map[track]bool{}
	used := map[track]int{}

	for i, e := range doc.TraceEvents {
		if e.Ph == "M" {
			if e.Name == "thread_name" {
				named[track{e.PID, e.TID}] = true
				tr.Threads++
			}
			continue
		}
		if e.TS == nil {
			fail(i, "%q (ph %q) has no ts", e.Name, e.Ph)
			continue
		}
		ts := *e.TS
		k := track{e.PID, e.TID}
		onThread := func() {
			if ts < last[k] {
				fail(i, "%q at %.3f goes back in time on thread %d/%d (last %.3f)", e.Name, ts, e.PID, e.TID, last[k])
			}
			last[k] = ts
			if _, ok := used[k]; !ok {
				used[k] = i
			}
			ends := xends[k]
			for len(ends) > 0 && ends[len(ends)-1] <= ts {
				ends = ends[:len(ends)-1]
			}
			xends[k] = ends
		}
		switch e.Ph {
		case "X":
			onThread()
			if e.Dur == nil || *e.Dur < 0 {
				fail(i, "complete slice %q has no valid dur", e.Name)
				continue
			}
			end := ts + *e.Dur
			if ends := xends[k]; len(ends) > 0 && end > ends[len(ends)-1] {
				fail(i, "slice %q [%.3f, %.3f] overlaps the enclosing slice ending %.3f without nesting", e.Name, ts, end, ends[len(ends)-1])
			}
			xends[k] = append(xends[k], end)
			spans[k] = append(spans[k], span{ts, end, e.Cat})
			tr.Slices++
		case "B":
			onThread()
			stacks[k] = append(stacks[k], e.Name)
			spans[k] = append(spans[k], span{ts, -1, e.Cat}) // end filled by E
		case "E":
			onThread()
			st := stacks[k]
			if len(st) == 0 {
				fail(i, "E %q without a B on thread %d/%d", e.Name, e.PID, e.TID)
				continue
			}
			if e.Name != "" && e.Name != st[len(st)-1] {
				fail(i, "E %q closes B %q", e.Name, st[len(st)-1])
			}
			stacks[k] = st[:len(st)-1]
			for j := len(spans[k]) - 1; j >= 0; j-- {
				if spans[k][j].end < 0 {
					spans[k][j].end = ts
					break
				}
			}
			tr.Slices++
		case "i", "I":
			if e.S == "g" || e.S == "p" {
				continue
			}
			onThread()
			spans[k] = append(spans[k], span{ts, ts, e.Cat})
			tr.Instants++
		case "b", "e":
			key := e.Cat + "/" + string(e.ID)
			if len(e.ID) == 0 {
				fail(i, "async %q has no id", e.Name)
				continue
			}
			if e.Ph == "b" {
				if _, dup := asyncOpen[key]; dup {
					fail(i, "async %q id %s begins twice", e.Name, e.ID)
				}
				asyncOpen[key] = ts
				continue
			}
			start, ok := asyncOpen[key]
			if !ok {
				fail(i, "async end %q id %s without a begin", e.Name, e.ID)
				continue
			}
			if ts < start {
				fail(i, "async %q id %s ends before it begins", e.Name, e.ID)
			}
			delete(asyncOpen, key)
			tr.Async++
		case "s", "f":
			key := e.Cat + "/" + e.Name + "/" + string(e.ID)
			m := flowStart
			if e.Ph == "f" {
				m = flowFinish
				if e.BP != "e" {
					fail(i, "flow end %q binds to the next slice (no bp:\"e\"): it may land on an unrelated one", e.Name)
				}
			}
			if _, dup := m[key]; dup {
				fail(i, "flow %s %q id %s appears twice", e.Ph, e.Name, e.ID)
			}
			m[key] = flowEnd{i, ts, k, e.Cat}
		case "C":
			var vals map[string]any
			if err := json.Unmarshal(e.Args, &vals); err != nil || len(vals) == 0 {
				fail(i, "counter %q has no values", e.Name)
				continue
			}
			for name, v := range vals {
				if _, ok := v.(float64); !ok {
					fail(i, "counter %q value %s is not a number", e.Name, name)
				}
			}
			ck := fmt.Sprintf("%d/%s", e.PID, e.Name)
			if prev, ok := counters[ck]; ok && ts < prev {
				fail(i, "counter %q goes back in time", e.Name)
			}
			counters[ck] = ts
			tr.Counters++
		default:
			fail(i, "unknown ph %q", e.Ph)
		}
	}

	for k, st := range stacks {
		if len(st) > 0 {
			errs = append(errs, fmt.Errorf("thread %d/%d: B %q never ends", k.pid, k.tid, st[len(st)-1]))
		}
	}
	for key := range asyncOpen {
		errs = append(errs, fmt.Errorf("async %s never ends", key))
	}
	encloses := func(k track, ts float64) bool {
		for _, s := range spans[k] {
			if s.start <= ts && ts <= s.end {
				return true
			}
		}
		return false
	}
	// DevTools binds a flow phase to the event of its category, pid, tid and ts
	startsThere := func(f flowEnd) bool {
		for _, s := range spans[f.tr] {
			if s.start == f.ts && s.cat == f.cat {
				return true
			}
		}
		return false
	}
	for key, s := range flowStart {
		f, ok := flowFinish[key]
		if !ok {
			errs = append(errs, fmt.Errorf("event %d: flow %s starts but never ends", s.i, key))
			continue
		}
		if f.ts < s.ts {
			errs = append(errs, fmt.Errorf("event %d: flow %s ends before it starts", f.i, key))
		}
		if !encloses(s.tr, s.ts) {
			errs = append(errs, fmt.Errorf("event %d: flow %s starts where thread %d/%d has no slice", s.i, key, s.tr.pid, s.tr.tid))
		}
		if !encloses(f.tr, f.ts) {
			errs = append(errs, fmt.Errorf("event %d: flow %s ends where thread %d/%d has no slice", f.i, key, f.tr.pid, f.tr.tid))
		}
		for _, end := range []flowEnd{s, f} {
			if !startsThere(end) {
				errs = append(errs, fmt.Errorf("event %d: flow %s does not bind in DevTools: no slice of category %q starts at %.3f on thread %d/%d", end.i, key, end.cat, end.ts, end.tr.pid, end.tr.tid))
			}
		}
		tr.Flows++
	}
	for key, f := range flowFinish {
		if _, ok := flowStart[key]; !ok {
			errs = append(errs, fmt.Errorf("event %d: flow %s ends but never starts", f.i, key))
		}
	}
	var unnamed []track
	for k := range used {
		if !named[k] {
			unnamed = append(unnamed, k)
		}
	}
	sort.Slice(unnamed, func(i, j int) bool { return used[unnamed[i]] < used[unnamed[j]] })
	for _, k := range unnamed {
		errs = append(errs, fmt.Errorf("event %d: thread %d/%d has no thread_name", used[k], k.pid, k.tid))
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return tr, errors.Join(errs...)
}
