package callfmt

import (
	"fmt"

	"github.com/iotrace/iotrace/internal/event"
)

// Process describes a fork, exec or exit as strace's +++ lines do: "fork → child 4243",
// "exec /bin/true", "exited with 0", "killed by SIGTERM".
func Process(p *event.Process) string {
	switch p.Name {
	case "fork":
		if p.Thread {
			return fmt.Sprintf("fork → thread %d", p.ChildTID)
		}
		return fmt.Sprintf("fork → child %d", p.ChildPID)
	case "exec":
		if p.Filename == "" {
			return "exec"
		}
		return "exec " + p.Filename
	case "exit":
		switch {
		case p.Signal != "":
			return "killed by " + p.Signal
		case p.ExitCode != nil:
			return fmt.Sprintf("exited with %d", *p.ExitCode)
		}
		return "exited"
	}
	return p.Name
}
