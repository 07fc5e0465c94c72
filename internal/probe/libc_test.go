package probe

import (
	"os"
	"testing"
)

// A program that does not call POSIX AIO gets no uprobes by default; one that imports or
// contains aio_read does (the e2e POSIX AIO test traces both kinds).
func TestUsesPOSIXAIO(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{self, "/bin/true", "/nonexistent"} {
		if UsesPOSIXAIO(path) {
			t.Errorf("%s: said to call POSIX AIO", path)
		}
	}
	// where glibc is installed, one of the files probed has the functions (libc.so.6 since
	// 2.34, librt.so.1 before)
	var found, has bool
	for _, lib := range libcPaths {
		if _, err := os.Stat(lib); err == nil {
			found = true
			has = has || UsesPOSIXAIO(lib)
		}
	}
	if found && !has {
		t.Errorf("none of the C libraries here (%v) defines aio_read", libcPaths)
	}
}
