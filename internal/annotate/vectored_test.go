package annotate

import (
	"slices"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
)

// vcall is a scatter/gather call returning ret over iovecs of lens, with more iovecs past
// those the BPF side copied.
func vcall(name string, ret int64, more int64, lens ...int64) *event.Syscall {
	s := call(1, name, ret, "fd", 3, "vec", 0, "vlen", len(lens)+int(more))
	var vec []any
	for _, n := range lens {
		vec = append(vec, event.Fields{{Key: "len", Val: uint64(n)}, {Key: "data", Val: ""}})
	}
	s.Decoded = event.Fields{{Key: "vec", Val: vec}}
	if more > 0 {
		s.Decoded = append(s.Decoded, event.Field{Key: "vec_more", Val: more})
	}
	return s
}

// TestFillMap: a short scatter/gather transfer is mapped onto its iovecs from their lengths and
// the return value; a complete one, a failed one, or one past the copied iovecs gets no map.
func TestFillMap(t *testing.T) {
	tests := []struct {
		name string
		s    *event.Syscall
		want []string
	}{
		{"readv short in the second buffer (the issue's example)", vcall("readv", 6000, 0, 4096, 4096, 4096, 4096),
			[]string{"returned 6000 of 16384: iov[0] 4096 full, iov[1] 1904 of 4096, iov[2..3] untouched"}},
		{"pipe writev cut at 64 KiB", vcall("writev", 65536, 0, 1000, 30000, 50000, 41880),
			[]string{"returned 65536 of 122880: iov[0..1] full (31000 bytes), iov[2] 34536 of 50000, iov[3] untouched"}},
		{"ending exactly at a boundary", vcall("preadv", 8, 0, 8, 22, 16),
			[]string{"returned 8 of 46: iov[0] 8 full, iov[1..2] untouched"}},
		{"nothing transferred", vcall("preadv2", 0, 0, 512, 512),
			[]string{"returned 0 of 1024: iov[0..1] untouched"}},
		{"a zero-length iovec", vcall("pwritev2", 10, 0, 4, 0, 8),
			[]string{"returned 10 of 12: iov[0] 4 full, iov[1] empty, iov[2] 6 of 8"}},
		{"more iovecs than copied, ended inside the copied ones", vcall("readv", 100, 4, 64, 64),
			[]string{"returned 100 of more than 128 (6 iovecs; the lengths of the last 4 were not captured): iov[0] 64 full, iov[1] 36 of 64, iov[2..5] untouched"}},
		{"more iovecs than copied, past them: not told", vcall("writev", 128, 4, 64, 64), nil},
		{"complete transfer", vcall("readv", 38, 0, 8, 22, 8), nil},
		{"failed call", failed(vcall("readv", 0, 0, 8), "EAGAIN"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New("amd64")
			a.Annotate(openat(1, 3, "/f", 0))
			a.Annotate(tt.s)
			if !slices.Equal(tt.s.Notes, tt.want) {
				t.Errorf("notes %q, want %q", tt.s.Notes, tt.want)
			}
		})
	}
}
