package decode

import "strings"

// EscapeBytes renders captured buffer content the way strace quotes it, without the quotes:
// printable ASCII as is, \" and \\, \t \n \v \f \r by name, and every other byte in octal with
// as few digits as possible, padded to three only when an octal digit follows ("\0", "\0001").
// Bytes of 0x80 and up are escaped too, as strace does, so the result is always ASCII.
func EscapeBytes(b []byte) string {
	return escape(b)
}

// EscapeString is EscapeBytes for a string, such as a path.
func EscapeString(s string) string {
	return escape(s)
}

func escape[T string | []byte](s T) string {
	i := 0
	for i < len(s) && !needsEscape(s[i]) {
		i++
	}
	if i == len(s) {
		return string(s)
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	b.WriteString(string(s[:i]))
	for ; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if !needsEscape(c) {
				b.WriteByte(c)
				continue
			}
			b.WriteByte('\\')
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7' {
				// a following octal digit would be read as part of the escape
				b.WriteByte('0' + c>>6)
				b.WriteByte('0' + c>>3&7)
			} else if c>>3 != 0 {
				if c>>6 != 0 {
					b.WriteByte('0' + c>>6)
				}
				b.WriteByte('0' + c>>3&7)
			}
			b.WriteByte('0' + c&7)
		}
	}
	return b.String()
}

func needsEscape(c byte) bool {
	return c < ' ' || c > '~' || c == '"' || c == '\\'
}
