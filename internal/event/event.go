// Package event is the typed vocabulary every stage after the decoder speaks: one Go value per
// traced event, and its JSON Lines form (schema iotrace/v1, DESIGN.md §4).
package event

// Schema names the JSON Lines format; a change that breaks readers bumps it.
const Schema = "iotrace/v1"

// Record is any line of a recording; Kind is its JSON "type" tag.
type Record interface {
	Kind() string
}

// Event is a Record on the timeline: everything but the header and the summary.
type Event interface {
	Record
	Base() *Common
}

// Common holds the fields every event after the header carries.
type Common struct {
	Seq  uint64 `json:"seq"`
	TS   uint64 `json:"ts_ns"` // CLOCK_MONOTONIC, nanoseconds
	PID  uint32 `json:"pid"`   // thread group id
	TID  uint32 `json:"tid"`
	Comm string `json:"comm,omitempty"`
}

func (c *Common) Base() *Common { return c }

// Arg is one raw syscall argument, named by its tracepoint format field.
type Arg struct {
	Name  string
	Value uint64
}

// Syscall is one system call: entry and exit joined.
type Syscall struct {
	Common
	Name string `json:"name"`
	Nr   int    `json:"nr"`
	Dur  uint64 `json:"dur_ns"`
	Args []Arg  `json:"-"` // marshalled as an ordered object
	Ret  int64  `json:"ret"`
	// Errno is the symbolic errno ("EAGAIN") when Ret is negative, else empty.
	Errno string `json:"-"`
	// Decoded holds what the decoder made of the arguments and the memory behind them, keyed by
	// argument name where it replaces one (fd, vec, flags…), plus extra keys.
	Decoded Fields `json:"decoded,omitempty"`
	// Unfinished is set for calls that never return (exit_group, a successful execve's old image).
	Unfinished bool     `json:"unfinished,omitempty"`
	Notes      []string `json:"notes,omitempty"`
}

func (*Syscall) Kind() string { return "syscall" }

// Failed reports whether the call returned an error.
func (s *Syscall) Failed() bool { return s.Errno != "" }

// Arg returns the raw value of the named argument.
func (s *Syscall) Arg(name string) (uint64, bool) {
	for _, a := range s.Args {
		if a.Name == name {
			return a.Value, true
		}
	}
	return 0, false
}

// Kernel is something the kernel did on the target's behalf (page fault, page-cache fill, …).
type Kernel struct {
	Common
	Name     string   `json:"name"`
	Args     Fields   `json:"args,omitempty"`
	CauseSeq uint64   `json:"cause_seq,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	// SyscallTS is the entry time of the syscall the task was in when the kernel did this (0:
	// none); the annotator turns it into CauseSeq.
	SyscallTS uint64 `json:"-"`
}

func (*Kernel) Kind() string { return "kernel" }

// Process is a fork, exec or exit of a traced task.
type Process struct {
	Common
	Name string `json:"name"` // fork | exec | exit
	// fork: the new task; Thread tells a thread from a process.
	ChildPID uint32 `json:"child_pid,omitempty"`
	ChildTID uint32 `json:"child_tid,omitempty"`
	Thread   bool   `json:"thread,omitempty"`
	// exec: the program.
	Filename string `json:"filename,omitempty"`
	// exit: the wait status parts; Signal is the signal name when a signal killed it.
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
}

func (*Process) Kind() string { return "process" }

// Lost reports events the kernel side could not deliver.
type Lost struct {
	Common
	Count  uint64 `json:"count"`
	CPU    int    `json:"cpu"`
	Reason string `json:"reason,omitempty"`
}

func (*Lost) Kind() string { return "lost" }

// Header is the first line of a recording.
type Header struct {
	Schema  string   `json:"schema"`
	Version string   `json:"iotrace_version"`
	Kernel  string   `json:"kernel"`
	Arch    string   `json:"arch"`
	Command []string `json:"command,omitempty"`
	// AttachPID is set for trace -p.
	AttachPID int `json:"attach_pid,omitempty"`
	// WallClockOffsetNS: add to ts_ns to get Unix time in nanoseconds.
	WallClockOffsetNS int64  `json:"wallclock_offset_ns"`
	StartNS           uint64 `json:"start_ns"` // ts_ns of tracing start; text times are relative to it
	Snaplen           int    `json:"snaplen"`
	Filter            string `json:"filter,omitempty"` // the -e expression
	// MissingProbes lists tracepoints this kernel lacks, with what that costs.
	MissingProbes []string `json:"missing_probes,omitempty"`
	Notes         []string `json:"notes,omitempty"`
}

func (*Header) Kind() string { return "header" }

// SyscallStat is one summary row.
type SyscallStat struct {
	Name    string `json:"name"`
	Calls   uint64 `json:"calls"`
	Errors  uint64 `json:"errors"`
	TotalNS uint64 `json:"total_ns"`
}

// KernelStat sums one kind of kernel event: how often, the pages, bytes and time off CPU it
// involved, and per file or mapping.
type KernelStat struct {
	Name     string     `json:"name"`
	Events   uint64     `json:"events"`
	Pages    int64      `json:"pages,omitempty"`
	Bytes    int64      `json:"bytes,omitempty"`
	OffCPUNS int64      `json:"off_cpu_ns,omitempty"`
	By       []KeyCount `json:"by,omitempty"` // per file or mapping, most events first
}

// KeyCount is one file's or mapping's share of a KernelStat.
type KeyCount struct {
	Key    string `json:"key"`
	Events uint64 `json:"events"`
	Pages  int64  `json:"pages,omitempty"`
}

// Summary is the last line of a recording.
type Summary struct {
	Events   uint64        `json:"events"`
	Lost     uint64        `json:"lost"`
	Syscalls []SyscallStat `json:"syscalls"`
	Kernel   []KernelStat  `json:"kernel,omitempty"`
	// ExitCode is the target's exit status as iotrace exits with it.
	ExitCode   *int   `json:"exit_code,omitempty"`
	DurationNS uint64 `json:"duration_ns"`
	// Truncated is set by readers of a recording that ended without its summary.
	Truncated bool `json:"-"`
}

func (*Summary) Kind() string { return "summary" }
