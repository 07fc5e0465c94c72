package annotate

import (
	"fmt"

	"github.com/iotrace/iotrace/internal/event"
)

// Preemption inside a call.
//
// Tracepoint: sched:sched_switch (BTF). A switch that leaves the thread runnable — its preempt
// argument (the time slice ended, a task of higher priority woke, a cond_resched) or a state
// still TASK_RUNNING (a yield) — is what the kernel counts as an involuntary switch (nivcsw):
// the thread stays on the run queue, nobody wakes it. The BPF side records each such interval
// inside a traced call, from the switch out to the switch back in, as sched_preempted; time the
// thread gave up the CPU to wait is sched_blocked. The two never overlap, so a call's duration
// splits into time on CPU, blocked and preempted. A switch at the return to user mode comes
// after the call's exit and is not the call's; preemption between calls is not reported.

// preemptNote says how long a call was preempted, and how often, from its sched_preempted events.
func preemptNote(s *event.Syscall, caused []*event.Kernel) []string {
	var n, ns int64
	for _, k := range caused {
		if k.Name != "sched_preempted" {
			continue
		}
		off, _ := k.Args.Int("off_cpu_ns")
		n++
		ns += off
	}
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("preempted %s of its %s in %s (%d involuntary switch%s): runnable but off CPU while the scheduler ran other tasks",
		durText(ns), durText(int64(s.Dur)), s.Name, n, pluralEs(n))}
}

func pluralEs(n int64) string {
	if n == 1 {
		return ""
	}
	return "es"
}
