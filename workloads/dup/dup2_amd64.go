package dup

import "golang.org/x/sys/unix"

// dup2Note is narrated where a variant is about dup2; amd64 has the real
// syscall, so there is nothing to say.
const dup2Note = ""

// dup2 issues the dup2 syscall itself: x/sys's Dup2 issues dup3(old, new, 0).
func dup2(oldfd, newfd int) error {
	_, _, errno := unix.Syscall(unix.SYS_DUP2, uintptr(oldfd), uintptr(newfd), 0)
	if errno != 0 {
		return errno
	}
	return nil
}
