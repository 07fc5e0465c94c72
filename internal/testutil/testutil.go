// Package testutil holds what the tests share: the BPF gate and golden files.
package testutil

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/iotrace/iotrace/internal/doctor"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// InCI reports whether the tests run in CI, where BPF must be available.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireBPF skips a test that needs to load BPF programs when this machine cannot, with the
// reason — except in CI, where BPF is required and a skip would hide a broken run: there it fails.
func RequireBPF(t testing.TB) {
	t.Helper()
	if os.Getenv("IOTRACE_UNIT_ONLY") != "" {
		t.Skip("IOTRACE_UNIT_ONLY is set: BPF tests are not run (make test runs them)")
	}
	if err := doctor.CheckPrivileges(); err != nil {
		if InCI() {
			t.Fatalf("BPF is required in CI but unavailable: %v", err)
		}
		t.Skipf("needs BPF: %v (run the tests as root; in CI this fails instead)", err)
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		if InCI() {
			t.Fatalf("BPF is required in CI but the kernel has no BTF: %v", err)
		}
		t.Skipf("needs a kernel with BTF: %v", err)
	}
}

// Golden compares got with testdata/NAME, or rewrites it with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// Timeout stretches a test's own time limit by $IOTRACE_TEST_TIMEOUT_SCALE: the run on another
// kernel happens in an emulated guest, many times slower than this machine.
func Timeout(d time.Duration) time.Duration {
	if s, err := strconv.Atoi(os.Getenv("IOTRACE_TEST_TIMEOUT_SCALE")); err == nil && s > 1 {
		return d * time.Duration(s)
	}
	return d
}
