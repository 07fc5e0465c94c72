package workloads

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// dropPrivileges switches to the user who ran sudo, after handing them dir,
// so workload files belong to that user and nothing runs as root that does
// not need to. It returns a line to narrate, or "" when nothing changed.
// Go applies set*id to every thread of the process.
func dropPrivileges(dir string) (string, error) {
	if os.Geteuid() != 0 {
		return "", nil
	}
	uidStr, gidStr := os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID")
	if uidStr == "" || gidStr == "" {
		return "", nil
	}
	uid, err := strconv.Atoi(uidStr)
	if err != nil || uid < 0 {
		return "", fmt.Errorf("parse SUDO_UID %q: not a uid", uidStr)
	}
	gid, err := strconv.Atoi(gidStr)
	if err != nil || gid < 0 {
		return "", fmt.Errorf("parse SUDO_GID %q: not a gid", gidStr)
	}
	if uid == 0 {
		return "", nil
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return "", fmt.Errorf("chown %s to the sudo user: %w", dir, err)
	}
	if err := unix.Setgroups([]int{gid}); err != nil {
		return "", fmt.Errorf("setgroups: %w", err)
	}
	if err := unix.Setresgid(gid, gid, gid); err != nil {
		return "", fmt.Errorf("setresgid %d: %w", gid, err)
	}
	if err := unix.Setresuid(uid, uid, uid); err != nil {
		return "", fmt.Errorf("setresuid %d: %w", uid, err)
	}
	return fmt.Sprintf("running as uid %d gid %d (the sudo caller)", uid, gid), nil
}
