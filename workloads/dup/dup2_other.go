//go:build !amd64

package dup

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// dup2Note is narrated where a variant is about dup2: arm64, like every port
// newer than amd64, has only dup3, and dup3(old, new, 0) is what libc's
// dup2 issues there.
var dup2Note = runtime.GOARCH + " has no dup2; using dup3"

func dup2(oldfd, newfd int) error {
	return unix.Dup3(oldfd, newfd, 0)
}
