package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAttachChild(t *testing.T) {
	// A gate that is never released: a live child with several (Go runtime) threads.
	tg, err := Start(Options{Argv: []string{"/bin/true"}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(tg.Abort)

	a, err := Attach(tg.PID)
	if err != nil {
		t.Fatalf("Attach(%d): %v", tg.PID, err)
	}
	if a.PID != tg.PID {
		t.Errorf("PID = %d, want %d", a.PID, tg.PID)
	}
	if !slices.Contains(a.TIDs, tg.PID) || !slices.IsSorted(a.TIDs) {
		t.Errorf("TIDs = %v, want sorted and containing %d", a.TIDs, tg.PID)
	}
	// The gate is /proc/self/exe, so the kernel names it "exe".
	if a.Comm != "exe" {
		t.Errorf("Comm = %q, want %q", a.Comm, "exe")
	}

	t.Run("non-leader thread", func(t *testing.T) {
		// The gate's Go runtime starts sysmon before main; give it time to appear.
		var tid int
		for deadline := time.Now().Add(5 * time.Second); tid == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gate %d never started a second thread", tg.PID)
			}
			tids, err := threads(tg.PID)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(tids, func(tid int) bool { return tid != tg.PID }); i >= 0 {
				tid = tids[i]
			}
		}
		_, err := Attach(tid)
		want := fmt.Sprintf("%d is a thread of process %d; use -p %d", tid, tg.PID, tg.PID)
		if err == nil || err.Error() != want {
			t.Errorf("Attach(%d) = %v, want %q", tid, err, want)
		}
	})
}

func TestAttachRefused(t *testing.T) {
	missing := pidMax(t) // pids are always below pid_max
	tests := []struct {
		name     string
		pid      int
		want     string
		notExist bool
	}{
		{"zero", 0, "invalid pid 0", false},
		{"negative", -5, "invalid pid -5", false},
		{"nonexistent", missing, fmt.Sprintf("process %d does not exist", missing), true},
		{"self", os.Getpid(), fmt.Sprintf("process %d is iotrace itself", os.Getpid()), false},
		{"parent", os.Getppid(), fmt.Sprintf("process %d is an ancestor of iotrace and cannot be traced", os.Getppid()), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Attach(tt.pid)
			if err == nil {
				t.Fatalf("Attach(%d) = %+v, want an error", tt.pid, a)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tt.notExist)
			}
		})
	}
}

func pidMax(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
