package launch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

const procRoot = "/proc"

// Attached is an existing process to trace (-p PID).
type Attached struct {
	PID  int
	TIDs []int // thread ids at the time of the check, ascending; later threads join from fork events
	Comm string
}

// noProcessError is returned for a pid with no process; it matches fs.ErrNotExist.
type noProcessError struct{ pid int }

func (e *noProcessError) Error() string        { return fmt.Sprintf("process %d does not exist", e.pid) }
func (e *noProcessError) Is(target error) bool { return target == fs.ErrNotExist }

// Attach checks that pid is a process that may be traced: it exists, it is a thread group leader,
// and it is neither iotrace nor one of its ancestors (tracing those would trace the tracer's own
// I/O). It returns the process's threads and comm.
func Attach(pid int) (*Attached, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("invalid pid %d", pid)
	}
	st, err := readStatus(pid)
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	if st.tgid == self {
		return nil, fmt.Errorf("process %d is iotrace itself", pid)
	}
	if st.tgid != pid {
		return nil, fmt.Errorf("%d is a thread of process %d; use -p %d", pid, st.tgid, st.tgid)
	}
	if st.kthread || isKernelThread(pid) {
		return nil, fmt.Errorf("process %d is a kernel thread: it makes no system calls to trace", pid)
	}
	if strings.HasPrefix(st.state, "Z") || strings.HasPrefix(st.state, "X") {
		return nil, fmt.Errorf("process %d has exited (a zombie waiting for its parent): there is nothing left to trace", pid)
	}
	ancestors, err := ancestorsOf(self)
	if err != nil {
		return nil, err
	}
	if slices.Contains(ancestors, pid) {
		return nil, fmt.Errorf("process %d is an ancestor of iotrace and cannot be traced", pid)
	}

	tids, err := threads(pid)
	if err != nil {
		return nil, err
	}
	comm, err := os.ReadFile(fmt.Sprintf("%s/%d/comm", procRoot, pid))
	if err != nil {
		return nil, procErr(pid, err)
	}
	return &Attached{PID: pid, TIDs: tids, Comm: strings.TrimSuffix(string(comm), "\n")}, nil
}

type procStatus struct {
	tgid, ppid int
	state      string // "S (sleeping)", "Z (zombie)"…
	kthread    bool
}

// readStatus reads the Tgid and PPid lines of /proc/PID/status.
func readStatus(pid int) (procStatus, error) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/status", procRoot, pid))
	if err != nil {
		return procStatus{}, procErr(pid, err)
	}
	st := procStatus{tgid: -1, ppid: -1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch key {
		case "Tgid":
			st.tgid, err = strconv.Atoi(strings.TrimSpace(val))
		case "PPid":
			st.ppid, err = strconv.Atoi(strings.TrimSpace(val))
		case "State":
			st.state = strings.TrimSpace(val)
		case "Kthread": // 6.x
			st.kthread = strings.TrimSpace(val) == "1"
		}
		if err != nil {
			return procStatus{}, fmt.Errorf("parse /proc/%d/status: %s: %w", pid, key, err)
		}
	}
	if st.tgid < 0 || st.ppid < 0 {
		return procStatus{}, fmt.Errorf("parse /proc/%d/status: no Tgid or PPid line", pid)
	}
	return st, nil
}

// isKernelThread tells a kernel thread by its flags (PF_KTHREAD in /proc/PID/stat), for kernels
// whose status file has no Kthread line.
func isKernelThread(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", procRoot, pid))
	if err != nil {
		return false
	}
	// the fields after the command name, which is in parentheses and may hold anything
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 7 {
		return false
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	return err == nil && flags&0x00200000 != 0 // PF_KTHREAD
}

// ancestorsOf returns the parent chain of pid, nearest first, up to (not including) pid 0.
func ancestorsOf(pid int) ([]int, error) {
	var chain []int
	for {
		st, err := readStatus(pid)
		if err != nil {
			return nil, fmt.Errorf("find ancestors of iotrace: %w", err)
		}
		if st.ppid <= 0 || slices.Contains(chain, st.ppid) {
			return chain, nil
		}
		chain = append(chain, st.ppid)
		pid = st.ppid
	}
}

// threads lists /proc/PID/task, ascending.
func threads(pid int) ([]int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("%s/%d/task", procRoot, pid))
	if err != nil {
		return nil, procErr(pid, err)
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		tids = append(tids, tid)
	}
	if len(tids) == 0 {
		// Every thread exited between the status read and now.
		return nil, &noProcessError{pid}
	}
	slices.Sort(tids)
	return tids, nil
}

// procErr turns "no such file" under /proc/PID (or ESRCH, when the process ends while it is
// read) into "process PID does not exist".
func procErr(pid int, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return &noProcessError{pid}
	}
	return fmt.Errorf("read process %d: %w", pid, err)
}
