package cli

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// unsafePointer returns a pointer to a NUL-terminated copy of s for a raw syscall argument.
func unsafePointer(s string) unsafe.Pointer {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		return nil
	}
	return unsafe.Pointer(p)
}
