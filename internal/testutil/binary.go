package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the iotrace binary the end-to-end tests run: $IOTRACE_BIN when set (the test
// run on another kernel ships a prebuilt static binary to a guest without Go), otherwise one
// built once per test process from this checkout.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("IOTRACE_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iotrace-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "iotrace")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/iotrace")
		cmd.Dir = repoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	if binErr != nil {
		tb.Fatalf("build iotrace: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// repoRoot is the module root, found from this file's location.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
