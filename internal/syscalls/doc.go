// Package syscalls knows the Linux syscalls by number and by name on each supported arch, the
// argument names of their tracepoints, strace's syscall classes, and the -e filter built on them.
//
// A syscall's name is its kernel tracepoint name without "sys_enter_" (DESIGN.md §4), which is
// not always the name of its __NR_ constant: on amd64 number 5 is fstat but its tracepoint is
// sys_enter_newfstat. The tables of both arches are compiled in on every arch, because a
// recording made on arm64 may be shown on amd64.
package syscalls

//go:generate go run ./gen
