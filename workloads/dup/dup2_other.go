//go:build !amd64

package dup

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// dup2Note is narrated where a variant is about dup2: arm64, like every port
// newer than amd64, has only dup3, and dup3(old, new, 0) is what libc's
// dup2 issues there.
var dup2Note = runtime.GOARCH + " has no dup2 syscall: libc's dup2(old, new) is dup3(old, new, 0), and that is what runs (and what the trace shows) here"

// dup2Call is how the narration names a dup2 of old onto new: what the trace shows.
func dup2Call(oldfd, newfd int) string { return fmt.Sprintf("dup3(%d, %d, 0)", oldfd, newfd) }

func dup2(oldfd, newfd int) error {
	return unix.Dup3(oldfd, newfd, 0)
}
