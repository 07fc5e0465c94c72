package syscalls

// ArgNames returns the field names of the syscall's sys_enter_ tracepoint format, without
// __syscall_nr, in order: the keys of "args" in the JSON Lines output. It returns nil for a
// syscall with no known format (one the capture kernel lacked); callers then name arguments
// "arg0".."arg5". The slice is shared and must not be modified.
func ArgNames(name string) []string {
	a := argNames[name]
	return a[:len(a):len(a)]
}
