package mmap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/iotrace/iotrace/workloads"
)

func newEnv(t *testing.T) *workloads.Env {
	t.Helper()
	return &workloads.Env{Dir: t.TempDir(), Opts: workloads.Options{Size: 256 << 10, Stdout: new(bytes.Buffer)}}
}

func TestCopy(t *testing.T) {
	for _, state := range []sourceState{justWritten, warm, cold} {
		t.Run(state.String(), func(t *testing.T) {
			env := newEnv(t)
			faults, err := copyFile(env, state)
			if err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(filepath.Join(env.Dir, srcFile))
			if err != nil {
				t.Fatal(err)
			}
			dst, err := os.ReadFile(filepath.Join(env.Dir, dstFile))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(src)) != env.Opts.Size || !bytes.Equal(src, dst) {
				t.Errorf("destination (%d bytes) differs from source (%d bytes)", len(dst), len(src))
			}
			if faults == 0 {
				t.Errorf("the copy took no page faults; the mappings must fault pages in")
			}
		})
	}
}

func TestPopulate(t *testing.T) {
	res, err := populate(newEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.touchFaults != 0 {
		t.Errorf("touching a MAP_POPULATE mapping took %d page faults, want 0", res.touchFaults)
	}
}

func TestCOW(t *testing.T) {
	res, err := cow(newEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.mapped != 'X' || res.file != 'a' {
		t.Errorf("mapping byte %q, file byte %q; want 'X' and 'a'", res.mapped, res.file)
	}
	if res.writeFaults == 0 {
		t.Errorf("the write to a MAP_PRIVATE page took no fault; copy-on-write must fault")
	}
}

func TestMsync(t *testing.T) {
	env := newEnv(t)
	res, err := msync(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.haveCachestat && (res.dirtyBefore == 0 || res.dirtyAfter != 0) {
		t.Errorf("dirty pages %d before msync, %d after; want >0 then 0", res.dirtyBefore, res.dirtyAfter)
	}
	got, err := os.ReadFile(filepath.Join(env.Dir, "shared.dat"))
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range got {
		if b != workloads.PatternByte(int64(i)) {
			t.Fatalf("file byte %d = %q, want %q", i, b, workloads.PatternByte(int64(i)))
		}
	}
}
