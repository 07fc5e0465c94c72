// Package event is the typed vocabulary every stage after the decoder speaks: one Go value per
// traced event, and its JSON Lines form (schema iotrace/v1, docs/jsonl.md).
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
	Unfinished bool `json:"unfinished,omitempty"`
	// CaptureLost: what was copied from the call's memory at its entry was lost (the ring was
	// full); the arguments are the call's own, the memory behind them is not shown.
	CaptureLost bool `json:"capture_lost,omitempty"`
	// EntryLost: the call's exit was seen but not its entry, so its arguments are unknown (Args
	// are zero) and its duration too.
	EntryLost bool `json:"entry_lost,omitempty"`
	// KernelEventsLost counts kernel events lost (on any CPU) while the call ran: what its notes
	// say the kernel did is a lower bound.
	KernelEventsLost uint32   `json:"kernel_events_lost,omitempty"`
	Notes            []string `json:"notes,omitempty"`
	// CallSeq is the thread's number for this call (1, 2, …), as the BPF side counted them:
	// kernel events raised inside the call carry it.
	CallSeq uint32 `json:"-"`
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
	// CauseLost: the event was raised inside a call whose record was lost.
	CauseLost bool `json:"cause_lost,omitempty"`
	// Outside says, for an event no traced call caused (no cause_seq, no cause_lost), where it
	// was raised, as far as the trace shows: OutsideUser, OutsideUntraced, OutsideKernelThread
	// or OutsideNoCall. Empty on events linked to their call.
	Outside string `json:"outside,omitempty"`
	// Via names the io_uring helper thread that raised it for the traced process: ViaIOWorker
	// (an io-wq worker running a request a call punted; CauseSeq is that call when the trace
	// shows it) or ViaSQThread (an SQPOLL ring's submission thread). Empty otherwise.
	Via string `json:"via,omitempty"`
	// UntracedCall names the syscall the task was in when -e does not trace it (Outside is then
	// OutsideUntraced): the event was raised by that call, which the trace does not show.
	UntracedCall string `json:"untraced_call,omitempty"`
	// SyscallTS is the entry time of the syscall the task was in when the kernel did this (0:
	// none); the annotator turns it into CauseSeq. CallSeq is that call's number.
	SyscallTS uint64 `json:"-"`
	CallSeq   uint32 `json:"-"`
}

func (*Kernel) Kind() string { return "kernel" }

// Values of Kernel.Outside.
const (
	// OutsideUser: raised while the thread ran its own code, between its calls — a user page
	// fault (Go's or libc's start-up, a touch of a mapping) and what the kernel did for it.
	OutsideUser = "user"
	// OutsideUntraced: raised inside a syscall -e does not trace (UntracedCall names it).
	OutsideUntraced = "untraced"
	// OutsideKernelThread: raised by a kernel thread (writeback, kworker) for a file the traced
	// tree touched.
	OutsideKernelThread = "kernel_thread"
	// OutsideNoCall: raised by a traced thread outside every call the trace shows, the trace
	// telling no more (inside execve or exit_group, which are recorded at their entry; inside a
	// call that had not returned when tracing ended; before the first call seen).
	OutsideNoCall = "no_call"
	// OutsideIOThread: raised by an io_uring helper thread of the traced process (Via says
	// which) for a ring (the "ring" arg) when no traced call can be named: the SQ thread's
	// submissions and what they did, a worker running what the SQ thread punted.
	OutsideIOThread = "io_thread"
)

// Values of Kernel.Via.
const (
	ViaIOWorker = "io_worker"
	ViaSQThread = "sq_thread"
)

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
	// Notes say what the exit ended that the trace shows (the mappings it still had).
	Notes []string `json:"notes,omitempty"`
}

func (*Process) Kind() string { return "process" }

// Lost reports what the kernel side could not deliver, placed where it happened: the calls of
// one thread lost between two of its recorded calls (TID set), or the kernel events of one CPU
// lost between two of its recorded ones (CPU set). TS is the start of the gap, EndNS its end.
// A Lost without a place (TID 0, CPU -1) is what the counters show that no gap accounted for.
type Lost struct {
	Common
	// Count is everything lost that this record accounts for: Calls + KernelEvents + Captures +
	// ProcessEvents.
	Count uint64 `json:"count"`
	// Calls whose records were lost: neither their arguments nor their results are known.
	Calls uint64 `json:"calls,omitempty"`
	// KernelEvents lost (tracepoint records, off-CPU intervals).
	KernelEvents uint64 `json:"kernel_events,omitempty"`
	// Captures lost: calls that were recorded without the memory captured at their entry.
	Captures uint64 `json:"captures,omitempty"`
	// ProcessEvents lost (fork, exec, exit records).
	ProcessEvents uint64 `json:"process_events,omitempty"`
	// Missed are events the kernel skipped running a BPF program for (another one was running on
	// that CPU); counted per program across the whole machine, so they may include events of
	// processes outside the trace.
	Missed uint64 `json:"missed,omitempty"`
	// ModelLost counts lost calls of process PID that change what is modelled of it (its
	// descriptors, mappings…): what iotrace knew of that process is forgotten from here on.
	ModelLost uint64 `json:"model_lost,omitempty"`
	CPU       int    `json:"cpu"` // -1: not one CPU's
	EndNS     uint64 `json:"end_ns,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// ViewOnly: not lost from the recording, only left out of this live view, which fell behind.
	ViewOnly bool `json:"view_only,omitempty"`
}

func (*Lost) Kind() string { return "lost" }

// Prediction is one thing a built-in workload's variant said the kernel would do, judged from
// the recorded evidence once the variant ended (internal/predict): the syscalls with their
// decoded arguments and results, and the kernel events linked to them by cause_seq — never from
// what the workload itself saw. It sits on the timeline where the variant ended (TS, PID and TID
// of the marker that ended it); Seq is 0, as it is no traced event.
//
//	{"type":"prediction","seq":0,"ts_ns":..,"pid":..,"tid":..,"workload":"fadvise","variant":"copy",
//	 "id":"dontneed-clean","says":"DONTNEED on the clean source evicts every page of it",
//	 "verdict":"held","measured":"evicted 16 of 16 pages","evidence_seq":[1229]}
type Prediction struct {
	Common
	Workload string `json:"workload"`
	Variant  string `json:"variant"`
	// ID names the prediction within its variant, stable across releases.
	ID   string `json:"id"`
	Says string `json:"says"`
	// Verdict is VerdictHeld, VerdictFailed or VerdictUnmeasurable.
	Verdict string `json:"verdict"`
	// Measured is the figure the verdict rests on, or why the trace cannot tell.
	Measured string `json:"measured"`
	// EvidenceSeq are the seq of the events the verdict was decided on (the calls measured).
	EvidenceSeq []uint64 `json:"evidence_seq,omitempty"`
}

func (*Prediction) Kind() string { return "prediction" }

// The verdicts of a Prediction.
const (
	// VerdictHeld: the trace shows the kernel did what the variant predicted.
	VerdictHeld = "held"
	// VerdictFailed: the trace shows otherwise. A finding about this machine, never hidden.
	VerdictFailed = "failed"
	// VerdictUnmeasurable: this kernel or this recording lacks the evidence (a missing
	// tracepoint, events lost, the calls filtered out), so the trace can tell neither way.
	VerdictUnmeasurable = "unmeasurable"
)

// PredictionStat counts the verdicts of a timeline's predictions (the summary's).
type PredictionStat struct {
	Held         int `json:"held"`
	Failed       int `json:"failed"`
	Unmeasurable int `json:"unmeasurable,omitempty"`
}

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
	// StartWallClock is StartNS as UTC time (RFC 3339, nanoseconds): exact where a JSON reader
	// keeps numbers as doubles (jq rounds wallclock_offset_ns, which is above 2^53).
	StartWallClock string `json:"start_wallclock,omitempty"`
	Snaplen        int    `json:"snaplen"`
	Filter         string `json:"filter,omitempty"` // the -e expression
	// MissingProbes lists tracepoints this kernel lacks, with what that costs.
	MissingProbes []string `json:"missing_probes,omitempty"`
	// KernelEvents are the kernel events the run traced, by the name their records carry
	// (--kernel-events chooses them): an event not listed was not looked for, so its absence
	// proves nothing. Empty in recordings made before it was recorded.
	KernelEvents []string `json:"kernel_events,omitempty"`
	Notes        []string `json:"notes,omitempty"`
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

// LostStat is what was lost, by kind, on one CPU (CPU -1: not told per CPU).
type LostStat struct {
	CPU           int    `json:"cpu"`
	Calls         uint64 `json:"calls,omitempty"`
	KernelEvents  uint64 `json:"kernel_events,omitempty"`
	Captures      uint64 `json:"captures,omitempty"`
	ProcessEvents uint64 `json:"process_events,omitempty"`
	Missed        uint64 `json:"missed,omitempty"`
}

// Summary is the last line of a recording.
type Summary struct {
	Events uint64 `json:"events"`
	// Lost is the sum of every count in LostBy.
	Lost uint64 `json:"lost"`
	// LostBy is what was lost, by kind and CPU (from the BPF side's counters).
	LostBy   []LostStat    `json:"lost_by,omitempty"`
	Syscalls []SyscallStat `json:"syscalls"`
	Kernel   []KernelStat  `json:"kernel,omitempty"`
	// ExitCode is the target's exit status as iotrace exits with it.
	ExitCode   *int   `json:"exit_code,omitempty"`
	DurationNS uint64 `json:"duration_ns"`
	// Predictions counts the verdicts of the built-in workloads' predictions (run, tour, and
	// show of their recordings); nil when the timeline had none.
	Predictions *PredictionStat `json:"predictions,omitempty"`
	// Truncated is set by readers of a recording that ended without its summary.
	Truncated bool `json:"-"`
}

func (*Summary) Kind() string { return "summary" }
