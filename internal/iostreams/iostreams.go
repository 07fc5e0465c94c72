// Package iostreams holds the standard streams and the decisions that depend on them: whether
// stdout is a terminal, whether to colour, and how wide the terminal is. Commands take them from
// here so that tests can swap in buffers and choose each answer.
package iostreams

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ColorModes are the values SetColorMode accepts (the --color flag).
var ColorModes = []string{"auto", "always", "never"}

// defaultWidth is the width assumed when stdout is not a terminal or does not say.
const defaultWidth = 80

// IOStreams is the process's standard streams plus what is known about them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdoutTTY bool
	colorMode string
}

// System returns the process's own streams, with stdout's terminal status detected and colour
// mode "auto".
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdoutTTY: isTerminal(os.Stdout),
		colorMode: "auto",
	}
}

// Test returns streams backed by buffers: not a terminal, colour mode "auto" (so no colour).
func Test() (ios *IOStreams, in *bytes.Buffer, out *bytes.Buffer, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, colorMode: "auto"}, in, out, errOut
}

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// SetStdoutTTY overrides the terminal detection (tests, or a caller that knows better).
func (s *IOStreams) SetStdoutTTY(isTTY bool) { s.stdoutTTY = isTTY }

// SetColorMode sets when to colour: "auto" (stdout is a terminal and NO_COLOR is unset or empty),
// "always" or "never". An explicit "always" wins over NO_COLOR, as no-color.org asks.
func (s *IOStreams) SetColorMode(mode string) error {
	switch mode {
	case "auto", "always", "never":
		s.colorMode = mode
		return nil
	}
	return fmt.Errorf("invalid color mode %q: valid values are auto, always and never", mode)
}

// ColorEnabled reports whether output to Out should be coloured.
func (s *IOStreams) ColorEnabled() bool {
	switch s.colorMode {
	case "always":
		return true
	case "never":
		return false
	}
	return s.stdoutTTY && os.Getenv("NO_COLOR") == ""
}

// TerminalWidth returns the width in columns of the terminal stdout writes to, or 80 when stdout
// is not a terminal or its width is unknown.
func (s *IOStreams) TerminalWidth() int {
	f, ok := s.Out.(*os.File)
	if !ok || !s.stdoutTTY {
		return defaultWidth
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return defaultWidth
	}
	return int(ws.Col)
}

// ColorScheme returns the colours to use for Out, decided now.
func (s *IOStreams) ColorScheme() *ColorScheme {
	return &ColorScheme{enabled: s.ColorEnabled()}
}

// isTerminal reports whether f is a terminal: only a tty answers the termios ioctl.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
