package main

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// startupTarget is the time iotrace takes to load, attach and release its target (a target that
// waits for the tracer is only worth tracing once tracing started).
const startupTarget = 150 // ms

func (b *bench) startup() error {
	b.printf("\n## Start-up: launch until the target runs (stamp prints CLOCK_MONOTONIC first thing), median of %d\n\n",
		b.cfg.startupRuns)
	type startupRow struct {
		name string
		argv []string
	}
	rows := []startupRow{{"iotrace trace -- stamp", iotraceArgs(b, b.recordPath(), []string{b.h.stamp})}}
	if b.cfg.rbref != "" && slices.Contains(b.cfg.tracers, "rbref") {
		rows = append(rows, startupRow{"rbref -b -- stamp", []string{b.cfg.rbref, "-b", "-o", "/dev/null", "--", b.h.stamp}})
	}
	if _, err := exec.LookPath("bpftrace"); err == nil && slices.Contains(b.cfg.tracers, "bpftrace") {
		rows = append(rows, startupRow{"bpftrace -c stamp capture.bt", []string{"bpftrace", "-o", "/dev/null", "-c", b.h.stamp, b.h.captureBT}})
	}
	b.printf("%-30s %12s %10s %11s\n", "command", "to target ms", "total ms", "teardown ms")
	b.printf("%s\n", strings.Repeat("-", 66))
	for _, sr := range rows {
		var att, tot, tdn []float64
		for i := 0; i < b.cfg.startupRuns; i++ {
			r, err := b.exec(sr.argv, runOpts{})
			if err != nil {
				return err
			}
			st, ok := stampNS(r.stderr)
			if !ok {
				return fmt.Errorf("%s: no STAMP line:\n%s", sr.name, tail(r.stderr, 2000))
			}
			toTarget := float64(st-r.launchNS) / 1e6
			att = append(att, toTarget)
			tot = append(tot, float64(r.wall.Milliseconds()))
			tdn = append(tdn, float64(r.wall.Microseconds())/1e3-toTarget)
		}
		mark := ""
		if strings.HasPrefix(sr.name, "iotrace") {
			mark = fmt.Sprintf("   (target < %d ms)", startupTarget)
		}
		b.printf("%-30s %12.1f %10.0f %11.0f%s\n", sr.name, median(att), median(tot), median(tdn), mark)
	}
	b.printf("('to target': fork of the tracer until the target's first instruction, i.e. probes attached and\n")
	b.printf(" the gate released; 'teardown': the target's start until the tracer exited, mostly detaching)\n")
	return nil
}
