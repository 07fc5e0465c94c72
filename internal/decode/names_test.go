package decode

import "testing"

var testTab = []sym{
	{0x3, "BOTH"}, // listed before its parts, so it wins when both are set
	{0x1, "ONE"},
	{0x2, "TWO"},
	{0x10, "SIXTEEN"},
}

func TestFlags(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "NONE"},
		{0x1, "ONE"},
		{0x3, "BOTH"},
		{0x11, "ONE|SIXTEEN"},
		{0x13, "BOTH|SIXTEEN"},
		{0x100, "0x100"},
		{0x101, "ONE|0x100"},
		{1 << 63, "0x8000000000000000"},
	}
	for _, tt := range tests {
		if got := nameFlags(tt.v, testTab, "NONE"); got != tt.want {
			t.Errorf("nameFlags(%#x) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestEnumAndIndexed(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{nameEnum(0x10, testTab), "SIXTEEN"},
		{nameEnum(0x4, testTab), "0x4"},
		{nameIndexed(1, []string{"ZERO", "ONE", "", "THREE"}), "ONE"},
		{nameIndexed(2, []string{"ZERO", "ONE", "", "THREE"}), "0x2"},
		{nameIndexed(4, []string{"ZERO", "ONE", "", "THREE"}), "0x4"},
		{nameIndexed(1<<63, []string{"ZERO"}), "0x8000000000000000"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestArchNames(t *testing.T) {
	for arch, arm := range map[string]bool{"arm64": true, "aarch64": true, "amd64": false, "x86_64": false, "": false} {
		if isARM64(arch) != arm {
			t.Errorf("isARM64(%q) = %v", arch, !arm)
		}
	}
}

// The namers run once per argument on the hot path; a single name must not allocate.
func TestSingleNameDoesNotAllocate(t *testing.T) {
	cases := map[string]func(){
		"OpenFlags":   func() { _ = OpenFlags("amd64", 0) },
		"EpollEvents": func() { _ = EpollEvents(1) },
		"MmapProt":    func() { _ = MmapProt("arm64", 0) },
		"MmapFlags":   func() { _ = MmapFlags("amd64", 2) },
		"Errno":       func() { _ = Errno(-11) },
		"UringOp":     func() { _ = UringOp(22) },
		"Fadvise":     func() { _ = Fadvise(4) },
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}
