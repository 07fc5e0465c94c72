package cli

import (
	"github.com/spf13/cobra"

	"github.com/iotrace/iotrace/internal/doctor"
	"github.com/iotrace/iotrace/internal/iostreams"
)

// DoctorOptions are `iotrace doctor`'s.
type DoctorOptions struct{ IO *iostreams.IOStreams }

// NewCmdDoctor builds `iotrace doctor`.
func NewCmdDoctor(ios *iostreams.IOStreams, runF func(*DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{IO: ios}
	return &cobra.Command{
		Use:   "doctor",
		Short: "Report what this kernel and these privileges allow, and what will be missing",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			if !doctor.Write(opts.IO.Out, doctor.Run()) {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
}
