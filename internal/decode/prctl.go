package decode

// prctl options strace names most often; others print as numbers.
var prctlOptions = map[uint64]string{
	1: "PR_SET_PDEATHSIG", 2: "PR_GET_PDEATHSIG", 3: "PR_GET_DUMPABLE", 4: "PR_SET_DUMPABLE",
	8: "PR_SET_KEEPCAPS", 15: "PR_SET_NAME", 16: "PR_GET_NAME", 22: "PR_SET_SECCOMP",
	23: "PR_CAPBSET_READ", 36: "PR_SET_CHILD_SUBREAPER", 38: "PR_SET_NO_NEW_PRIVS",
	39: "PR_GET_NO_NEW_PRIVS", 47: "PR_CAP_AMBIENT", 0x53564d41: "PR_SET_VMA",
}

const prSetName = 15

// PrctlOption names a prctl option.
func PrctlOption(v uint64) string {
	if n, ok := prctlOptions[uint64(uint32(v))]; ok {
		return n
	}
	return hex(v)
}
