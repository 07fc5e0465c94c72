package e2e

// Attribution held against ground truth: testdata/attrib.c brackets kernel work no traced call
// causes (readahead inside reads -e leaves out, user page faults between calls) with
// CLOCK_MONOTONIC, the clock of every record's ts_ns, and measures preemption inside a call
// with getrusage(RUSAGE_THREAD) and /proc/thread-self/schedstat. A kernel event must never be
// linked to a call it was not raised in (the BPF records carry the entry time of the call they
// were raised in; a user-mode fault has none), and must say where it came from instead.

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render/text"
)

// atTruth is one "truth STEP key=value…" line of attrib.
type atTruth struct {
	step string
	kv   map[string]int64
}

// atRun traces attrib with the iotrace flags, then the scenario's arguments, and returns the
// trace and what attrib measured.
func atRun(t *testing.T, flags []string, scenario ...string) (*kTrace, []atTruth) {
	t.Helper()
	args := append([]string{"trace"}, flags...)
	args = append(args, "--", kCProg(t, "attrib"))
	tr := kRun(t, append(args, scenario...)...)
	var tt []atTruth
	for _, line := range strings.Split(tr.stderr, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "truth" {
			continue
		}
		m := map[string]int64{}
		for _, kv := range f[2:] {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = kAtoi(t, v)
		}
		tt = append(tt, atTruth{f[1], m})
	}
	if len(tt) == 0 {
		t.Fatalf("attrib %s printed no ground truth; stderr:\n%s", scenario[0], tr.stderr)
	}
	return tr, tt
}

func atStep(t *testing.T, tt []atTruth, step string) map[string]int64 {
	t.Helper()
	for _, l := range tt {
		if l.step == step {
			return l.kv
		}
	}
	t.Fatalf("attrib printed no %q truth (got %v)", step, tt)
	return nil
}

// atLinks checks every link the trace makes: a kernel event linked to a call belongs to the
// thread that made it (block requests are tagged with their issuer) and was raised after the
// call entered.
func atLinks(t *testing.T, tr *kTrace) {
	t.Helper()
	for _, k := range tr.kKernel() {
		if k.CauseSeq == 0 {
			continue
		}
		s, ok := tr.bySeq[k.CauseSeq].(*event.Syscall)
		switch {
		case !ok:
			t.Errorf("%s (seq %d) is linked to seq %d, which is no call of the trace", k.Name, k.Seq, k.CauseSeq)
		case s.TID != k.TID:
			t.Errorf("%s (seq %d) of tid %d is linked to %s (seq %d) of tid %d", k.Name, k.Seq, k.TID, s.Name, s.Seq, s.TID)
		case k.TS < s.TS:
			t.Errorf("%s (seq %d) at %d is linked to %s (seq %d), which entered later (%d)", k.Name, k.Seq, k.TS, s.Name, s.Seq, s.TS)
		}
	}
}

// atWindow returns the kernel events of tid raised strictly inside (from, to).
func atWindow(tr *kTrace, tid uint32, from, to int64) []*event.Kernel {
	var out []*event.Kernel
	for _, k := range tr.kKernel() {
		if k.TID == tid && int64(k.TS) > from && int64(k.TS) < to {
			out = append(out, k)
		}
	}
	return out
}

// With -e leaving pread64 out, the 8 MiB readahead of the reads is no traced call's: it must
// not be linked to (or shown under) the getpid before it, and says it came from an untraced
// pread64. The faults touching a cold mapping between calls, and the read-around they do, are
// user mode's: as many faults as the program counted (a fault retried after waiting for its
// page is traced twice and counted once), none linked to a call.
func TestTruthOutsideCalls(t *testing.T) {
	file := filepath.Join(t.TempDir(), "outside.dat")
	tr, tt := atRun(t, []string{"-e", "trace=getpid"}, "outside", file)
	atLinks(t, tr)
	rd, touch := atStep(t, tt, "read"), atStep(t, tt, "touch")

	var fills, raFills int64
	for _, k := range atWindow(tr, uint32(rd["tid"]), rd["from"], rd["to"]) {
		if k.CauseSeq != 0 {
			t.Errorf("%s (seq %d), raised inside the untraced reads, is linked to seq %d", k.Name, k.Seq, k.CauseSeq)
		}
		switch {
		case k.Outside == event.OutsideUntraced && k.UntracedCall == "pread64":
			if k.Name == "mm_filemap_add_to_page_cache" {
				fills++
			}
			if k.Name == "page_cache_sync_ra" || k.Name == "page_cache_async_ra" {
				raFills++
			}
		case k.Outside == event.OutsideUser && isUserFaultName(k.Name):
		default:
			t.Errorf("%s (seq %d) inside the untraced reads says outside=%q untraced_call=%q, want untraced pread64",
				k.Name, k.Seq, k.Outside, k.UntracedCall)
		}
	}
	if fills == 0 {
		t.Errorf("the reads of a cold file show no page-cache fill from untraced pread64")
	}
	if raFills == 0 && !strings.Contains(strings.Join(tr.header.MissingProbes, " "), "readahead:") {
		t.Errorf("the reads of a cold file show no readahead event from untraced pread64")
	}

	var faults, faultFills int64
	for _, k := range atWindow(tr, uint32(touch["tid"]), touch["from"], touch["to"]) {
		if k.CauseSeq != 0 || k.Outside != event.OutsideUser {
			t.Errorf("%s (seq %d), raised between calls by a page fault, has cause_seq %d outside %q: want no cause, user",
				k.Name, k.Seq, k.CauseSeq, k.Outside)
		}
		if isUserFaultName(k.Name) {
			faults++
		}
		if k.Name == "mm_filemap_add_to_page_cache" {
			faultFills++
		}
	}
	t.Logf("untraced reads: %d fills, %d readahead events; touch: %d faults traced, %d counted, %d fills", fills, raFills, faults, touch["faults"], faultFills)
	if faults < touch["faults"] || touch["faults"] == 0 {
		t.Errorf("%d user page faults traced between the calls; the program counted %d", faults, touch["faults"])
	}
	if faultFills == 0 {
		t.Error("the faults on the cold mapping show no page-cache fill")
	}

	// The text timeline: those events stand on their own lines, marked; none is indented under
	// a call (getpid is the only call shown around them).
	var b bytes.Buffer
	r := text.New(&b, text.Options{TID: text.TIDNever})
	if err := r.Header(tr.header); err != nil {
		t.Fatal(err)
	}
	for _, e := range tr.events {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(nil); err != nil {
		t.Fatal(err)
	}
	timeline := b.String()
	fault := "page_fault_user"
	if !strings.Contains(timeline, "page_fault_user") {
		fault = "page-faults" // arm64: user faults come from the software perf event
	}
	for _, want := range []string{"· [in untraced pread64] mm_filemap_add_to_page_cache", "· [user mode] " + fault, "· [user mode] mm_filemap_add_to_page_cache"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline has no line %q", want)
		}
	}
	if regexp.MustCompile(`(?m)getpid\(\) = \d+ <[0-9.]+>\n[^\n]*     · `).MatchString(timeline) {
		t.Errorf("a kernel event is indented under a getpid, which causes none:\n%s", timeline)
	}
}

func isUserFaultName(name string) bool { return name == "page_fault_user" || name == "page-faults" }

var atPreemptRe = regexp.MustCompile(`^preempted (\S+ \S+) of its \S+ \S+ in read \((\d+) involuntary switch(?:es)?\)`)

// Two threads pinned to one CPU, the traced one busy in read(/dev/zero) into 64 MiB: the time
// it spent preempted is said apart from blocked time, and agrees with what the thread measured
// itself around each read — its involuntary switches (ru_nivcsw) and its time waiting on the run
// queue (schedstat). The counts bracket more than the call (a switch at the return from a call
// comes after the call's exit, and the measuring calls have returns too): the trace may count
// fewer, never more. A switch it missed inside the read would show as time on CPU the thread
// did not have (its CPU time, measured tightly around the read); where it counts as
// many, every wait measured was the call's, and the call's share of time preempted must match
// schedstat's share of time waiting — shares, because the scheduler's clock may tick at another
// rate than CLOCK_MONOTONIC (6% apart in an emulated guest). On 5.15 a switch outside the read
// is the rule (the counts differ by one), so the shares are compared only as a bound there.
func TestTruthPreempt(t *testing.T) {
	tr, tt := atRun(t, []string{"-e", "trace=read"}, "preempt")
	atLinks(t, tr)
	reads := map[int64]*event.Syscall{}
	for _, s := range tr.kSyscalls("read") {
		if n, ok := s.Arg("count"); ok && s.Ret == int64(n) {
			reads[int64(n)] = s
		}
	}
	forced := 0
	for _, l := range tt {
		if l.step != "preempt" {
			continue
		}
		s := reads[l.kv["count"]]
		if s == nil {
			t.Fatalf("no read of %d bytes in the trace", l.kv["count"])
		}
		var n, ns int64
		for _, k := range tr.kCaused(s.Seq, "sched_preempted") {
			off, _ := k.Args.Int("off_cpu_ns")
			n, ns = n+1, ns+off
		}
		nivcsw, wait, run := l.kv["nivcsw"], l.kv["wait_ns"], l.kv["run_ns"]
		t.Logf("read of %d bytes: %d sched_preempted, %d ns of %d; truth: %d involuntary switches (%d voluntary), %d ns on the run queue, %d on CPU",
			l.kv["count"], n, ns, s.Dur, nivcsw, l.kv["nvcsw"], wait, run)
		if n > nivcsw {
			t.Errorf("read of %d bytes: %d sched_preempted events; the thread counted only %d involuntary switches around it", l.kv["count"], n, nivcsw)
		}
		// A preemption the trace missed inside the read would count its wait as time on CPU:
		// the read's time on CPU by the trace would exceed the thread's own CPU time measured
		// tightly around it (CLOCK_THREAD_CPUTIME_ID, vDSO calls only). The tolerance is the
		// clock-rate skew of an emulated guest.
		onCPU := int64(s.Dur) - ns
		if float64(onCPU) > float64(run)*1.07+1e6 {
			t.Errorf("read of %d bytes: %d ns on CPU by the trace (%d preempted); the thread ran only %d ns around it: a preemption was missed",
				l.kv["count"], onCPU, ns, run)
		}
		if n < nivcsw {
			// the others waited outside the read: at its return, after its exit, and at the
			// measuring calls' returns, where the tracer's own reader, woken by the read's
			// records, is likely to take the CPU (an emulated guest has one)
			t.Logf("read of %d bytes: %d of %d involuntary switches outside the read", l.kv["count"], nivcsw-n, nivcsw)
		}
		got, want := float64(ns)/float64(s.Dur), float64(wait)/float64(wait+run)
		if got > want+0.03 {
			t.Errorf("read of %d bytes: preempted %.3f of its time; schedstat: waited %.3f of the time around it", l.kv["count"], got, want)
		}
		if n == nivcsw && l.kv["nvcsw"] == 0 && got < want-0.03 {
			t.Errorf("read of %d bytes: preempted %.3f of its time in %d switches; schedstat: waited %.3f over the same switches",
				l.kv["count"], got, n, want)
		}
		if n > 0 {
			forced++ // how often depends on the machine's load; once is enough to check the note
		}
		m, ok := kNote(s, atPreemptRe)
		switch {
		case n == 0 && ok:
			t.Errorf("read of %d bytes, never preempted, has the note %q", l.kv["count"], m[0])
		case n > 0 && !ok:
			t.Errorf("read of %d bytes, preempted %d times, has no preemption note: %q", l.kv["count"], n, s.Notes)
		case n > 0 && (m[2] != strconv.FormatInt(n, 10) || m[1] != durTextNS(ns)):
			t.Errorf("read of %d bytes: note %q, want %d switches and %s", l.kv["count"], m[0], n, durTextNS(ns))
		}
		for _, k := range tr.kCaused(s.Seq, "sched_blocked") {
			t.Errorf("read of /dev/zero, busy on CPU, has a sched_blocked event (seq %d): preemption counted as blocking", k.Seq)
		}
	}
	if forced == 0 {
		t.Errorf("no read was seen preempted (truth %v)", tt)
	}
}

// durTextNS formats as the annotator's notes do.
func durTextNS(ns int64) string {
	switch {
	case ns >= 1e9:
		return strings.TrimSuffix(fmt.Sprintf("%.2f", float64(ns)/1e9), "0") + " s"
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", float64(ns)/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", float64(ns)/1e3)
	}
	return fmt.Sprintf("%d ns", ns)
}
