// Package tracefs finds (or mounts) the kernel's tracing filesystem, checks that tracepoints exist,
// and reads their format files.
//
// cilium/ebpf looks tracefs up once per process and caches the answer, errors included, so Mount
// must run before the first tracepoint attach.
package tracefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// DefaultPath is where Mount mounts tracefs when it is not mounted anywhere.
const DefaultPath = "/sys/kernel/tracing"

// candidates are the usual places, checked by filesystem type so that an empty mount point directory
// does not count. On old kernels (and RHEL) the events live in debugfs itself.
var candidates = []struct {
	path  string
	magic int64
}{
	{DefaultPath, unix.TRACEFS_MAGIC},
	{"/sys/kernel/debug/tracing", unix.TRACEFS_MAGIC},
	{"/sys/kernel/debug/tracing", unix.DEBUGFS_MAGIC},
}

var mountMu sync.Mutex

// Path returns where tracefs is mounted, without mounting it.
func Path() (string, error) {
	for _, c := range candidates {
		var st unix.Statfs_t
		if err := unix.Statfs(c.path, &st); err == nil && int64(st.Type) == c.magic {
			return c.path, nil
		}
	}
	// Elsewhere, for example bind-mounted into a container at a path of its own.
	if p, err := findInMountinfo("/proc/self/mountinfo"); err == nil && p != "" {
		return p, nil
	}
	return "", errors.New("tracefs is not mounted (tried " + DefaultPath + " and /sys/kernel/debug/tracing)")
}

// Mount returns where tracefs is mounted, mounting it at DefaultPath if it is not mounted anywhere.
// mounted reports that this call mounted it, which the caller should tell the user.
func Mount() (path string, mounted bool, err error) {
	mountMu.Lock()
	defer mountMu.Unlock()
	if p, err := Path(); err == nil {
		return p, false, nil
	}
	// The options systemd uses for its own tracefs mount.
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := unix.Mount("tracefs", DefaultPath, "tracefs", flags, ""); err != nil {
		return "", false, fmt.Errorf("mount tracefs at %s: %w", DefaultPath, err)
	}
	return DefaultPath, true, nil
}

// Exists reports whether the tracepoint GROUP:NAME exists (tracefs must be mounted).
func Exists(group, name string) bool {
	dir, err := eventDir(group, name)
	if err != nil {
		return false
	}
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// Format reads and parses the format file of the tracepoint GROUP:NAME. A missing tracepoint gives
// an error that matches os.ErrNotExist.
func Format(group, name string) (*EventFormat, error) {
	dir, err := eventDir(group, name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "format"))
	if err != nil {
		return nil, fmt.Errorf("read format of %s:%s: %w", group, name, err)
	}
	f, err := parseFormat(data)
	if err != nil {
		return nil, fmt.Errorf("parse format of %s:%s: %w", group, name, err)
	}
	return f, nil
}

func eventDir(group, name string) (string, error) {
	for _, s := range []string{group, name} {
		if !validIdentifier(s) {
			return "", fmt.Errorf("invalid tracepoint name %q", group+":"+name)
		}
	}
	base, err := Path()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "events", group, name), nil
}

// validIdentifier matches ^[a-zA-Z_][0-9a-zA-Z_-]*$, the characters of tracepoint groups and names
// (the same rule as cilium/ebpf), so a name can never escape the events directory.
func validIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c == '-' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return true
}

// findInMountinfo returns the mount point of the first tracefs in a mountinfo file, or "".
func findInMountinfo(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, fsFields := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(fsFields) < 1 || fsFields[0] != "tracefs" || fields[3] != "/" {
			continue
		}
		return unescapeMountinfo(fields[4]), nil
	}
	return "", sc.Err()
}

// unescapeMountinfo decodes the \ooo octal escapes the kernel writes for space, tab, newline and
// backslash in mount points.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
