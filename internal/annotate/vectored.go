package annotate

import (
	"fmt"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// vectored are the scatter/gather calls, whose "vec" argument the decoder gives as a list of
// {len, data} — the iovec lengths the program passed, whichever direction the call moves data.
var vectored = map[string]bool{"readv": true, "writev": true, "preadv": true, "pwritev": true, "preadv2": true, "pwritev2": true}

// fillNote maps a short scatter/gather transfer onto its iovecs: the kernel fills (or drains)
// them in order, so a return value below their total says exactly where it stopped — buffers
// before that point full, one partly, the rest untouched. It is derived from the decoded iovec
// lengths and the return value alone. When more iovecs were passed than the BPF side copies
// (it takes 16; vec_more counts the rest) the total is unknown: the note is made only when the
// transfer ended inside the copied ones, and says nothing when it moved past them.
func fillNote(s *event.Syscall) (string, bool) {
	if !vectored[s.Name] || s.Failed() || s.Ret < 0 {
		return "", false
	}
	lens, ok := iovLens(s)
	if !ok {
		return "", false
	}
	vlen := int64(len(lens))
	if more, _ := s.Decoded.Int("vec_more"); more > 0 {
		vlen += more
	}
	var known int64
	for _, n := range lens {
		known += n
	}
	if s.Ret >= known {
		return "", false // all copied iovecs transferred in full (or past them: not told)
	}
	of := fmt.Sprintf("of %d", known)
	if vlen > int64(len(lens)) {
		of = fmt.Sprintf("of more than %d (%d iovecs; the lengths of the last %d were not captured)", known, vlen, vlen-int64(len(lens)))
	}
	return fmt.Sprintf("returned %d %s: %s", s.Ret, of, fillRuns(lens, vlen, s.Ret)), true
}

// iovLens returns the lengths of the decoded iovecs.
func iovLens(s *event.Syscall) ([]int64, bool) {
	v, ok := s.Decoded.Get("vec")
	if !ok {
		return nil, false
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	lens := make([]int64, 0, len(list))
	for _, e := range list {
		f, _ := e.(event.Fields)
		n, ok := f.Int("len")
		if !ok {
			return nil, false
		}
		lens = append(lens, n)
	}
	return lens, true
}

// fillRuns states each iovec's share of n bytes, in runs of the same state: "iov[0..1] full
// (8192 bytes), iov[2] 1904 of 4096, iov[3..5] untouched". Iovecs past the known lengths, up to
// vlen, are untouched: n ended inside the known ones. A zero-length iovec is "empty".
func fillRuns(lens []int64, vlen, n int64) string {
	type share struct {
		state     string // full, part, untouched, empty
		took, len int64
	}
	shares := make([]share, vlen)
	left := n
	for i := range shares {
		var l int64
		if i < len(lens) {
			l = lens[i]
		}
		take := min(left, l)
		left -= take
		sh := share{took: take, len: l}
		switch {
		case i < len(lens) && l == 0:
			sh.state = "empty"
		case take == l && i < len(lens):
			sh.state = "full"
		case take > 0:
			sh.state = "part"
		default:
			sh.state = "untouched"
		}
		shares[i] = sh
	}
	var parts []string
	for i := 0; i < len(shares); {
		j, sum := i+1, shares[i].took
		for shares[i].state != "part" && j < len(shares) && shares[j].state == shares[i].state {
			sum += shares[j].took
			j++
		}
		r := iovRange(int64(i), int64(j-1))
		switch shares[i].state {
		case "full":
			if j-i == 1 {
				parts = append(parts, fmt.Sprintf("%s %d full", r, sum))
			} else {
				parts = append(parts, fmt.Sprintf("%s full (%d bytes)", r, sum))
			}
		case "part":
			parts = append(parts, fmt.Sprintf("%s %d of %d", r, shares[i].took, shares[i].len))
		default:
			parts = append(parts, r+" "+shares[i].state)
		}
		i = j
	}
	return strings.Join(parts, ", ")
}

func iovRange(from, to int64) string {
	if from == to {
		return fmt.Sprintf("iov[%d]", from)
	}
	return fmt.Sprintf("iov[%d..%d]", from, to)
}
