package probe

import (
	"testing"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Every syscall's captures fit what the BPF side can take, on both arches: at most two, at
// entry only strings and argvs, an argv never at exit.
func TestCapturesFitBPF(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		tab, err := syscalls.ForArch(arch)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range tab.Names() {
			var c bpf.IotraceIotScConf
			if err := setCaptures(&c, syscalls.SpecFor(arch, name)); err != nil {
				t.Errorf("%s %s: %v", arch, name, err)
			}
		}
	}
	// and what does not fit is refused
	for _, sp := range []*syscalls.Spec{
		{Captures: []syscalls.Capture{{Kind: syscalls.CapBuf}}},                        // a buffer at entry
		{Captures: []syscalls.Capture{{Kind: syscalls.CapArgv, AtExit: true}}},         // an argv at exit
		{Captures: []syscalls.Capture{{AtExit: true}, {AtExit: true}, {AtExit: true}}}, // three
	} {
		var c bpf.IotraceIotScConf
		if err := setCaptures(&c, sp); err == nil {
			t.Errorf("captures %+v accepted", sp.Captures)
		}
	}
	// execve reads its path and argv at entry; writev its iovecs at exit
	var c bpf.IotraceIotScConf
	if err := setCaptures(&c, syscalls.SpecFor("amd64", "execve")); err != nil || c.EnterMask != 3 || c.ExitMask != 0 {
		t.Errorf("execve: enter mask %b, exit mask %b, %v; want 11, 0", c.EnterMask, c.ExitMask, err)
	}
	c = bpf.IotraceIotScConf{}
	if err := setCaptures(&c, syscalls.SpecFor("amd64", "writev")); err != nil || c.EnterMask != 0 || c.ExitMask != 1 {
		t.Errorf("writev: enter mask %b, exit mask %b, %v; want 0, 1", c.EnterMask, c.ExitMask, err)
	}
}
