package probe

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
)

// The kernel's refusals, as cilium/ebpf reports them, become one sentence that says what the
// kernel lacks.
func TestExplainLoad(t *testing.T) {
	verifier := func(prog string, log ...string) error {
		return fmt.Errorf("field %s: program %s: %w", prog, prog, &ebpf.VerifierError{Cause: syscall.EINVAL, Log: log})
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		// Debian 11's 5.10: the attach cookie helper is unknown to its verifier
		{"5.10", verifier("kernel_event", "0: R1=ctx() R10=fp0", "; __u32 id = bpf_get_attach_cookie(ctx);", "1: (85) call unknown#174", "invalid func unknown#174", "processed 1 insns"),
			"it lacks the BPF helper bpf_get_attach_cookie (added in Linux 5.15); iotrace needs Linux 5.15 or later"},
		{"other refusal", verifier("sys_enter", "10: (79) r1 = *(u64 *)(r10 -256)", "invalid indirect read from stack R1 off -256+0 size 240", "processed 1064 insns"),
			"its verifier refused the sys_enter program (invalid indirect read from stack R1 off -256+0 size 240)"},
		{"no privilege", fmt.Errorf("map filter: %w", syscall.EPERM), "loading was not permitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := explainLoad(tc.err)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, not a LoadError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not say %q", msg, tc.want)
			}
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("more than one line without IOTRACE_VERIFIER_LOG: %q", msg)
			}
		})
	}
}
