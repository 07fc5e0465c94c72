package syscalls

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Filter is the set of syscalls selected by -e expressions, for one table's arch and, by
// name, for recordings of any arch.
type Filter struct {
	t       *Table
	all     bool
	negated bool
	names   map[string]bool // tracepoint names on any arch, before negation
	match   []bool          // by number on t's arch, after negation
	text    string
}

// ParseFilter parses -e expressions the way strace does:
//
//	trace=readv,writev   syscalls by name ("t=" too; a bare list means trace=)
//	trace=%file,%desc    classes (see Classes; %net = %network, and strace's legacy "file" …)
//	trace=/^pread        syscalls whose name matches a regular expression
//	trace=?name          no error if name is unknown
//	trace=!write,%memory everything but the list: a leading ! negates the whole list
//	trace=all, trace=none
//
// As in strace, each trace= expression replaces the ones before it. Names are tracepoint names
// (newfstat) or strace's (fstat); a syscall that exists on some supported arch is valid even if
// t's arch lacks it (dup2 on arm64) and then selects nothing there. No expressions select all.
func ParseFilter(t *Table, exprs []string) (*Filter, error) {
	f := &Filter{t: t, all: true}
	for _, e := range exprs {
		if err := f.parse(e); err != nil {
			return nil, err
		}
	}
	f.match = make([]bool, t.Max())
	for nr := range f.match {
		f.match[nr] = f.MatchName(t.Name(nr))
	}
	return f, nil
}

func (f *Filter) parse(expr string) error {
	spec := expr
	if q, rest, ok := strings.Cut(expr, "="); ok {
		if q != "trace" && q != "t" {
			return fmt.Errorf("unsupported qualifier %q in -e %q: only trace= is supported", q, expr)
		}
		spec = rest
	}
	f.all, f.negated, f.names = false, false, make(map[string]bool)
	for strings.HasPrefix(spec, "!") {
		f.negated = !f.negated
		spec = spec[1:]
	}
	switch spec {
	case "all":
		f.negated = !f.negated
	case "none":
	case "":
		return fmt.Errorf("empty syscall list in -e %q", expr)
	default:
		var tokens []string
		for _, tok := range strings.Split(spec, ",") {
			sel, canon, err := selectToken(tok)
			if err != nil {
				return err
			}
			for _, name := range sel {
				f.names[name] = true
			}
			if canon != "" && !slices.Contains(tokens, canon) {
				tokens = append(tokens, canon)
			}
		}
		f.text = canonical(f.negated, tokens)
	}
	if len(f.names) == 0 { // all, none, or only unknown ?-names
		f.all = f.negated
		f.text = "trace=none"
		if f.all {
			f.text = "trace=all"
		}
	}
	return nil
}

// canonical orders classes, then regular expressions, then names, each sorted.
func canonical(negated bool, tokens []string) string {
	rank := func(s string) int {
		switch s[0] {
		case '%':
			return 0
		case '/':
			return 1
		}
		return 2
	}
	sort.Slice(tokens, func(i, j int) bool {
		if ri, rj := rank(tokens[i]), rank(tokens[j]); ri != rj {
			return ri < rj
		}
		return tokens[i] < tokens[j]
	})
	neg := ""
	if negated {
		neg = "!"
	}
	return "trace=" + neg + strings.Join(tokens, ",")
}

// selectToken returns the tracepoint names one token selects on any arch, and its canonical
// spelling ("" for a ?-token that selects nothing).
func selectToken(tok string) ([]string, string, error) {
	optional := strings.HasPrefix(tok, "?")
	tok = strings.TrimPrefix(tok, "?")
	var names []string
	var err error
	canon := tok
	switch {
	case tok == "":
		return nil, "", fmt.Errorf("empty syscall name in -e")
	case strings.HasPrefix(tok, "/"):
		names, err = matchRegexp(tok[1:])
	case strings.HasPrefix(tok, "%") || classAliases[tok] != "":
		if alias, ok := classAliases[tok]; ok {
			canon = alias
		}
		var known bool
		if names, known = classes()[canon[1:]]; !known {
			err = fmt.Errorf("unknown class %q in -e%s", tok, suggest(tok, classNames()))
		}
	default:
		names = resolveName(tok)
		if len(names) == 1 {
			canon = names[0]
		}
		if len(names) == 0 {
			err = fmt.Errorf("unknown syscall %q in -e%s", tok, suggest(tok, knownNames()))
		}
	}
	if err != nil {
		if optional {
			return nil, "", nil
		}
		return nil, "", err
	}
	return names, canon, nil
}

func matchRegexp(expr string) ([]string, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q in -e: %w", expr, err)
	}
	var names []string
	for _, name := range knownNames() {
		if re.MatchString(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("regular expression %q in -e matches no syscall", expr)
	}
	return names, nil
}

// resolveName maps a tracepoint or strace name to the tracepoint names it stands for on the
// supported arches: "fadvise64" is fadvise64 on amd64 and fadvise64_64 on arm64.
func resolveName(name string) []string {
	var out []string
	for _, t := range tables() {
		if tp, ok := t.resolve(name); ok && !slices.Contains(out, tp) {
			out = append(out, tp)
		}
	}
	sort.Strings(out)
	return out
}

// knownNames returns the tracepoint names of every supported arch, sorted.
var knownNames = sync.OnceValue(func() []string {
	var names []string
	for _, t := range tables() {
		names = append(names, t.sorted...)
	}
	slices.Sort(names)
	return slices.Compact(names)
})

var classNames = sync.OnceValue(func() []string {
	var names []string
	for name := range classes() {
		names = append(names, "%"+name)
	}
	for alias := range classAliases {
		names = append(names, alias)
	}
	slices.Sort(names)
	return names
})

// suggest returns ` (did you mean "a", "b" or "c"?)` with the candidates closest to s, or "" if
// none is close enough to be a typo: a typo changes at most about a third of a word.
func suggest(s string, candidates []string) string {
	best := len(s)/3 + 1
	var near []string
	for _, c := range candidates {
		switch d := editDistance(s, c); {
		case d < best:
			best, near = d, []string{c}
		case d == best && len(near) < 3:
			near = append(near, c)
		}
	}
	if len(near) == 0 {
		return ""
	}
	q := make([]string, len(near))
	for i, n := range near {
		q[i] = fmt.Sprintf("%q", n)
	}
	list := q[0]
	if len(q) > 1 {
		list = strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
	}
	return " (did you mean " + list + "?)"
}

// editDistance is the optimal string alignment distance: insertions, deletions, substitutions
// and transpositions of adjacent letters ("wrtiev" is one away from "writev").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// All reports whether the filter selects every syscall.
func (f *Filter) All() bool { return f.all }

// Match reports whether syscall nr of the table's arch is selected.
func (f *Filter) Match(nr int) bool {
	if nr < 0 || nr >= len(f.match) {
		return f.all || f.negated
	}
	return f.match[nr]
}

// MatchName reports whether the syscall with this tracepoint name is selected, on any arch.
func (f *Filter) MatchName(name string) bool {
	return f.all || f.names[name] != f.negated
}

// Names returns the selected syscalls of the table's arch, sorted.
func (f *Filter) Names() []string {
	var names []string
	for _, name := range f.t.sorted {
		if f.MatchName(name) {
			names = append(names, name)
		}
	}
	return names
}

// String returns the filter as one canonical expression, such as "trace=readv,writev",
// "trace=!%memory" or "trace=all".
func (f *Filter) String() string {
	if f.text == "" {
		return "trace=all"
	}
	return f.text
}
