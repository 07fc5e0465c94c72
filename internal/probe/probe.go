// Package probe loads iotrace's BPF collection, configures it for one run (snap length, syscall
// selection and captures, ring size), attaches it, and keeps the filter map of traced processes.
package probe

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/syscalls"
	"github.com/iotrace/iotrace/internal/tracefs"
)

// Limits of the BPF side (bpf/iotrace.h).
const (
	SnapMax = 256
	nrMax   = 1024
)

// Config is what one run asks of the kernel side.
type Config struct {
	Table  *syscalls.Table
	Filter *syscalls.Filter // nil: every syscall
	// Always names syscalls traced whatever Filter says (the annotator's model needs them; the
	// session hides them again).
	Always  []string
	Snaplen int // bytes of buffer content captured (-s)
	// RingBytes is the ring buffer size (a power of two, multiple of the page size).
	RingBytes int
	// WakeupBytes batches reader wakeups: 0 wakes the reader on every record.
	WakeupBytes int
	// KernelEvents selects kernel events by name (KernelEventNames); nil selects none.
	KernelEvents map[string]bool
	// Executables are programs to probe for glibc's POSIX AIO functions besides the system's
	// libc: a static program has its own copy (the traced command, a -p target's executable).
	Executables []string
}

// Probe is what a tracepoint program needs: required ones fail the run when missing.
type Probe struct {
	Group, Name string
	Program     string
	Required    bool
	// Lesson says what a missing optional probe costs the user.
	Lesson string
}

// Catalogue lists every tracepoint iotrace wants. doctor reports it; Load attaches it.
var Catalogue = []Probe{
	{"raw_syscalls", "sys_enter", bpf.IotraceProgSysEnter, true, "syscall entry"},
	{"raw_syscalls", "sys_exit", bpf.IotraceProgSysExit, true, "syscall exit"},
	{"sched", "sched_process_fork", bpf.IotraceProgOnFork, true, "following forked children"},
	{"sched", "sched_process_exec", bpf.IotraceProgOnExec, true, "exec events"},
	{"sched", "sched_process_exit", bpf.IotraceProgOnExit, true, "exit events"},
}

// Set is a loaded and attached collection.
type Set struct {
	objs    bpf.IotraceObjects
	links   []link.Link
	perfFDs []int // perf events with a program attached (page faults on arm64)
	// executables to probe for POSIX AIO besides libc (Config.Executables)
	executables []string
	// TracefsMounted is set when loading had to mount tracefs.
	TracefsMounted bool
	// Missing lists the optional probes this kernel lacks.
	Missing []MissingProbe
	// Kernel maps the attached kernel events' ids to their formats, for the decoder.
	Kernel map[uint16]KernelFormat
}

// Load loads the collection with cfg, fills the syscall configuration and attaches every probe.
func Load(cfg Config) (*Set, error) {
	_, mounted, err := tracefs.Mount()
	if err != nil {
		return nil, err
	}
	// Kernels since 5.11 charge BPF memory to the cgroup; older ones need RLIMIT_MEMLOCK raised.
	// Where the raise is refused on a new kernel, it was not needed.
	_ = rlimit.RemoveMemlock()

	spec, err := bpf.LoadIotrace()
	if err != nil {
		return nil, fmt.Errorf("load BPF spec: %w", err)
	}
	if cfg.Snaplen < 0 || cfg.Snaplen > SnapMax {
		return nil, fmt.Errorf("snap length %d is outside 0..%d", cfg.Snaplen, SnapMax)
	}
	execve, _ := cfg.Table.Nr("execve")
	execveat, _ := cfg.Table.Nr("execveat")
	vars := map[string]any{
		bpf.IotraceVarSnaplen:     uint32(cfg.Snaplen),
		bpf.IotraceVarTracerTgid:  uint32(os.Getpid()),
		bpf.IotraceVarExecveNr:    int64(execve),
		bpf.IotraceVarExecveatNr:  int64(execveat),
		bpf.IotraceVarWakeupBytes: uint64(cfg.WakeupBytes),
	}
	for name, v := range vars {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
	}
	if cfg.RingBytes > 0 {
		spec.Maps[bpf.IotraceMapEvents].MaxEntries = uint32(cfg.RingBytes)
	}

	s := &Set{TracefsMounted: mounted}
	if err := loadObjects(spec, &s.objs); err != nil {
		return nil, explainLoad(err)
	}
	if err := s.configureSyscalls(cfg); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.attach(); err != nil {
		s.Close()
		return nil, err
	}
	s.executables = cfg.Executables
	if err := s.attachKernelEvents(cfg.KernelEvents); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// configureSyscalls writes one iot_sc_conf per syscall number: whether it is traced, and what
// the BPF side copies from user memory for it.
func (s *Set) configureSyscalls(cfg Config) error {
	t := cfg.Table
	always := make(map[string]bool, len(cfg.Always))
	for _, n := range cfg.Always {
		always[n] = true
	}
	keys := make([]uint32, 0, t.Max())
	vals := make([]bpf.IotraceIotScConf, 0, t.Max())
	for nr := 0; nr < t.Max() && nr < nrMax; nr++ {
		name := t.Name(nr)
		var c bpf.IotraceIotScConf
		c.Trace = 1
		if name == "" {
			// unknown numbers are traced too (strace shows them as syscall_NNN)
		} else if cfg.Filter != nil && !cfg.Filter.All() && !cfg.Filter.Match(nr) && !always[name] {
			c.Trace = 0
		}
		if syscalls.ChangesModel(name) {
			c.Model = 1
		}
		if err := setCaptures(&c, syscalls.SpecFor(t.Arch(), name)); err != nil {
			return fmt.Errorf("configure %s: %w", name, err)
		}
		keys = append(keys, uint32(nr))
		vals = append(vals, c)
	}
	if _, err := s.objs.ScConf.BatchUpdate(keys, vals, nil); err != nil {
		// batch ops on arrays arrived in 5.6; fall back to one update per key anywhere else
		for i := range keys {
			if err := s.objs.ScConf.Put(keys[i], vals[i]); err != nil {
				return fmt.Errorf("configure syscall %d: %w", keys[i], err)
			}
		}
	}
	return nil
}

// setCaptures fills c's captures from sp (nil: none). The BPF side reads at entry only what
// exec needs (its path and argv: at exit the old address space is gone) and an argv only at entry
// (bpf/capture.bpf.h): any other split is refused here rather than come out empty.
func setCaptures(c *bpf.IotraceIotScConf, sp *syscalls.Spec) error {
	if sp == nil {
		return nil
	}
	if sp.NoReturn {
		c.Noreturn = 1
	}
	for i, cp := range sp.Captures {
		if i >= len(c.Cap) {
			return fmt.Errorf("%d captures, the BPF side takes at most %d", len(sp.Captures), len(c.Cap))
		}
		c.Cap[i] = bpf.IotraceIotCapSpec{
			Kind:   uint8(cp.Kind),
			Arg:    uint8(cp.Arg),
			LenSrc: uint8(cp.Len),
			LenArg: uint8(cp.LenArg),
			Size:   uint16(cp.Size),
		}
		atExit := cp.AtExit && !sp.NoReturn
		if atExit {
			if cp.Kind == syscalls.CapArgv {
				return fmt.Errorf("capture %d: an argv is read only at entry", i)
			}
			c.Cap[i].AtExit = 1
			if cp.Input {
				c.Cap[i].Input = 1
			}
			c.ExitMask |= 1 << i
		} else {
			if cp.Kind != syscalls.CapStr && cp.Kind != syscalls.CapArgv {
				return fmt.Errorf("capture %d: only a string or an argv is read at entry", i)
			}
			c.EnterMask |= 1 << i
		}
		c.Ncap++
	}
	return nil
}

func (s *Set) attach() error {
	progs := map[string]*ebpf.Program{
		bpf.IotraceProgSysEnter: s.objs.SysEnter,
		bpf.IotraceProgSysExit:  s.objs.SysExit,
		bpf.IotraceProgOnFork:   s.objs.OnFork,
		bpf.IotraceProgOnExec:   s.objs.OnExec,
		bpf.IotraceProgOnExit:   s.objs.OnExit,
	}
	for _, p := range Catalogue {
		prog := progs[p.Program]
		var l link.Link
		var err error
		if prog.Type() == ebpf.Tracing {
			l, err = link.AttachTracing(link.TracingOptions{Program: prog})
		} else {
			l, err = link.Tracepoint(p.Group, p.Name, prog, nil)
		}
		if err != nil {
			if !p.Required && errors.Is(err, os.ErrNotExist) {
				s.Missing = append(s.Missing, MissingProbe{p.Group + ":" + p.Name, p.Lesson})
				continue
			}
			return attachError(p.Group+":"+p.Name, err)
		}
		s.links = append(s.links, l)
	}
	return nil
}

// AddTarget puts a thread group into the filter. A gated one is traced from its next execve.
func (s *Set) AddTarget(pid int, gated bool) error {
	v := bpf.IotraceIotProc{State: uint8(bpf.IotraceIotTraceStateIOT_ACTIVE)}
	if gated {
		v.State = uint8(bpf.IotraceIotTraceStateIOT_GATED)
	}
	if err := s.objs.Filter.Put(uint32(pid), v); err != nil {
		return fmt.Errorf("add pid %d to the filter: %w", pid, err)
	}
	return nil
}

// Traced lists the thread groups being traced that still run (the BPF side removes one as its
// last thread exits).
func (s *Set) Traced() ([]int, error) {
	var pids []int
	var key uint32
	var val bpf.IotraceIotProc
	it := s.objs.Filter.Iterate()
	for it.Next(&key, &val) {
		// a process that died while the probes were detaching is not waited for
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", key)); err == nil {
			pids = append(pids, int(key))
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read the traced processes: %w", err)
	}
	return pids, nil
}

// Events is the ring buffer map the reader consumes.
func (s *Set) Events() *ebpf.Map { return s.objs.Events }

// Lost reasons, as the BPF side counts them per CPU (enum iot_lost_reason).
const (
	LostCallRing  = int(bpf.IotraceIotLostReasonIOT_LOST_CALL_RING)
	LostCallBusy  = int(bpf.IotraceIotLostReasonIOT_LOST_CALL_BUSY)
	LostCallExit  = int(bpf.IotraceIotLostReasonIOT_LOST_CALL_EXIT)
	LostCallTrack = int(bpf.IotraceIotLostReasonIOT_LOST_CALL_TRACK)
	LostEntry     = int(bpf.IotraceIotLostReasonIOT_LOST_ENTRY)
	LostKernel    = int(bpf.IotraceIotLostReasonIOT_LOST_KEV)
	LostProcess   = int(bpf.IotraceIotLostReasonIOT_LOST_PROC)
	LostReasons   = int(bpf.IotraceIotLostReasonIOT_LOST_NR)
)

// Missed counts the events the kernel skipped running a program for because another BPF
// program was running on that CPU (machine-wide: the programs run for every process), by what
// the program records. A skipped syscall exit shows in the records themselves (the thread's call
// numbers jump, and the loss is counted); a skipped entry leaves its call recorded without its
// arguments (entry_lost), and is counted here.
type Missed struct {
	KernelEvents   uint64
	ProcessEvents  uint64
	SyscallEntries uint64
}

// Lost returns the loss counters: lost[reason][cpu], and the programs' misses.
func (s *Set) Lost() ([][]uint64, Missed, error) {
	out := make([][]uint64, LostReasons)
	for r := range LostReasons {
		var perCPU []uint64
		if err := s.objs.Lost.Lookup(uint32(r), &perCPU); err != nil {
			return nil, Missed{}, fmt.Errorf("read lost counters: %w", err)
		}
		out[r] = perCPU
	}
	o := &s.objs
	var m Missed
	for _, p := range []*ebpf.Program{o.KernelEvent, o.OnSwitch, o.OnWakeup, o.PageFault} {
		if st, err := p.Stats(); err == nil {
			m.KernelEvents += st.RecursionMisses
		}
	}
	for _, p := range []*ebpf.Program{o.OnFork, o.OnExec, o.OnExit} {
		if st, err := p.Stats(); err == nil {
			m.ProcessEvents += st.RecursionMisses
		}
	}
	if st, err := o.SysEnter.Stats(); err == nil {
		m.SyscallEntries = st.RecursionMisses
	}
	return out, m, nil
}

func (s *Set) programs() []*ebpf.Program {
	o := &s.objs
	return []*ebpf.Program{o.SysEnter, o.SysExit, o.OnFork, o.OnExec, o.OnExit, o.KernelEvent, o.OnSwitch, o.OnWakeup, o.PageFault}
}

// Detach removes every probe; the maps stay readable until Close. The links are closed
// concurrently: each tracepoint perf event waits out an RCU grace period as it closes, tens of
// milliseconds that would otherwise add up one after another.
func (s *Set) Detach() {
	var wg sync.WaitGroup
	for _, l := range s.links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Close()
		}()
	}
	wg.Wait()
	s.links = nil
	s.closePerf()
}

// Close detaches and releases everything.
func (s *Set) Close() error {
	s.Detach()
	return s.objs.Close()
}

// Arch is the GOARCH the BPF objects were chosen for.
func Arch() string { return runtime.GOARCH }

// attachError says why a tracepoint would not attach. Without root, Debian's and Ubuntu's
// kernel.perf_event_paranoid=3 refuses tracepoint perf events to anyone lacking CAP_SYS_ADMIN,
// whatever CAP_PERFMON says: that is named, with the way out.
func attachError(what string, err error) error {
	if errors.Is(err, os.ErrPermission) && os.Geteuid() != 0 {
		if b, rerr := os.ReadFile("/proc/sys/kernel/perf_event_paranoid"); rerr == nil {
			if n, cerr := strconv.Atoi(strings.TrimSpace(string(b))); cerr == nil && n >= 3 {
				return fmt.Errorf("attach %s: kernel.perf_event_paranoid is %d here, which refuses perf events (tracepoints, page faults) without CAP_SYS_ADMIN whatever the other capabilities: run iotrace as root, or set it to 2 (sysctl kernel.perf_event_paranoid=2)", what, n)
			}
		}
	}
	return fmt.Errorf("attach %s: %w", what, err)
}
