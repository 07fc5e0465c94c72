package probe

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// LoadError is the kernel refusing iotrace's BPF programs, said in one sentence: what the
// kernel lacks when that can be told, else where the verifier stopped. The verifier's own log
// (often hundreds of lines) is kept for IOTRACE_VERIFIER_LOG=1.
type LoadError struct {
	Program string // the program the kernel refused
	Reason  string // one sentence, without the kernel's release
	Log     []string
	Err     error
}

func (e *LoadError) Error() string {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	s := fmt.Sprintf("this kernel (%s) cannot run iotrace's BPF programs: %s", unix.ByteSliceToString(uts.Release[:]), e.Reason)
	if os.Getenv("IOTRACE_VERIFIER_LOG") != "" && len(e.Log) > 0 {
		s += "\nverifier log of " + e.Program + ":\n" + strings.Join(e.Log, "\n")
	} else if len(e.Log) > 0 {
		s += " (IOTRACE_VERIFIER_LOG=1 prints the verifier's log)"
	}
	return s
}

func (e *LoadError) Unwrap() error { return e.Err }

// helperSince is the release that brought each helper iotrace's programs call (for programs of
// their type), so a kernel that lacks one gets a sentence naming the release it needs.
var helperSince = map[asm.BuiltinFunc]string{
	asm.FnGetAttachCookie:  "5.15",
	asm.FnRingbufOutput:    "5.8",
	asm.FnRingbufReserve:   "5.8",
	asm.FnRingbufSubmit:    "5.8",
	asm.FnRingbufQuery:     "5.8",
	asm.FnProbeReadUser:    "5.5",
	asm.FnProbeReadUserStr: "5.5",
	asm.FnProbeReadKernel:  "5.5",
	asm.FnGetCurrentTask:   "4.8",
}

var (
	unknownFunc = regexp.MustCompile(`(?:invalid func|unknown func) (?:unknown#|bpf_\w+#)?(\d+)`)
	progName    = regexp.MustCompile(`program (\w+):`)
)

// explainLoad turns a failed load into a LoadError when the kernel refused a program.
func explainLoad(err error) error {
	var verr *ebpf.VerifierError
	if !errors.As(err, &verr) {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return &LoadError{Reason: "loading was not permitted (root, or CAP_BPF with CAP_PERFMON, is needed; a lockdown or seccomp policy can forbid it too)", Err: err}
		}
		return fmt.Errorf("load BPF programs: %w", err)
	}
	e := &LoadError{Log: verr.Log, Err: err}
	if m := progName.FindStringSubmatch(err.Error()); m != nil {
		e.Program = m[1]
	}
	full := strings.Join(verr.Log, "\n")
	switch {
	case unknownFunc.MatchString(full):
		id, _ := strconv.Atoi(unknownFunc.FindStringSubmatch(full)[1])
		fn := asm.BuiltinFunc(id)
		name := strings.TrimPrefix(fn.String(), "Fn")
		e.Reason = fmt.Sprintf("it lacks the BPF helper %s", helperName(name))
		if since, ok := helperSince[fn]; ok {
			e.Reason += fmt.Sprintf(" (added in Linux %s); iotrace needs Linux 5.15 or later", since)
		}
	case strings.Contains(full, "attach_btf_id") || strings.Contains(full, "BTF is required") || strings.Contains(full, "Invalid btf"):
		e.Reason = "its BTF does not describe the tracepoints iotrace attaches to (a kernel built with CONFIG_DEBUG_INFO_BTF is needed)"
	default:
		last := ""
		for i := len(verr.Log) - 1; i >= 0; i-- {
			if l := strings.TrimSpace(verr.Log[i]); l != "" && !strings.HasPrefix(l, "processed ") && !strings.HasPrefix(l, "verification time") {
				last = l
				break
			}
		}
		e.Reason = fmt.Sprintf("its verifier refused the %s program (%s)", orUnknown(e.Program), last)
	}
	return e
}

// helperName spells a helper as C does: FnGetAttachCookie -> bpf_get_attach_cookie.
func helperName(camel string) string {
	var b strings.Builder
	b.WriteString("bpf")
	for _, r := range camel {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "a"
	}
	return s
}
