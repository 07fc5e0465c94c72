package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/replay"
	"github.com/iotrace/iotrace/internal/testutil"
)

var (
	stormHead   = regexp.MustCompile(`^t=(\d\d) i=(\d{10}) $`)
	stormThread = regexp.MustCompile(`storm thread=(\d+) tid=(\d+) writev=(\d+)`)
)

// TestIntegrityUnderLoss runs a storm whose every call carries its own index in its iovecs,
// through a ring so small that losses are certain, and checks the recording call by call: every
// recorded call shows its own data (the index in its iovecs moves in step with the thread's call
// number), recorded + lost calls == the calls each thread made, exactly, and a lost marker comes
// right before the first call after each gap.
func TestIntegrityUnderLoss(t *testing.T) {
	testutil.RequireBPF(t)
	requireBuilt(t, stormErr)
	const calls, threads = 60000, 2
	for _, format := range []string{"iotrace", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "storm."+format)
			res := run(t, iotrace(t, "trace", "--buffer-size", "16384", "--format", "none", "-o", out, "--",
				stormBin, strconv.Itoa(calls), strconv.Itoa(threads)))
			if res.code != 0 {
				t.Fatalf("iotrace exited %d\n%s", res.code, res.stderr)
			}
			issued := map[uint32]int{} // storm thread tid -> writev calls it made
			for _, m := range stormThread.FindAllStringSubmatch(string(res.stderr), -1) {
				tid, _ := strconv.Atoi(m[2])
				n, _ := strconv.Atoi(m[3])
				issued[uint32(tid)] = n
			}
			if len(issued) != threads {
				t.Fatalf("the storm's threads did not report: %s", res.stderr)
			}
			checkIntegrity(t, out, issued, calls/threads, format == "iotrace")
		})
	}
}

func checkIntegrity(t *testing.T, path string, issued map[uint32]int, perThread int, raw bool) {
	t.Helper()
	rd, err := replay.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	type thread struct {
		recorded, lost uint64 // calls
		lastSeq        uint32
		pendingGap     uint64 // calls a Lost just said are missing, before the next call
		offset         int64  // call number minus storm index, once known
		lastIndex      int64
		writev         int
		lostSince      uint64 // calls lost since the thread's last storm writev
	}
	th := map[uint32]*thread{}
	get := func(tid uint32) *thread {
		if th[tid] == nil {
			th[tid] = &thread{offset: -1, lastIndex: -1}
		}
		return th[tid]
	}
	var placed, all uint64
	var losses int
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch x := e.(type) {
		case *event.Lost:
			if x.ViewOnly {
				t.Errorf("a recording has a view-only skip: %+v", x)
			}
			all += x.Calls
			if x.TID != 0 {
				get(x.TID).pendingGap += x.Calls
				get(x.TID).lost += x.Calls
				get(x.TID).lostSince += x.Calls
				placed += x.Calls
				losses++
			}
		case *event.Syscall:
			s := get(x.TID)
			if raw {
				// the call numbers are in raw recordings only
				if gap := uint64(x.CallSeq - s.lastSeq - 1); x.CallSeq > s.lastSeq+1 && gap != s.pendingGap {
					t.Errorf("tid %d: calls %d..%d missing, the lost marker before call %d says %d", x.TID, s.lastSeq+1, x.CallSeq-1, x.CallSeq, s.pendingGap)
				} else if x.CallSeq == s.lastSeq+1 && s.pendingGap != 0 {
					t.Errorf("tid %d: a lost marker of %d calls before call %d, which follows call %d", x.TID, s.pendingGap, x.CallSeq, s.lastSeq)
				}
				s.lastSeq = x.CallSeq
			}
			s.pendingGap = 0
			s.recorded++
			if x.Name != "writev" || issued[x.TID] == 0 {
				continue
			}
			idx, ok := stormIndex(t, x)
			if !ok {
				continue
			}
			s.writev++
			if idx <= s.lastIndex {
				t.Errorf("tid %d: writev of index %d after index %d", x.TID, idx, s.lastIndex)
			} else if s.lastIndex >= 0 && uint64(idx-s.lastIndex-1) != s.lostSince {
				// inside the storm's loop every call is a writev: the calls between two recorded
				// ones are exactly the lost ones
				t.Errorf("tid %d: storm calls %d..%d are not in the recording, the lost markers between say %d calls", x.TID, s.lastIndex+1, idx-1, s.lostSince)
			}
			s.lastIndex, s.lostSince = idx, 0
			if raw {
				// the storm makes nothing but writev calls in its loop: a call's number and its
				// index move together, unless the data is another call's
				off := int64(x.CallSeq) - idx
				if s.offset >= 0 && off != s.offset {
					t.Fatalf("tid %d: call %d shows index %d; the thread's calls before it showed call number - index = %d: it shows another call's data", x.TID, x.CallSeq, idx, s.offset)
				}
				s.offset = off
			}
		}
	}
	sum := rd.Summary()
	if sum == nil {
		t.Fatal("no summary")
	}
	var counted uint64
	for _, l := range sum.LostBy {
		counted += l.Calls
	}
	if raw && counted != all {
		t.Errorf("the loss counters say %d calls lost, the recording's lost markers add up to %d", counted, all)
	}
	if losses == 0 {
		t.Fatalf("a 16 KiB ring under a %d-call storm lost nothing: the test proves nothing", perThread*len(issued))
	}
	for tid, n := range issued {
		s := get(tid)
		if s.writev > n {
			t.Errorf("tid %d: %d writev recorded, the storm made %d", tid, s.writev, n)
		}
		if raw {
			// the thread's last call (its exit) is recorded after the storm's pause: its
			// number is how many calls the thread made
			if s.recorded+s.lost != uint64(s.lastSeq) {
				t.Errorf("tid %d: %d recorded + %d lost calls, but the thread made %d", tid, s.recorded, s.lost, s.lastSeq)
			}
		}
	}
	t.Logf("%d calls lost in %d gaps (%d placed); %d threads checked", all, losses, placed, len(issued))
}

// stormIndex reads the index a storm call carries in its first and third iovecs (which must
// agree), and fails the test for a call whose data is not a storm call's.
func stormIndex(t *testing.T, s *event.Syscall) (int64, bool) {
	t.Helper()
	v, ok := s.Decoded.Get("vec")
	if !ok {
		t.Errorf("tid %d: writev call %d without its iovecs (capture_lost %v): %v", s.TID, s.CallSeq, s.CaptureLost, s.Decoded)
		return 0, false
	}
	iovs, _ := v.([]any)
	data := func(i int) string {
		if i >= len(iovs) {
			return ""
		}
		f, _ := iovs[i].(event.Fields)
		d, _ := f.Str("data")
		return d
	}
	m := stormHead.FindStringSubmatch(data(0))
	if m == nil || data(2) != m[2] || !strings.HasPrefix(data(1), "payload") {
		t.Errorf("tid %d: writev call %d shows data that is no storm call's: %q", s.TID, s.CallSeq, fmt.Sprint(iovs))
		return 0, false
	}
	idx, _ := strconv.ParseInt(m[2], 10, 64)
	return idx, true
}
