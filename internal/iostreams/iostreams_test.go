package iostreams

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestColorEnabled(t *testing.T) {
	tests := []struct {
		mode    string
		tty     bool
		noColor string
		want    bool
	}{
		{"auto", true, "", true},
		{"auto", true, "1", false},
		{"auto", false, "", false},
		{"always", false, "", true},
		{"always", true, "1", true}, // the flag wins over the environment
		{"never", true, "", false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/tty=%v/NO_COLOR=%q", tt.mode, tt.tty, tt.noColor)
		t.Run(name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tt.noColor)
			ios, _, _, _ := Test()
			ios.SetStdoutTTY(tt.tty)
			if err := ios.SetColorMode(tt.mode); err != nil {
				t.Fatalf("SetColorMode(%q): %v", tt.mode, err)
			}
			if got := ios.ColorEnabled(); got != tt.want {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.want)
			}
			if got := ios.ColorScheme().Enabled(); got != tt.want {
				t.Errorf("ColorScheme().Enabled() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSetColorModeInvalid(t *testing.T) {
	ios, _, _, _ := Test()
	for _, mode := range []string{"", "yes", "AUTO"} {
		err := ios.SetColorMode(mode)
		if err == nil {
			t.Errorf("SetColorMode(%q) succeeded, want an error", mode)
			continue
		}
		for _, valid := range ColorModes {
			if !strings.Contains(err.Error(), valid) {
				t.Errorf("SetColorMode(%q) error %q does not name %q", mode, err, valid)
			}
		}
	}
	// A rejected mode leaves the previous one in place.
	ios.SetStdoutTTY(true)
	t.Setenv("NO_COLOR", "")
	if !ios.ColorEnabled() {
		t.Error("ColorEnabled() = false after rejected modes, want the default auto on a tty")
	}
}

func TestTestStreams(t *testing.T) {
	ios, in, out, errOut := Test()
	if ios.IsStdoutTTY() || ios.ColorEnabled() {
		t.Errorf("Test(): tty=%v color=%v, want both false", ios.IsStdoutTTY(), ios.ColorEnabled())
	}
	in.WriteString("input")
	b := make([]byte, 5)
	if n, _ := ios.In.Read(b); string(b[:n]) != "input" {
		t.Errorf("In read %q, want %q", b[:n], "input")
	}
	ios.Out.Write([]byte("out"))
	ios.ErrOut.Write([]byte("err"))
	if out.String() != "out" || errOut.String() != "err" {
		t.Errorf("out = %q, errOut = %q", out, errOut)
	}
	// Not a terminal, even when told it is: the width is unknown.
	ios.SetStdoutTTY(true)
	if got := ios.TerminalWidth(); got != 80 {
		t.Errorf("TerminalWidth() = %d, want 80", got)
	}
}

func TestColorScheme(t *testing.T) {
	on := &ColorScheme{enabled: true}
	off := &ColorScheme{}
	var none *ColorScheme
	tests := []struct {
		name string
		fn   func(*ColorScheme, string) string
		want string
	}{
		{"Bold", (*ColorScheme).Bold, "\x1b[1mx\x1b[0m"},
		{"Dim", (*ColorScheme).Dim, "\x1b[2mx\x1b[0m"},
		{"Red", (*ColorScheme).Red, "\x1b[31mx\x1b[0m"},
		{"Green", (*ColorScheme).Green, "\x1b[32mx\x1b[0m"},
		{"Yellow", (*ColorScheme).Yellow, "\x1b[33mx\x1b[0m"},
		{"Blue", (*ColorScheme).Blue, "\x1b[34mx\x1b[0m"},
		{"Magenta", (*ColorScheme).Magenta, "\x1b[35mx\x1b[0m"},
		{"Cyan", (*ColorScheme).Cyan, "\x1b[36mx\x1b[0m"},
	}
	for _, tt := range tests {
		if got := tt.fn(on, "x"); got != tt.want {
			t.Errorf("%s on = %q, want %q", tt.name, got, tt.want)
		}
		if got := tt.fn(on, ""); got != "" {
			t.Errorf("%s on empty = %q, want empty", tt.name, got)
		}
		if got := tt.fn(off, "x"); got != "x" {
			t.Errorf("%s off = %q, want %q", tt.name, got, "x")
		}
		if got := tt.fn(none, "x"); got != "x" {
			t.Errorf("%s nil = %q, want %q", tt.name, got, "x")
		}
	}
}

// TestSystemPty checks System's detection and the width on a real pseudo-terminal.
func TestSystemPty(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	defer pts.Close()
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 132}); err != nil {
		t.Fatalf("set window size: %v", err)
	}

	file, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	tests := []struct {
		name      string
		out       *os.File
		wantTTY   bool
		wantWidth int
	}{
		{"pty", pts, true, 132},
		{"regular file", file, false, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := os.Stdout
			os.Stdout = tt.out
			ios := System()
			os.Stdout = saved
			if got := ios.IsStdoutTTY(); got != tt.wantTTY {
				t.Errorf("IsStdoutTTY() = %v, want %v", got, tt.wantTTY)
			}
			t.Setenv("NO_COLOR", "")
			if got := ios.ColorEnabled(); got != tt.wantTTY {
				t.Errorf("ColorEnabled() in auto mode = %v, want %v", got, tt.wantTTY)
			}
			if got := ios.TerminalWidth(); got != tt.wantWidth {
				t.Errorf("TerminalWidth() = %d, want %d", got, tt.wantWidth)
			}
		})
	}
}
