package e2e

// The native AIO and io_uring notes held against ground truth: testdata/aiotruth.c and
// testdata/uringtruth.c measure, in the traced run, what was really complete right after each
// submission (io_getevents with min_nr=0 and no wait; the CQ and SQ rings read right after
// io_uring_enter), and the tests compare the notes with it — including the cases that used to
// be false (buffered io_submit said to have completed its FSYNC and POLL, "room for 4" after
// io_setup(4), io_uring_enter said to wait without IORING_ENTER_GETEVENTS and to submit under
// SQPOLL, the ring named differently from its kernel lines), so they cannot come back.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

// aioSteps are aiotruth's io_submit calls, in order, and the opcode each submits.
var aioSteps = []struct{ step, opcode string }{
	{"pread", "IOCB_CMD_PREAD"},
	{"fsync", "IOCB_CMD_FSYNC"},
	{"poll", "IOCB_CMD_POLL"},
	{"poll-ready", "IOCB_CMD_POLL"},
	{"many", "IOCB_CMD_PREAD"},
	{"direct", "IOCB_CMD_PREAD"}, // O_DIRECT: checked by kCheckDirect
}

// directAllRE is the O_DIRECT io_submit note that claims every block request completed inside
// the call; directFlightRE, the one that says some were in flight when it returned.
var (
	directAllRE    = regexp.MustCompile(`^O_DIRECT: io_submit issued (\d+) block requests? and all completed before it returned`)
	directFlightRE = regexp.MustCompile(`^O_DIRECT: io_submit issued (\d+) block requests? and returned with (?:(\d+)|it|them) in flight`)
)

var (
	// what an io_submit note about its requests must never say: the trace has no AIO
	// completion event (block requests completing, as notes count them, are another matter)
	aioNoteRE  = regexp.MustCompile(`AIO|IOCB_|buffered file|io_submit`)
	aioClaimRE = regexp.MustCompile(`(?i)returned after|runs synchronously|complete[d]? (inside|before|within|when)`)
	roomRE     = regexp.MustCompile(`room for (\d+)`)
	atLeastRE  = regexp.MustCompile(`made for at least (\d+) requests`)
)

// TestTruthAIO checks each io_submit's note and the io_getevents that follows it against what
// io_getevents(min_nr=0) found complete right after the submission.
func TestTruthAIO(t *testing.T) {
	tr, tt := truthRun(t, "aiotruth", filepath.Join(t.TempDir(), "aio.dat"))
	subs := tr.kSyscalls("io_submit")
	if len(subs) != len(aioSteps) {
		t.Fatalf("want %d io_submit calls, got %d: %s", len(aioSteps), len(subs), brief(subs))
	}
	if tt.get(t, "poll", "ready") != 0 {
		t.Fatalf("a POLL on an empty pipe was complete right after io_submit (truth %v): the scenario does not test what it should", tt["poll"])
	}
	gets := tr.kSyscalls("io_getevents", "io_pgetevents")
	for i, st := range aioSteps {
		sub := subs[i]
		n, ready := tt.get(t, st.step, "submitted"), tt.get(t, st.step, "ready")
		if sub.Ret != n {
			t.Fatalf("%s: io_submit returned %d, the program submitted %d", st.step, sub.Ret, n)
		}
		t.Logf("%s: %d of %d %s requests complete right after io_submit", st.step, ready, n, st.opcode)
		if st.step == "direct" {
			kCheckDirect(t, tr, sub, ready, n)
		}
		for _, note := range sub.Notes {
			if st.step == "direct" && strings.HasPrefix(note, "O_DIRECT: ") {
				continue // a claim from block completions, held against the measure in kCheckDirect
			}
			if aioNoteRE.MatchString(note) && aioClaimRE.MatchString(note) {
				t.Errorf("%s: io_submit's note claims a completion no event shows (%d of %d were complete right after it): %q", st.step, ready, n, note)
			}
		}
		op := st.opcode
		if st.step == "direct" {
			op = "O_DIRECT " + op // the notes name the requests as "submitted O_DIRECT IOCB_CMD_PREAD"
		}
		if !kNoteHas(sub, "submitted "+op) {
			t.Errorf("%s: io_submit's note does not name what it submitted (%s): %q", st.step, st.opcode, sub.Notes)
		}
		peek := kNextAfter(gets, sub)
		if peek == nil || peek.Ret != ready {
			t.Fatalf("%s: want the io_getevents(min_nr=0) right after io_submit to return %d, got %v", st.step, ready, peek)
		}
		kCheckReaped(t, tr, st.step, op, peek, ready, n)
		if ready < n {
			kCheckReaped(t, tr, st.step, op, kNextAfter(gets, peek), -1, n-ready)
		}
	}
	kCheckAIOCapacity(t, tr, tt)
}

// kCheckDirect holds the O_DIRECT io_submit note against io_getevents(min_nr=0) right after the
// call: requests said to have all completed inside it must all be ready there; with none
// ready, none had completed, so the note must say they were in flight.
func kCheckDirect(t *testing.T, tr *kTrace, sub *event.Syscall, ready, n int64) {
	t.Helper()
	issued := int64(len(tr.kCaused(sub.Seq, "block_rq_issue")))
	all, isAll := kNote(sub, directAllRE)
	flight, isFlight := kNote(sub, directFlightRE)
	t.Logf("direct: io_submit issued %d block requests; %d of %d requests ready right after it; notes %q", issued, ready, n, sub.Notes)
	switch {
	case !isAll && !isFlight:
		if issued > 0 {
			t.Errorf("direct: io_submit issued %d block requests and no O_DIRECT note says what became of them: %q", issued, sub.Notes)
		}
	case isAll && ready < n:
		t.Errorf("direct: the note says all %s block requests completed inside io_submit, but only %d of %d requests were complete right after it: %q", all[1], ready, n, all[0])
	case isAll && kAtoi(t, all[1]) != issued, isFlight && kAtoi(t, flight[1]) != issued:
		t.Errorf("direct: the note counts block requests differently from the %d issued in the call: %q", issued, sub.Notes)
	case isFlight && ready == n && flight[2] == "":
		// every request was complete by the time io_getevents ran: they may have completed
		// after the call returned, so "in flight" can be true; nothing to hold against it
	}
}

// kCheckReaped checks an io_getevents' notes: the requests it returned were complete when it
// ran if it did not block; if it blocked, it says fewer than min_nr were; the ones it left
// behind, with room for more, were not complete. want is the count the program measured (-1:
// whatever it returned); left is how many were in flight before it.
func kCheckReaped(t *testing.T, tr *kTrace, step, opcode string, g *event.Syscall, want, left int64) {
	t.Helper()
	if g == nil {
		t.Errorf("%s: no io_getevents collected the rest", step)
		return
	}
	blocked := len(tr.kCaused(g.Seq, "sched_blocked")) > 0
	switch {
	case g.Ret > 0 && blocked && !kNoteHas(g, "collected "+opcode, "after blocking"):
		t.Errorf("%s: io_getevents blocked and returned %d, its note does not say it had to wait: %q", step, g.Ret, g.Notes)
	case g.Ret > 0 && !blocked && !kNoteHas(g, "collected "+opcode, "without waiting"):
		t.Errorf("%s: io_getevents returned %d without blocking, its note does not say they were complete: %q", step, g.Ret, g.Notes)
	}
	if g.Ret == 0 && kNoteHas(g, "collected") {
		t.Errorf("%s: io_getevents returned nothing, its note says it collected: %q", step, g.Notes)
	}
	if g.Ret < left && g.Ret < arg(g, "nr") && !kNoteHas(g, "not complete when it ran", opcode) {
		t.Errorf("%s: %d of %d requests were not complete (measured %d ready), io_getevents' note does not say so: %q", step, left-g.Ret, left, want, g.Notes)
	}
	if g.Ret == left && kNoteHas(g, "not complete") {
		t.Errorf("%s: io_getevents collected all %d, its note says some were not complete: %q", step, left, g.Notes)
	}
}

// kCheckAIOCapacity: io_setup(4) made a ring of ring_nr events (its header says so) and took 12
// requests at once; no note may claim less room than that, or more than the trace shows.
func kCheckAIOCapacity(t *testing.T, tr *kTrace, tt truth) {
	t.Helper()
	ringNr := tt.get(t, "setup", "ring_nr")
	setup := tr.kSyscalls("io_setup")
	if len(setup) != 1 {
		t.Fatalf("want one io_setup, got %d", len(setup))
	}
	m, ok := kNote(setup[0], atLeastRE)
	if !ok {
		t.Errorf("io_setup's note does not say what it asked for: %q", setup[0].Notes)
	} else if n := kAtoi(t, m[1]); n != tt.get(t, "setup", "asked") || n > ringNr {
		t.Errorf("io_setup's note says at least %d requests; io_setup asked %d and the ring has %d", n, tt.get(t, "setup", "asked"), ringNr)
	}
	for _, s := range tr.kSyscalls("io_setup", "io_submit", "io_getevents", "io_pgetevents") {
		for _, note := range s.Notes {
			if m := roomRE.FindStringSubmatch(note); m != nil {
				t.Errorf("%s (seq %d) claims a capacity (room for %s; the ring has %d, and held %d at once): %q", s.Name, s.Seq, m[1], ringNr, tt.get(t, "many", "submitted"), note)
			}
		}
	}
}

// kNextAfter is the first call of calls that starts after s ends.
func kNextAfter(calls []*event.Syscall, s *event.Syscall) *event.Syscall {
	for _, c := range calls {
		if c.TS >= kEnd(s) {
			return c
		}
	}
	return nil
}

// kNoteHas reports whether one of s's notes contains every part.
func kNoteHas(s *event.Syscall, parts ...string) bool {
next:
	for _, n := range s.Notes {
		for _, p := range parts {
			if !strings.Contains(n, p) {
				continue next
			}
		}
		return true
	}
	return false
}

// uringSteps are uringtruth's measured io_uring_enter calls.
var uringSteps = []string{"nop-wait", "read-nowait", "timeout-wait", "timeout-nowait", "punt", "sqpoll"}

var (
	uringCtxRE  = regexp.MustCompile(`^io_uring ctx=(#\d+): `)
	waitClaimRE = regexp.MustCompile(`asked to wait|so it waited|waited for \d`)
)

// TestTruthUring checks each io_uring_enter's note against the rings as the program read them
// right after the call (completions ready, SQEs the kernel had taken) and against the io_uring
// events of the same ring.
func TestTruthUring(t *testing.T) {
	tr, tt := truthRun(t, "uringtruth")
	if tt.get(t, "read-nowait", "cq_ready") != 0 {
		t.Fatalf("a read of an empty pipe had completed right after io_uring_enter (truth %v): the scenario does not test what it should", tt["read-nowait"])
	}
	for _, step := range uringSteps {
		s := kUringStep(t, tr, step)
		m := tt[step]
		if s.Ret != m["ret"] {
			t.Fatalf("%s: io_uring_enter returned %d, the program saw %d", step, s.Ret, m["ret"])
		}
		ctx := kCheckRingName(t, tr, step, s)
		getEvents := m["flags"]&1 != 0
		waited := len(tr.kCaused(s.Seq, "io_uring_cqring_wait")) > 0
		switch {
		case !getEvents && kNoteMatches(s, waitClaimRE):
			t.Errorf("%s: no IORING_ENTER_GETEVENTS, so min_complete is ignored (%d completions ready after it, min_complete %d), but the note says it waited: %q", step, m["cq_ready"], m["min_complete"], s.Notes)
		case !getEvents && m["min_complete"] > 0 && !kNoteHas(s, "min_complete", "ignored"):
			t.Errorf("%s: min_complete %d without IORING_ENTER_GETEVENTS, the note does not say it is ignored: %q", step, m["min_complete"], s.Notes)
		case getEvents && !kNoteHas(s, "asked to wait for "+strconv.FormatInt(m["min_complete"], 10)):
			t.Errorf("%s: IORING_ENTER_GETEVENTS with min_complete %d, the note does not say so: %q", step, m["min_complete"], s.Notes)
		case getEvents && m["cq_ready"] < m["min_complete"]:
			t.Errorf("%s: returned with %d completions ready, fewer than min_complete %d", step, m["cq_ready"], m["min_complete"])
		case waited != kNoteHas(s, "so it waited"):
			t.Errorf("%s: io_uring_cqring_wait raised inside it: %v; the note: %q", step, waited, s.Notes)
		}
		if step == "sqpoll" {
			kCheckSQPoll(t, tr, s, m, ctx)
			continue
		}
		if step == "punt" {
			kCheckWorkers(t, tr, s, m)
		}
		// Without SQPOLL the call submits, and its return is what the kernel took from the SQ.
		subs := tr.kCaused(s.Seq, "io_uring_submit_req", "io_uring_submit_sqe")
		want := fmt.Sprintf("%d of %d SQEs submitted", m["sq_taken"], m["to_submit"])
		if !kNoteHas(s, want) || int64(len(subs)) != m["sq_taken"] {
			t.Errorf("%s: the kernel took %d SQEs in the call (%d io_uring_submit_req inside it); want the note to say %q: %q", step, m["sq_taken"], len(subs), want, s.Notes)
		}
	}
}

// kCheckSQPoll: under SQPOLL io_uring_enter returns to_submit while the SQ thread takes the
// SQEs (sq_taken, read right after the call, may be fewer); the note must not credit the call.
func kCheckSQPoll(t *testing.T, tr *kTrace, s *event.Syscall, m map[string]int64, ctx string) {
	t.Helper()
	t.Logf("sqpoll: io_uring_enter returned %d; the SQ thread had taken %d SQEs when it returned", s.Ret, m["sq_taken"])
	if kNoteHas(s, "SQEs submitted") || !kNoteHas(s, "SQPOLL", "submitted none of the "+strconv.FormatInt(m["to_submit"], 10)) {
		t.Errorf("sqpoll: the note must say the call submitted none of the %d SQEs (the SQ thread had taken %d when it returned): %q", m["to_submit"], m["sq_taken"], s.Notes)
	}
	if subs := tr.kCaused(s.Seq, "io_uring_submit_req", "io_uring_submit_sqe"); len(subs) > 0 {
		t.Errorf("sqpoll: %d io_uring submissions attributed to io_uring_enter itself", len(subs))
	}
	var byThread int64
	for _, k := range tr.kKernel("io_uring_submit_req", "io_uring_submit_sqe") {
		if c, _ := k.Args.Str("ctx"); c == ctx && k.TID != s.TID {
			byThread++
		}
	}
	if byThread < m["to_submit"] {
		t.Errorf("sqpoll: want the %d SQEs submitted by the SQ thread on ring %s in the trace, got %d", m["to_submit"], ctx, byThread)
	}
	// the SQ thread is the one the program found among its threads (iou-sqp-PID), and every
	// event shown as the SQ thread's is that thread's
	sqt := kThreads(m)
	for _, k := range tr.kKernel("io_uring_submit_req", "io_uring_submit_sqe") {
		if c, _ := k.Args.Str("ctx"); c == ctx && (k.Via != event.ViaSQThread || !sqt[k.TID]) {
			t.Errorf("sqpoll: submission seq %d by tid %d shown via %q; the SQ thread is %v", k.Seq, k.TID, k.Via, sqt)
		}
	}
	for _, k := range tr.kKernel() {
		if k.Via == event.ViaSQThread && !sqt[k.TID] {
			t.Errorf("sqpoll: %s (seq %d) shown as the SQ thread's, by tid %d; the SQ thread is %v", k.Name, k.Seq, k.TID, sqt)
		}
	}
}

// kThreads are the tids the program listed for step (t0=, t1=, ... from /proc/self/task).
func kThreads(m map[string]int64) map[uint32]bool {
	out := map[uint32]bool{}
	for i := int64(0); i < m["threads"]; i++ {
		out[uint32(m["t"+strconv.FormatInt(i, 10)])] = true
	}
	return out
}

// kCheckWorkers: the writes the punt step forced to io-wq (IOSQE_ASYNC) ran on the io-wq
// workers the program found among its threads (iou-wrk-PID in /proc/self/task); the trace must
// link each completion to the call, as a worker's, and the note must name those workers only.
func kCheckWorkers(t *testing.T, tr *kTrace, s *event.Syscall, m map[string]int64) {
	t.Helper()
	workers := kThreads(m)
	if len(workers) == 0 {
		t.Fatalf("punt: the program found no io-wq worker among its threads: %v", m)
	}
	if punts := tr.kCaused(s.Seq, "io_uring_queue_async_work"); int64(len(punts)) != m["to_submit"] {
		t.Errorf("punt: %d io_uring_queue_async_work in the call, want %d (IOSQE_ASYNC on each)", len(punts), m["to_submit"])
	}
	var linked int64
	for _, k := range tr.kKernel() {
		if k.Via != event.ViaIOWorker {
			continue
		}
		if !workers[k.TID] {
			t.Errorf("punt: %s (seq %d) shown as an io-wq worker's, by tid %d, which is not one of the workers %v", k.Name, k.Seq, k.TID, workers)
		}
		if k.Name == "io_uring_complete" && k.CauseSeq == s.Seq {
			linked++
		}
	}
	if linked != m["to_submit"] {
		t.Errorf("punt: %d completions linked to the call as run by a worker, want %d", linked, m["to_submit"])
	}
	m0, ok := kNote(s, regexp.MustCompile(`punted \d+ requests? to io-wq worker threads; .*completed before the call returned`))
	if !ok {
		t.Fatalf("punt: no note says which workers ran the punted requests: %q", s.Notes)
	}
	note := m0[0]
	for _, tid := range regexp.MustCompile(`tid (\d+)`).FindAllStringSubmatch(note, -1) {
		n, _ := strconv.ParseUint(tid[1], 10, 32)
		if !workers[uint32(n)] {
			t.Errorf("punt: the note names tid %d, not one of the workers %v: %q", n, workers, note)
		}
	}
	t.Logf("punt: workers %v; %s", workers, note)
}

// kUringStep is the io_uring_enter whose result the program printed as step: the last one
// before its "truth STEP" write.
func kUringStep(t *testing.T, tr *kTrace, step string) *event.Syscall {
	t.Helper()
	var last *event.Syscall
	for _, s := range tr.kSyscalls("io_uring_enter", "write") {
		if s.Name == "io_uring_enter" {
			last = s
			continue
		}
		if strings.HasPrefix(bufData(s, "buf"), "truth "+step+" ") {
			if last == nil {
				t.Fatalf("%s: no io_uring_enter before the program's truth line", step)
			}
			return last
		}
	}
	t.Fatalf("%s: the program's truth line is not in the trace", step)
	return nil
}

// kCheckRingName: the note names the ring by the ctx id its kernel lines carry.
func kCheckRingName(t *testing.T, tr *kTrace, step string, s *event.Syscall) string {
	t.Helper()
	var ctx string
	for _, n := range s.Notes {
		if m := uringCtxRE.FindStringSubmatch(n); m != nil {
			ctx = m[1]
		}
	}
	if ctx == "" {
		t.Errorf("%s: no note names the ring by its kernel ctx id: %q", step, s.Notes)
	}
	for _, k := range tr.kCaused(s.Seq) {
		if c, ok := k.Args.Str("ctx"); ok && strings.HasPrefix(k.Name, "io_uring_") && c != ctx {
			t.Errorf("%s: the note names ring %q, its %s (seq %d) says ctx=%s", step, ctx, k.Name, k.Seq, c)
		}
	}
	return ctx
}

func kNoteMatches(s *event.Syscall, re *regexp.Regexp) bool { _, ok := kNote(s, re); return ok }
