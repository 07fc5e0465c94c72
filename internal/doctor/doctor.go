// Package doctor says what this kernel and these privileges allow iotrace to do, and what will be
// missing.
package doctor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/probe"
	"github.com/iotrace/iotrace/internal/syscalls"
	"github.com/iotrace/iotrace/internal/tracefs"
)

// Capability bits (linux/capability.h).
const (
	capDACOverride   = 1
	capDACReadSearch = 2
	capSysAdmin      = 21
	capPerfmon       = 38
	capBPF           = 39
)

// ErrPrivilege is returned when tracing is not allowed.
var ErrPrivilege = errors.New("tracing needs root, or the CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH capabilities: run iotrace with sudo")

// CheckPrivileges fails with one sentence when this process may not load tracing programs.
func CheckPrivileges() error {
	if os.Geteuid() == 0 {
		return nil
	}
	caps, err := effectiveCaps()
	if err != nil {
		return ErrPrivilege
	}
	has := func(bit uint) bool { return caps&(1<<bit) != 0 }
	if !has(capSysAdmin) && !(has(capBPF) && has(capPerfmon)) {
		return ErrPrivilege
	}
	// the BPF capabilities load the programs; attaching them reads tracefs, whose files are
	// root's (a mounted tracefs is 0700 or its events' files 0640)
	if !has(capDACReadSearch) && !has(capDACOverride) {
		if f, err := os.Open("/sys/kernel/tracing/events/raw_syscalls/sys_enter/id"); err == nil {
			f.Close()
		} else if errors.Is(err, os.ErrPermission) {
			return probe.ErrTracefsAccess
		}
	}
	return nil
}

func effectiveCaps() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff in /proc/self/status")
}

// Check is one line of the report.
type Check struct {
	Name   string
	OK     bool
	Detail string
	// Required: tracing cannot work without it.
	Required bool
}

// Run performs every check; it mounts tracefs when missing, as a trace would.
func Run() []Check {
	var out []Check
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	out = append(out, Check{Name: "kernel", OK: true, Detail: fmt.Sprintf("%s %s (GOARCH %s)",
		unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:]), runtime.GOARCH)})

	perr := CheckPrivileges()
	out = append(out, Check{Name: "privileges", OK: perr == nil, Required: true, Detail: privDetail(perr)})

	_, btfErr := os.Stat("/sys/kernel/btf/vmlinux")
	out = append(out, Check{Name: "BTF", OK: btfErr == nil, Required: true,
		Detail: orText(btfErr, "/sys/kernel/btf/vmlinux present", "/sys/kernel/btf/vmlinux missing: the kernel needs CONFIG_DEBUG_INFO_BTF")})

	path, mounted, terr := tracefs.Mount()
	tdetail := "mounted at " + path
	if mounted {
		tdetail = "was not mounted; iotrace mounted it at " + path
	}
	if terr != nil {
		tdetail = terr.Error()
	}
	out = append(out, Check{Name: "tracefs", OK: terr == nil, Required: true, Detail: tdetail})

	if perr == nil {
		rbErr := features.HaveMapType(ebpf.RingBuf)
		out = append(out, Check{Name: "ring buffer", OK: rbErr == nil, Required: true,
			Detail: orText(rbErr, "BPF ring buffers supported", "BPF ring buffers unavailable (kernel 5.8 or later needed)")})
	}

	loaded := map[string]string{} // libc uprobes: "" attached, else what is missing
	if perr == nil && btfErr == nil && terr == nil {
		// load (and attach, with nothing in the filter) the very programs a trace loads: only
		// the kernel's verifier can tell whether it runs them
		events := map[string]bool{}
		for _, n := range probe.KernelEventNames() {
			events[n] = true
		}
		set, lerr := probe.Load(probe.Config{Table: syscalls.Native(), Snaplen: 32, RingBytes: 1 << 16, KernelEvents: events})
		if set != nil {
			for _, k := range probe.KernelEvents {
				if k.Group == "libc" {
					loaded[k.Name()] = ""
				}
			}
			for _, m := range set.Missing {
				if g, n, _ := strings.Cut(m.Name, ":"); g == "libc" {
					loaded[n] = m.Lesson
				}
			}
			set.Close()
		}
		detail := "iotrace's programs load and attach"
		if lerr != nil {
			detail = lerr.Error()
		}
		out = append(out, Check{Name: "BPF programs", OK: lerr == nil, Required: true, Detail: detail})
	}
	for _, p := range probe.Catalogue {
		ok := terr == nil && tracefs.Exists(p.Group, p.Name)
		detail := "present"
		if !ok {
			detail = "missing: " + p.Lesson + " unavailable"
		}
		out = append(out, Check{Name: "tracepoint " + p.Group + ":" + p.Name, OK: ok, Required: p.Required, Detail: detail})
	}
	for _, k := range probe.KernelEvents {
		if k.Group == "libc" {
			// uprobes, not tracepoints: what the load above attached
			why, tried := loaded[k.Name()]
			detail := "present (uprobe on the C library)"
			if !tried {
				why = k.Lesson + " (not tried: the BPF programs did not load)"
			}
			if why != "" {
				detail = "missing: " + why + " unavailable"
			}
			out = append(out, Check{Name: "kernel event libc:" + k.Name(), OK: tried && why == "", Detail: detail})
			continue
		}
		name, found := "", false
		for _, n := range k.Names {
			if terr == nil && tracefs.Exists(k.Group, n) {
				name, found = n, true
				break
			}
		}
		detail := "present"
		switch {
		case !found && k.Name() == "page_fault_user":
			// not an error: the perf event stands in (the BPF check attaches it)
			found, detail = true, "missing: "+probe.PerfFaultsLesson
		case !found:
			detail = "missing: " + k.Lesson + " unavailable"
		case name != k.Name():
			detail = "present as " + name + " (older name)"
		}
		out = append(out, Check{Name: "kernel event " + k.Group + ":" + k.Name(), OK: found, Detail: detail})
	}
	for _, n := range []string{"sched_switch", "sched_wakeup"} {
		ok := terr == nil && tracefs.Exists("sched", n)
		detail := "present (BTF tracepoint)"
		if !ok {
			detail = "missing: time blocked and wakers unavailable"
		}
		out = append(out, Check{Name: "kernel event sched:" + n, OK: ok, Detail: detail})
	}
	return out
}

func privDetail(err error) string {
	if err != nil {
		return err.Error()
	}
	if os.Geteuid() == 0 {
		return "root"
	}
	return "CAP_BPF and CAP_PERFMON"
}

func orText(err error, ok, bad string) string {
	if err != nil {
		return bad
	}
	return ok
}

// Write prints the report and reports whether tracing can work.
func Write(w io.Writer, checks []Check) bool {
	canTrace := true
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark = "warn"
			if c.Required {
				mark = "FAIL"
				canTrace = false
			}
		}
		fmt.Fprintf(w, "%s %-52s %s\n", mark, c.Name, c.Detail)
	}
	if canTrace {
		fmt.Fprintln(w, "tracing can work here")
	} else {
		fmt.Fprintln(w, "tracing cannot work here: see FAIL above")
	}
	return canTrace
}
