package decode

import (
	"strconv"
	"strings"
)

// The namers in names_*.go turn syscall constants into the text strace prints: a flag set is
// its names joined by "|" in strace's table order, with unknown bits appended in hex
// ("O_RDONLY|O_CLOEXEC|0x40000000"); an enum is its name, or the value in hex when unknown.
// Where amd64 and arm64 differ, a namer takes the arch ("amd64" or "arm64"; "aarch64" is
// accepted for arm64, anything else means amd64) so a recording from one machine reads the
// same on the other. All are pure, and allocate nothing when the answer is one table entry.

// sym is one named constant.
type sym struct {
	val  uint64
	name string
}

// isARM64 reports whether arch names the arm64 tables.
func isARM64(arch string) bool {
	return arch == "arm64" || arch == "aarch64"
}

// joiner builds "A|B|0x40" without allocating while it holds a single part.
type joiner struct {
	one string
	n   int
	b   strings.Builder
}

func (j *joiner) add(s string) {
	switch j.n {
	case 0:
		j.one = s
	case 1:
		j.b.Grow(len(j.one) + len(s) + 16)
		j.b.WriteString(j.one)
		fallthrough
	default:
		j.b.WriteByte('|')
		j.b.WriteString(s)
	}
	j.n++
}

// addHex appends leftover bits the tables do not name.
func (j *joiner) addHex(v uint64) {
	var buf [18]byte
	j.add(string(appendHex(buf[:0], v)))
}

func (j *joiner) String() string {
	if j.n == 1 {
		return j.one
	}
	return j.b.String()
}

// addFlags adds the names of the bits of v found in tab, in table order, and returns the bits
// left over. Multi-bit entries match only when all their bits are set, so an entry listed
// before its parts (O_SYNC before O_DSYNC, O_TMPFILE before O_DIRECTORY) wins, as in strace.
func (j *joiner) addFlags(v uint64, tab []sym) uint64 {
	for _, s := range tab {
		if v == 0 {
			break
		}
		if s.val != 0 && v&s.val == s.val {
			j.add(s.name)
			v &^= s.val
		}
	}
	return v
}

// flags formats a plain flag set; zero is what strace prints for 0 ("0" unless the table has a
// zero-valued name such as PROT_NONE).
func nameFlags(v uint64, tab []sym, zero string) string {
	if v == 0 {
		return zero
	}
	var j joiner
	if rest := j.addFlags(v, tab); rest != 0 {
		j.addHex(rest)
	}
	return j.String()
}

// lookup finds v in a sparse table.
func lookupSym(v uint64, tab []sym) (string, bool) {
	for _, s := range tab {
		if s.val == v {
			return s.name, true
		}
	}
	return "", false
}

// enum names v from a sparse table, or gives it in hex.
func nameEnum(v uint64, tab []sym) string {
	if s, ok := lookupSym(v, tab); ok {
		return s
	}
	return hex(v)
}

// indexed names v from a table indexed by value, or gives it in hex.
func nameIndexed(v uint64, names []string) string {
	if v < uint64(len(names)) && names[v] != "" {
		return names[v]
	}
	return hex(v)
}

// hex formats v as 0x… in lower case, as strace prints unknown values and addresses.
func hex(v uint64) string {
	var buf [18]byte
	return string(appendHex(buf[:0], v))
}

func appendHex(b []byte, v uint64) []byte {
	return strconv.AppendUint(append(b, '0', 'x'), v, 16)
}
