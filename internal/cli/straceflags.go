package cli

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/render/text"
)

// straceFlags are strace's flags as trace takes them, with strace's meaning: what iotrace
// always does (-f, -y, -T) is accepted, what it can do is done, and each one it cannot do yet
// gets a sentence saying so instead of cobra's "unknown shorthand flag".
type straceFlags struct {
	follow      int  // -f, -ff
	decodeFDs   int  // -y, -yy
	absTime     int  // -t, -tt, -ttt
	relTime     bool // -r
	durations   bool // -T
	summaryOnly bool // -c
	failedOnly  bool // -Z
	okOnly      bool // -z
	pids        []string

	// strace flags not done here: each is registered, hidden, only to explain
	hex     int
	quiet   int
	verbose bool
	user    string
	env     []string
	paths   []string
	stack   bool
	wall    bool
}

func addStraceFlags(cmd *cobra.Command, sf *straceFlags) {
	fs := cmd.Flags()
	fs.CountVarP(&sf.follow, "follow-forks", "f", "follow children (always on: every descendant is traced; strace -f)")
	fs.CountVarP(&sf.decodeFDs, "decode-fds", "y", "name descriptors by their paths (always on; strace -y)")
	fs.CountVarP(&sf.absTime, "absolute-timestamps", "t", "time of day on each line: -t seconds, -tt microseconds, -ttt Unix time (strace -t)")
	fs.BoolVarP(&sf.relTime, "relative-timestamps", "r", false, "the time since the line above on each line (strace -r)")
	fs.BoolVarP(&sf.durations, "syscall-times", "T", false, "each call's duration in <…> (always on; strace -T)")
	fs.BoolVarP(&sf.summaryOnly, "summary-only", "c", false, "print only the per-syscall summary table, on stderr (strace -c)")
	fs.BoolVarP(&sf.failedOnly, "failed-only", "Z", false, "show only calls that failed, and the kernel work they caused (strace -Z, -e status=failed); the recording keeps all")
	fs.BoolVarP(&sf.okOnly, "successful-only", "z", false, "show only calls that succeeded, and the kernel work they caused (strace -z, -e status=successful); the recording keeps all")
	fs.StringSliceVarP(&sf.pids, "pid", "p", nil, "attach to a running process (`PID`) and its threads")

	fs.CountVarP(&sf.hex, "hex", "x", "")
	fs.CountVarP(&sf.quiet, "quiet", "q", "")
	fs.BoolVarP(&sf.verbose, "verbose", "v", false, "")
	fs.StringVarP(&sf.user, "user", "u", "", "")
	fs.StringArrayVarP(&sf.env, "env", "E", nil, "")
	fs.StringArrayVarP(&sf.paths, "trace-path", "P", nil, "")
	fs.BoolVarP(&sf.stack, "stack-traces", "k", false, "")
	fs.BoolVarP(&sf.wall, "summary-wall-clock", "w", false, "")
	for _, name := range []string{"hex", "quiet", "verbose", "user", "env", "trace-path", "stack-traces", "summary-wall-clock"} {
		_ = fs.MarkHidden(name)
	}
}

// notYet says, for each strace flag trace does not do, what it does instead.
var notYet = []struct{ name, sentence string }{
	{"hex", "-x/-xx (strings in hex) is not supported: iotrace escapes bytes as strace does by default"},
	{"quiet", "-q/-qq is not supported: iotrace's own messages go to stderr, apart from the trace"},
	{"verbose", "-v is not supported: iotrace decodes the structures it captures in full, and shows the others as pointers"},
	{"user", "-u is not supported: run iotrace as the user (with CAP_BPF and CAP_PERFMON), or start the command with runuser/setpriv after --"},
	{"env", "-E is not supported: set the variable for the command after -- (env VAR=VALUE CMD)"},
	{"trace-path", "-P is not supported: choose calls with -e trace=…, or filter a recording with iotrace show"},
	{"stack-traces", "-k (stack traces) is not supported"},
	{"summary-wall-clock", "-w is not supported: the summary's times are the calls' durations, wall-clock from entry to exit already"},
}

// apply checks the strace flags and sets what they ask for: the view's time column, the calls
// it shows, the summary. It returns the -e expressions left for the syscall filter (status=
// is taken out) and the pid to attach to.
func (sf *straceFlags) apply(cmd *cobra.Command, o *OutputOptions, exprs []string) ([]string, int, error) {
	for _, n := range notYet {
		if cmd.Flags().Changed(n.name) {
			return nil, 0, flagErrorf("%s", n.sentence)
		}
	}
	if sf.follow > 1 {
		return nil, 0, flagErrorf("-ff (a file per process) is not supported: iotrace writes one timeline of every process, each line with its thread id, and iotrace show --pid picks one from a recording")
	}
	if sf.decodeFDs > 1 {
		return nil, 0, flagErrorf("-yy is not supported yet: iotrace names sockets socket:[INODE] as -y does, and shows their addresses in the calls that carry them (bind, connect, accept, getsockname)")
	}
	switch {
	case sf.absTime > 0 && sf.relTime:
		return nil, 0, flagErrorf("give -t or -r, not both")
	case sf.absTime > 3:
		return nil, 0, flagErrorf("-t, -tt or -ttt: there is no finer time than -ttt's")
	case sf.absTime > 0:
		o.Time = []text.TimeColumn{text.TimeOfDay, text.TimeOfDayUS, text.TimeEpoch}[sf.absTime-1]
	case sf.relTime:
		o.Time = text.TimeDelta
	}
	if sf.summaryOnly {
		if cmd.Flags().Changed("format") && o.Format != "none" {
			return nil, 0, flagErrorf("-c prints only the summary: leave out --format %s", o.Format)
		}
		o.Format, o.Summary = "none", true
	}
	var rest []string
	status := render.StatusAll
	for _, e := range exprs {
		v, ok := strings.CutPrefix(e, "status=")
		if !ok {
			rest = append(rest, e)
			continue
		}
		switch v {
		case "failed":
			status = render.StatusFailed
		case "successful":
			status = render.StatusSuccessful
		case "all":
		default:
			return nil, 0, flagErrorf("-e status=%s: iotrace takes status=successful, failed or all", v)
		}
	}
	switch {
	case sf.failedOnly && sf.okOnly:
		return nil, 0, flagErrorf("give -z or -Z, not both: together they show nothing")
	case sf.failedOnly:
		status = render.StatusFailed
	case sf.okOnly:
		status = render.StatusSuccessful
	}
	o.Status = status

	var pids []int
	for _, p := range sf.pids {
		for _, f := range strings.FieldsFunc(p, func(r rune) bool { return r == ',' || r == ' ' }) {
			n, err := strconv.Atoi(f)
			if err != nil || n <= 0 {
				return nil, 0, flagErrorf("-p %s: not a process id", f)
			}
			pids = append(pids, n)
		}
	}
	switch len(pids) {
	case 0:
		return rest, 0, nil
	case 1:
		return rest, pids[0], nil
	}
	list := make([]string, len(pids))
	for i, n := range pids {
		list[i] = strconv.Itoa(n)
	}
	return nil, 0, flagErrorf("-p %s: iotrace attaches to one process at a time (with its threads and the children it starts); run one iotrace per process", strings.Join(list, ","))
}
