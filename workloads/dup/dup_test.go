package dup

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

func newEnv(t *testing.T) (*workloads.Env, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	return &workloads.Env{Dir: t.TempDir(), Opts: workloads.Options{Stdout: &out}}, &out
}

func TestStdoutAndDup2File(t *testing.T) {
	tests := []struct {
		name string
		run  func(*workloads.Env) error
		want string
	}{
		{"stdout", runStdout, "wrote 12 bytes through fd"},
		{"dup2-file", runDup2File, `output.txt, which now holds "This will go to output.txt\n"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out := newEnv(t)
			if err := tt.run(env); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("narration lacks %q:\n%s", tt.want, out)
			}
			// Stdout must be usable again afterwards.
			if _, err := stdoutWrite(); err != nil {
				t.Errorf("stdout not restored: %v", err)
			}
		})
	}
}

func TestSharedOffset(t *testing.T) {
	env, _ := newEnv(t)
	res, err := sharedOffset(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.offFd != 10 || res.offDup != 10 {
		t.Errorf("offsets after a 10-byte write: fd %d, dup %d; want 10 and 10", res.offFd, res.offDup)
	}
	if !res.appendSeenThroughFd {
		t.Errorf("O_APPEND set on the duplicate is not seen through the original")
	}
	if !res.cloexecFd || res.cloexecDup {
		t.Errorf("FD_CLOEXEC: original %v, duplicate %v; want true, false", res.cloexecFd, res.cloexecDup)
	}
}

func TestCloexecExec(t *testing.T) {
	env, _ := newEnv(t)
	res, err := cloexecExec(env)
	if err != nil {
		t.Fatal(err)
	}
	if open, ok := res.child[res.cloexecFd]; !ok || open {
		t.Errorf("O_CLOEXEC fd %d in the child: probed %v, open %v; want closed", res.cloexecFd, ok, open)
	}
	if open := res.child[res.plainFd]; !open {
		t.Errorf("plain dup2 fd %d closed in the child; want open", res.plainFd)
	}
}

func TestDup2Close(t *testing.T) {
	env, _ := newEnv(t)
	res, err := dup2Close(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.a != "written through b after dup2\n" || res.b != "written through b\n" {
		t.Errorf("a.txt %q, b.txt %q", res.a, res.b)
	}
}

// stdoutWrite writes nothing to fd 1, which fails with EBADF if it is closed.
func stdoutWrite() (int, error) { return unix.Write(1, nil) }
