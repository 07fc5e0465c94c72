package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render/summary"
	"github.com/iotrace/iotrace/internal/testutil"
	"github.com/iotrace/iotrace/workloads"
	"github.com/iotrace/iotrace/workloads/catalog"
)

// checkPredictions asserts that the run's recording holds one prediction record per prediction
// the variant declares, each held (✔) on this machine, and logs the figure measured.
func checkPredictions(t *testing.T, r *run, workload string, v workloads.Variant) {
	t.Helper()
	got := map[string]*event.Prediction{}
	for _, e := range r.events {
		if p, ok := e.(*event.Prediction); ok && p.Workload == workload && p.Variant == v.Name {
			if got[p.ID] != nil {
				t.Errorf("prediction %s judged twice", p.ID)
			}
			got[p.ID] = p
		}
	}
	for _, want := range v.Predictions {
		p := got[want.ID]
		if p == nil {
			t.Errorf("no prediction record for %s/%s %s (%s)", workload, v.Name, want.ID, want.Says)
			continue
		}
		t.Logf("%s %s: %s — %s", p.Verdict, p.ID, p.Says, p.Measured)
		if kernelLacks(r.header, p) {
			continue // said so, with what is missing; a kernel with every probe must say ✔
		}
		if p.Verdict != event.VerdictHeld {
			t.Errorf("%s/%s: %q is %s on this machine: %s", workload, v.Name, p.Says, p.Verdict, p.Measured)
		}
	}
	if len(got) != len(v.Predictions) {
		t.Errorf("%d prediction records, the variant declares %d", len(got), len(v.Predictions))
	}
}

// kernelLacks reports whether p is "not measurable here" for want of evidence this kernel
// lacks: only where the header lists missing tracepoints, or on arm64, where page faults come
// from the perf event, which does not tell a write fault.
func kernelLacks(h *event.Header, p *event.Prediction) bool {
	return p.Verdict == event.VerdictUnmeasurable && strings.HasPrefix(p.Measured, "not measurable here: ") &&
		(len(h.MissingProbes) > 0 || h.Arch != "x86_64")
}

// TestPredictions runs each workload whole, as the tour does — every variant in one traced run,
// the syscalls narrowed to the workload's set — and asserts that every prediction of every
// variant holds, in the recording and in the summary's count, and that `show` of the recording
// judges them the same and prints each with ✔.
func TestPredictions(t *testing.T) {
	for _, w := range catalog.All() {
		t.Run(w.Name, func(t *testing.T) {
			r := traceRun(t, w.Name)
			var want event.PredictionStat
			for _, v := range w.Variants {
				checkPredictions(t, r, w.Name, v)
			}
			for _, e := range r.events {
				if p, ok := e.(*event.Prediction); ok && kernelLacks(r.header, p) {
					want.Unmeasurable++
				} else if ok {
					want.Held++
				}
			}
			if st := r.summary.Predictions; st == nil || *st != want {
				t.Errorf("the summary counts predictions %+v, want %+v", st, want)
			}
			checkShown(t, r, w, want)
		})
	}
}

// checkShown re-renders the run's recording as text with `iotrace show` and looks for each
// verdict's line — ✔, or – where the kernel lacks the evidence — and the count at the end.
func checkShown(t *testing.T, r *run, w *workloads.Workload, want event.PredictionStat) {
	t.Helper()
	out, errOut, code := iotrace(t, exec.Command(testutil.Binary(t), "show", r.file, "--color", "never"))
	if code != 0 {
		t.Fatalf("iotrace show: exit %d, stderr %q", code, errOut)
	}
	for _, e := range r.events {
		p, ok := e.(*event.Prediction)
		if !ok {
			continue
		}
		mark := "✔"
		if kernelLacks(r.header, p) {
			mark = "–"
		}
		if line := "  " + mark + " " + p.Says + " — " + p.Measured + "\n"; !strings.Contains(out, line) {
			t.Errorf("iotrace show does not print %q", line)
		}
	}
	if line := summary.PredictionLine(&want); !strings.Contains(out, line) {
		t.Errorf("iotrace show's output lacks %q", line)
	}
}
