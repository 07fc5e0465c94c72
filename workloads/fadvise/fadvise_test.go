package fadvise

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/iotrace/iotrace/workloads"
)

const testSize = 256 << 10

func newEnv(t *testing.T) *workloads.Env {
	t.Helper()
	return &workloads.Env{Dir: t.TempDir(), Opts: workloads.Options{Size: testSize, Stdout: new(bytes.Buffer)}}
}

func TestCopy(t *testing.T) {
	env := newEnv(t)
	res, err := copyFile(env)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(env.Dir, "source.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.ReadFile(filepath.Join(env.Dir, "dest.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if res.copied != testSize || res.reads != testSize/bufSize || !bytes.Equal(src, dst) {
		t.Errorf("copied %d bytes in %d reads (want %d in %d); files equal: %v", res.copied, res.reads, testSize, testSize/bufSize, bytes.Equal(src, dst))
	}
	if res.haveCachestat && res.srcCachedAfter != 0 {
		t.Errorf("%d source pages cached after DONTNEED of a clean file, want 0", res.srcCachedAfter)
	}
}

func TestWillneed(t *testing.T) {
	res, err := willneed(newEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.read != testSize {
		t.Errorf("read %d bytes, want %d", res.read, testSize)
	}
	if res.haveCachestat && res.cachedBefore == 0 {
		t.Errorf("no pages cached after WILLNEED")
	}
}

func TestRandomVsSeq(t *testing.T) {
	res, err := randomVsSeq(newEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].name != "RANDOM" || res[1].name != "SEQUENTIAL" {
		t.Fatalf("passes = %+v, want RANDOM then SEQUENTIAL", res)
	}
	for _, r := range res {
		if r.read != testSize {
			t.Errorf("%s pass read %d bytes, want %d", r.name, r.read, testSize)
		}
	}
}

func TestDontneedDirty(t *testing.T) {
	res, err := dontneedDirty(newEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if !res.haveCachestat {
		t.Skip("no cachestat on this kernel: cannot count cached pages")
	}
	if res.cleanCached != 0 {
		t.Errorf("%d pages cached after fdatasync and DONTNEED, want 0", res.cleanCached)
	}
	t.Logf("DONTNEED on dirty pages left %d of %d cached", res.dirtyCached, testSize/4096)
}
