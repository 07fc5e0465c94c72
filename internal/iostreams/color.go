package iostreams

// ColorScheme wraps text in ANSI SGR sequences when colour is enabled and returns it unchanged
// otherwise. A nil *ColorScheme colours nothing.
type ColorScheme struct {
	enabled bool
}

// SGR parameters.
const (
	sgrBold    = "1"
	sgrDim     = "2"
	sgrRed     = "31"
	sgrGreen   = "32"
	sgrYellow  = "33"
	sgrBlue    = "34"
	sgrMagenta = "35"
	sgrCyan    = "36"
)

// Enabled reports whether the scheme colours anything.
func (c *ColorScheme) Enabled() bool { return c != nil && c.enabled }

func (c *ColorScheme) Bold(s string) string    { return c.wrap(sgrBold, s) }
func (c *ColorScheme) Dim(s string) string     { return c.wrap(sgrDim, s) }
func (c *ColorScheme) Red(s string) string     { return c.wrap(sgrRed, s) }
func (c *ColorScheme) Green(s string) string   { return c.wrap(sgrGreen, s) }
func (c *ColorScheme) Yellow(s string) string  { return c.wrap(sgrYellow, s) }
func (c *ColorScheme) Blue(s string) string    { return c.wrap(sgrBlue, s) }
func (c *ColorScheme) Magenta(s string) string { return c.wrap(sgrMagenta, s) }
func (c *ColorScheme) Cyan(s string) string    { return c.wrap(sgrCyan, s) }

func (c *ColorScheme) wrap(sgr, s string) string {
	if !c.Enabled() || s == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}
