package cli

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/iostreams"
	"github.com/iotrace/iotrace/internal/render"
	"github.com/iotrace/iotrace/internal/render/text"
)

// strace's flags mean in trace what they mean in strace; the ones iotrace does not do get a
// sentence, not cobra's "unknown shorthand flag".
func TestStraceFlags(t *testing.T) {
	parse := func(args ...string) (*TraceOptions, error) {
		t.Helper()
		ios, _, _, _ := iostreams.Test()
		var got *TraceOptions
		cmd := NewCmdTrace(ios, func(o *TraceOptions) error { got = o; return nil })
		cmd.SetArgs(args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		return got, err
	}
	for _, tt := range []struct {
		args  []string
		check func(*TraceOptions) bool
	}{
		{[]string{"-f", "-y", "-T", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Time == text.TimeSinceStart }},
		{[]string{"-t", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Time == text.TimeOfDay }},
		{[]string{"-tt", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Time == text.TimeOfDayUS }},
		{[]string{"-ttt", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Time == text.TimeEpoch }},
		{[]string{"-r", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Time == text.TimeDelta }},
		{[]string{"-c", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Format == "none" && o.Out.Summary }},
		{[]string{"-C", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Format == "text" && o.Out.Summary }},
		{[]string{"-Z", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Status == render.StatusFailed }},
		{[]string{"-z", "--", "true"}, func(o *TraceOptions) bool { return o.Out.Status == render.StatusSuccessful }},
		{[]string{"-e", "status=failed", "-e", "trace=openat", "--", "true"}, func(o *TraceOptions) bool {
			return o.Out.Status == render.StatusFailed && slices.Equal(o.Exprs, []string{"trace=openat"})
		}},
		{[]string{"-p", "42"}, func(o *TraceOptions) bool { return o.PID == 42 }},
	} {
		o, err := parse(tt.args...)
		if err != nil {
			t.Errorf("trace %s: %v", strings.Join(tt.args, " "), err)
			continue
		}
		if !tt.check(o) {
			t.Errorf("trace %s: options %+v", strings.Join(tt.args, " "), o.Out)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-ff", "--", "true"}, "-ff (a file per process) is not supported"},
		{[]string{"-yy", "--", "true"}, "-yy is not supported yet"},
		{[]string{"-t", "-r", "--", "true"}, "give -t or -r, not both"},
		{[]string{"-z", "-Z", "--", "true"}, "give -z or -Z, not both"},
		{[]string{"-e", "status=unfinished", "--", "true"}, "status=successful, failed or all"},
		{[]string{"-p", "1,2"}, "-p 1,2: iotrace attaches to one process at a time"},
		{[]string{"-p", "1", "-p", "2"}, "-p 1,2: iotrace attaches to one process at a time"},
		{[]string{"-p", "x"}, "-p x: not a process id"},
		{[]string{"-x", "--", "true"}, "-x/-xx (strings in hex) is not supported"},
		{[]string{"-v", "--", "true"}, "-v is not supported"},
		{[]string{"-E", "A=1", "--", "true"}, "-E is not supported"},
		{[]string{"-u", "nobody", "--", "true"}, "-u is not supported"},
	} {
		_, err := parse(tt.args...)
		var fe *FlagError
		if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("trace %s: error %v, want a flag error saying %q", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}
