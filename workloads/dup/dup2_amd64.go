package dup

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// dup2Note is narrated where a variant is about dup2; amd64 has the real
// syscall, so there is nothing to say.
const dup2Note = ""

// dup2Call is how the narration names a dup2 of old onto new: what the trace shows.
func dup2Call(oldfd, newfd int) string { return fmt.Sprintf("dup2(%d, %d)", oldfd, newfd) }

// dup2 issues the dup2 syscall itself: x/sys's Dup2 issues dup3(old, new, 0).
func dup2(oldfd, newfd int) error {
	_, _, errno := unix.Syscall(unix.SYS_DUP2, uintptr(oldfd), uintptr(newfd), 0)
	if errno != 0 {
		return errno
	}
	return nil
}
