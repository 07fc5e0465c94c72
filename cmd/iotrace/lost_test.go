package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/testutil"
)

// TestLostEventsCounted overflows a one-page ring buffer with a syscall storm: every dropped
// record must be counted, shown inline as lost events, and totalled in the summary.
func TestLostEventsCounted(t *testing.T) {
	testutil.RequireBPF(t)
	out := filepath.Join(t.TempDir(), "lost.jsonl")
	cmd := iotrace(t, "trace", "--buffer-size", "4096", "--summary", "-o", out, "--",
		"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=20000")
	res := run(t, cmd)
	if res.code != 0 {
		t.Fatalf("iotrace exited %d\n%s", res.code, res.stderr)
	}
	rec := readRecordingFile(t, out)
	var inline uint64
	for _, e := range rec.Events {
		if l, ok := e.(*event.Lost); ok {
			if (l.Count == 0 && l.ModelLost == 0) || l.Reason == "" {
				t.Errorf("lost event without a count or a reason: %+v", l)
			}
			inline += l.Count
		}
	}
	if inline == 0 {
		t.Fatal("a 4 KiB ring under 40000 syscalls lost nothing: the storm did not overflow it, or losses are not reported")
	}
	if rec.Summary.Lost != inline {
		t.Errorf("summary counts %d lost, the inline lost events add up to %d", rec.Summary.Lost, inline)
	}
	if !bytes.Contains(res.stdout, []byte(" lost over ")) {
		t.Errorf("the text timeline does not show the losses inline")
	}
	if !strings.Contains(string(res.stdout), "lost events: ") {
		t.Errorf("the summary table does not show the losses")
	}
}

// TestBufferSizeChecked: a ring size the kernel cannot take is refused before tracing.
func TestBufferSizeChecked(t *testing.T) {
	res := run(t, iotrace(t, "trace", "--buffer-size", "5000", "--", "true"))
	if res.code != 2 || !strings.Contains(string(res.stderr), "not a power of two") {
		t.Errorf("--buffer-size 5000: exit %d, stderr %q", res.code, res.stderr)
	}
}
