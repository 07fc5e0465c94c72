package vectored

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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

func TestWritevMatchesWrites(t *testing.T) {
	const want = "HEADER: Data part 1Data part 2\nFOOTER\n"
	tests := []struct {
		run  func(*workloads.Env) error
		file string
		line string
	}{
		{runWritev, writevFile, "wrote 38 bytes with 1 writev of 4 iovecs (8+11+11+8)"},
		{runWrites, writesFile, "wrote 38 bytes with 4 write calls (8+11+11+8)"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			env, out := newEnv(t)
			if err := tt.run(env); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(env.Dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("file = %q, want %q", got, want)
			}
			if !strings.Contains(out.String(), tt.line) {
				t.Errorf("narration %q lacks %q", out.String(), tt.line)
			}
		})
	}
}

func TestReadvScatters(t *testing.T) {
	env, _ := newEnv(t)
	res, err := readv(env)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"HEADER: ", "Data part 1Data part 2", "\nFOOTER\n"}
	if res.n != 38 || len(res.bufs) != len(want) {
		t.Fatalf("readv = %d bytes in %d buffers, want 38 in %d", res.n, len(res.bufs), len(want))
	}
	for i, w := range want {
		if string(res.bufs[i]) != w {
			t.Errorf("buffer %d = %q, want %q", i, res.bufs[i], w)
		}
	}
}

func TestNowait(t *testing.T) {
	env, _ := newEnv(t)
	var st unix.Statfs_t
	if err := unix.Statfs(env.Dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		t.Skip("temp dir is on tmpfs: pages cannot go cold")
	}
	res, err := nowait(env)
	if err != nil {
		t.Fatal(err)
	}
	// On a cold page RWF_NOWAIT starts the read and fails with EAGAIN unless the read is done
	// when it looks again (a fast disk): data is right only where cachestat saw the page cold.
	switch {
	case errors.Is(res.coldErr, unix.EAGAIN):
	case res.coldErr != nil:
		t.Errorf("cold preadv2(RWF_NOWAIT): %v, want EAGAIN or data", res.coldErr)
	case !res.coldKnown:
		t.Logf("cold preadv2(RWF_NOWAIT) = %d (no cachestat here to tell whether the page was cold)", res.coldN)
	case res.coldCached:
		t.Errorf("cold preadv2(RWF_NOWAIT) = %d: the page was still cached after the eviction", res.coldN)
	default:
		t.Logf("cold preadv2(RWF_NOWAIT) = %d: the read it started was done first", res.coldN)
	}
	if res.warmN != 4096 {
		t.Errorf("warm preadv2(RWF_NOWAIT) = %d bytes, want 4096", res.warmN)
	}
}

func TestIovMax(t *testing.T) {
	env, _ := newEnv(t)
	res, err := iovMaxWrites(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.atMaxN != iovMax {
		t.Errorf("writev of %d iovecs = %d bytes", iovMax, res.atMaxN)
	}
	if !errors.Is(res.pastErr, unix.EINVAL) {
		t.Errorf("writev of %d iovecs: %v, want EINVAL", iovMax+1, res.pastErr)
	}
}
