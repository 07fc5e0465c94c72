package aio

import (
	"bytes"
	"testing"

	"github.com/iotrace/iotrace/workloads"
)

func newEnv(t *testing.T) (*workloads.Env, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	return &workloads.Env{Dir: t.TempDir(), Opts: workloads.Options{Size: 256 << 10, Stdout: &out}}, &out
}

func TestNative(t *testing.T) {
	for _, direct := range []bool{false, true} {
		name := map[bool]string{false: "buffered", true: "direct"}[direct]
		t.Run(name, func(t *testing.T) {
			env, out := newEnv(t)
			res, err := native(env, direct)
			if err != nil {
				t.Fatal(err)
			}
			if res.skipped != "" {
				t.Skip(res.skipped)
			}
			if res.submitted != 4 || res.completions != 4 {
				t.Errorf("submitted %d, completed %d; want 4 and 4", res.submitted, res.completions)
			}
			// Buffered AIO reads synchronously inside io_submit.
			if !direct && res.doneAtOnce != 4 {
				t.Errorf("buffered: %d of 4 reads complete when io_submit returned, want 4\n%s", res.doneAtOnce, out)
			}
		})
	}
}

func TestUring(t *testing.T) {
	for _, sqpoll := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "sqpoll"}[sqpoll]
		t.Run(name, func(t *testing.T) {
			env, out := newEnv(t)
			res, err := uring(env, sqpoll)
			if err != nil {
				t.Fatal(err)
			}
			if res.skipped != "" {
				t.Skip(res.skipped)
			}
			if res.writes != 4 || res.reads != 4 {
				t.Errorf("writes %d, reads %d; want 4 and 4", res.writes, res.reads)
			}
			if !sqpoll && res.enters != 2 {
				t.Errorf("%d io_uring_enter calls, want 2 (one per batch)", res.enters)
			}
			if sqpoll && res.enters > 2 {
				t.Errorf("SQPOLL made %d io_uring_enter calls, want at most one wakeup per batch\n%s", res.enters, out)
			}
		})
	}
}

func TestGoroutinePread(t *testing.T) {
	env, _ := newEnv(t)
	res, err := goroutinePread(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.n != 99 || res.data != articleText[:99] {
		t.Errorf("read %d bytes %q, want 99 bytes of the article text", res.n, res.data)
	}
	if res.readerTid == res.callerTid || res.readerTid == 0 {
		t.Errorf("pread ran on tid %d, caller on %d; want another thread", res.readerTid, res.callerTid)
	}
}
