package main

import (
	"fmt"
	"math"
	"strconv"
)

// rateTrial is paced's writev storm at one offered rate, under iotrace.
type rateTrial struct {
	offered   int // calls per second; 0: as fast as the threads go
	achieved  float64
	calls     uint64
	delivered uint64 // writev events iotrace delivered
	lost      uint64
	selfCPU   float64 // the producer's own CPU seconds
}

func (t rateTrial) ok() bool { return t.lost == 0 }

func (t rateTrial) offeredText() string {
	if t.offered == 0 {
		return "max"
	}
	return strconv.Itoa(t.offered)
}

// minRate is where the search gives up looking downwards.
const minRate = 1000

// searchRate finds the highest offered rate that runs with zero loss. It first lets the producer
// go as fast as it can: when nothing is lost even then, the tracer keeps up with anything this
// producer can offer. Otherwise it halves from that speed until a rate passes, then bisects
// (geometrically) between the best passing and the lowest failing rate for steps trials.
func searchRate(try func(rate int) (rateTrial, error), steps int) (best *rateTrial, trials []rateTrial, err error) {
	do := func(rate int) (rateTrial, error) {
		t, err := try(rate)
		if err == nil {
			trials = append(trials, t)
		}
		return t, err
	}
	top, err := do(0)
	if err != nil || top.ok() {
		if err == nil {
			best = &trials[0]
		}
		return best, trials, err
	}
	bad := int(top.achieved)
	good := 0
	for r := bad / 2; r >= minRate; r /= 2 {
		t, err := do(r)
		if err != nil {
			return nil, trials, err
		}
		if t.ok() {
			good = r
			b := t
			best = &b
			break
		}
		bad = r
	}
	if good == 0 {
		return nil, trials, nil
	}
	for i := 0; i < steps; i++ {
		mid := int(math.Sqrt(float64(good) * float64(bad)))
		if mid <= good || mid >= bad {
			break
		}
		t, err := do(mid)
		if err != nil {
			return best, trials, err
		}
		if t.ok() {
			good = mid
			b := t
			best = &b
		} else {
			bad = mid
		}
	}
	return best, trials, nil
}

func (b *bench) maxRate() error {
	secs, threads := b.cfg.rateSecs, b.cfg.rateThreads
	b.printf("\n## Highest sustained event rate with zero loss (paced writev, %d threads, %.0f s per rate, iotrace defaults)\n\n",
		threads, secs)
	b.printf("%10s %11s %11s %9s %13s\n", "offered/s", "achieved/s", "delivered", "lost", "producer us/ev")
	b.printf("%s\n", "---------- ----------- ----------- --------- -------------")
	try := func(rate int) (rateTrial, error) {
		cmd := []string{b.h.paced, strconv.Itoa(rate), strconv.FormatFloat(secs, 'f', -1, 64), strconv.Itoa(threads)}
		r, err := b.exec(iotraceArgs(b, b.recordPath(), cmd), runOpts{})
		if err != nil {
			return rateTrial{}, err
		}
		p, ok := parsePaced(r.stderr)
		if !ok {
			return rateTrial{}, fmt.Errorf("no report line from paced:\n%s", tail(r.stderr, 2000))
		}
		sum, err := b.recordingSummary(b.recordPath())
		if err != nil {
			return rateTrial{}, err
		}
		t := rateTrial{offered: rate, achieved: p.achieved, calls: p.calls, delivered: sum.calls["writev"],
			lost: sum.lost, selfCPU: p.selfCPU}
		b.printf("%10s %11.0f %11d %9d %13.2f\n", t.offeredText(), t.achieved, t.delivered, t.lost,
			1e6*t.selfCPU/math.Max(float64(t.calls), 1))
		return t, nil
	}
	best, _, err := searchRate(try, b.cfg.rateSteps)
	if err != nil {
		return err
	}
	switch {
	case best == nil:
		b.printf("=> events were lost even at %d/s\n", minRate)
	case best.offered == 0:
		b.printf("=> no loss even unpaced: at least %.0f events/s (the producer is the limit)\n", best.achieved)
	default:
		b.printf("=> highest zero-loss rate: %.0f events/s (offered %d/s)\n", best.achieved, best.offered)
	}
	b.printf("(one event per writev, one ring record per call, iovecs included)\n")
	return nil
}
