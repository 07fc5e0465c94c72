// Package probe loads iotrace's BPF collection, configures it for one run (snap length, syscall
// selection and captures, ring size), attaches it, and keeps the filter map of traced processes.
package probe

import (
	"errors"
	"fmt"
	"os"
	"runtime"
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
	objs  bpf.IotraceObjects
	links []link.Link
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
	if err := spec.LoadAndAssign(&s.objs, nil); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("load BPF programs: %+v", verr)
		}
		return nil, fmt.Errorf("load BPF programs: %w", err)
	}
	if err := s.configureSyscalls(cfg); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.attach(); err != nil {
		s.Close()
		return nil, err
	}
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
		if sp := syscalls.SpecFor(t.Arch(), name); sp != nil {
			if sp.NoReturn {
				c.Noreturn = 1
			}
			for i, cp := range sp.Captures {
				if i >= len(c.Cap) {
					break
				}
				c.Cap[i] = bpf.IotraceIotCapSpec{
					Kind:   uint8(cp.Kind),
					Arg:    uint8(cp.Arg),
					LenSrc: uint8(cp.Len),
					LenArg: uint8(cp.LenArg),
					Size:   uint16(cp.Size),
				}
				if cp.AtExit && !sp.NoReturn {
					c.Cap[i].AtExit = 1
					c.ExitMask |= 1 << i
				} else {
					c.EnterMask |= 1 << i
				}
				c.Ncap++
			}
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
			return fmt.Errorf("attach %s:%s: %w", p.Group, p.Name, err)
		}
		s.links = append(s.links, l)
	}
	return nil
}

// AddTarget puts a thread group into the filter. A gated one is traced from its next execve.
func (s *Set) AddTarget(pid int, gated bool) error {
	state := uint8(bpf.IotraceIotTraceStateIOT_ACTIVE)
	if gated {
		state = uint8(bpf.IotraceIotTraceStateIOT_GATED)
	}
	if err := s.objs.Filter.Put(uint32(pid), state); err != nil {
		return fmt.Errorf("add pid %d to the filter: %w", pid, err)
	}
	return nil
}

// Events is the ring buffer map the reader consumes.
func (s *Set) Events() *ebpf.Map { return s.objs.Events }

// LostRecursion is the loss reason after the BPF side's own: events a program missed because
// it was already running on that CPU (an interrupt's event while it ran), counted by the kernel.
const LostRecursion = int(bpf.IotraceIotLostReasonIOT_LOST_NR)

// Lost returns the loss counters: lost[reason][cpu]. Recursion misses are counted per program,
// not per CPU: their row has one entry.
func (s *Set) Lost() ([][]uint64, error) {
	out := make([][]uint64, LostRecursion+1)
	for r := range LostRecursion {
		var perCPU []uint64
		if err := s.objs.Lost.Lookup(uint32(r), &perCPU); err != nil {
			return nil, fmt.Errorf("read lost counters: %w", err)
		}
		out[r] = perCPU
	}
	var misses uint64
	for _, p := range s.programs() {
		if st, err := p.Stats(); err == nil {
			misses += st.RecursionMisses
		}
	}
	out[LostRecursion] = []uint64{misses}
	return out, nil
}

func (s *Set) programs() []*ebpf.Program {
	o := &s.objs
	return []*ebpf.Program{o.SysEnter, o.SysExit, o.OnFork, o.OnExec, o.OnExit, o.KernelEvent, o.OnSwitch, o.OnWakeup}
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
}

// Close detaches and releases everything.
func (s *Set) Close() error {
	s.Detach()
	return s.objs.Close()
}

// Arch is the GOARCH the BPF objects were chosen for.
func Arch() string { return runtime.GOARCH }
