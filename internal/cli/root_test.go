package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/iostreams"
)

// The conventions a cobra tool's users expect: --version, and completion scripts whose
// candidates include the workloads and their variants.
func TestRootConventions(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		ios, _, _, _ := iostreams.Test()
		root := NewCmdRoot(ios)
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("iotrace %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	if v := run("--version"); !strings.HasPrefix(v, "iotrace ") {
		t.Errorf("--version printed %q", v)
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if s := run("completion", sh); !strings.Contains(s, "iotrace") {
			t.Errorf("completion %s printed no script", sh)
		}
	}
	if c := run("__complete", "run", ""); !strings.Contains(c, "vectored\t") || !strings.Contains(c, "aio\t") {
		t.Errorf("run's completion lacks the workloads: %q", c)
	}
	if c := run("__complete", "run", "aio", "--variant", ""); !strings.Contains(c, "native-direct\t") {
		t.Errorf("--variant's completion lacks aio's variants: %q", c)
	}
}
