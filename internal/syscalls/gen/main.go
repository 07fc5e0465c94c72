// Command gen writes the syscall tables of package syscalls.
//
//	go run ./internal/syscalls/gen                   # zsys_*_table.go and zargnames.go
//	go run ./internal/syscalls/gen -refresh-formats  # re-capture formats.txt from this kernel
//
// Numbers and names come from golang.org/x/sys/unix at the version pinned in go.mod, so the
// output depends only on go.sum and on the files in this directory, never on the running
// kernel. Argument names come from formats.txt, a committed snapshot of the sys_enter_*
// tracepoint formats of an x86_64 kernel, and from formats_extra.txt for the syscalls that
// kernel has no tracepoint for.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// arches lists the tables to generate, each with the x/sys names that differ from the kernel's
// tracepoint names. A tracepoint is named after the SYSCALL_DEFINE that the arch's syscall table
// points to, not after the __NR_ constant: amd64's syscall_64.tbl maps stat to sys_newstat,
// asm-generic/unistd.h maps __NR3264_fadvise64 to sys_fadvise64_64, and arm64 routes personality
// through arch/arm64/kernel/sys.c's arm64_personality.
var arches = []arch{
	{
		name: "amd64",
		rename: map[string]string{
			"stat":     "newstat",
			"fstat":    "newfstat",
			"lstat":    "newlstat",
			"uname":    "newuname",
			"sendfile": "sendfile64",
			"umount2":  "umount",
		},
	},
	{
		name: "arm64",
		rename: map[string]string{
			"fstat":       "newfstat",
			"uname":       "newuname",
			"sendfile":    "sendfile64",
			"umount2":     "umount",
			"fadvise64":   "fadvise64_64",
			"personality": "arm64_personality",
		},
		// Not a syscall: the base of the range reserved for arch-specific calls.
		drop: []string{"arch_specific_syscall"},
	},
}

type arch struct {
	name   string
	rename map[string]string // x/sys name -> tracepoint name
	drop   []string
}

const (
	formatsFile = "formats.txt"
	extraFile   = "formats_extra.txt"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	refresh := flag.Bool("refresh-formats", false, "re-capture "+formatsFile+" from this kernel's tracefs")
	out := flag.String("out", "", "output directory (default: the syscalls package)")
	flag.Parse()

	pkgDir, err := packageDir()
	if err != nil {
		log.Fatal(err)
	}
	genDir := filepath.Join(pkgDir, "gen")
	if *refresh {
		if err := refreshFormats(filepath.Join(genDir, formatsFile)); err != nil {
			log.Fatal(err)
		}
	}
	if *out == "" {
		*out = pkgDir
	}
	files, err := generate(genDir)
	if err != nil {
		log.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(*out, name), src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// packageDir finds internal/syscalls from the main module's root, so the generator works from
// go generate (run in the package) and from the repository root alike.
func packageDir() (string, error) {
	root, err := goList("-m", "-f", "{{.Dir}}")
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "internal", "syscalls"), nil
}

func goList(args ...string) (string, error) {
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(string(out)), nil
}

// generate returns the generated files by name. genDir holds the format snapshots.
func generate(genDir string) (map[string][]byte, error) {
	mod, err := goList("-m", "-f", "{{.Version}} {{.Dir}}", "golang.org/x/sys")
	if err != nil {
		return nil, err
	}
	version, dir, ok := strings.Cut(mod, " ")
	if !ok || dir == "" {
		return nil, fmt.Errorf("golang.org/x/sys is not in the module cache (run go mod download): %q", mod)
	}
	files := make(map[string][]byte)
	for _, a := range arches {
		src := filepath.Join(dir, "unix", "zsysnum_linux_"+a.name+".go")
		nrs, err := readSysnum(src)
		if err != nil {
			return nil, err
		}
		names, err := a.apply(nrs)
		if err != nil {
			return nil, err
		}
		code, err := tableSource(a, version, names)
		if err != nil {
			return nil, err
		}
		// Not zsys_amd64.go: that suffix would be a build constraint, and every build needs
		// both tables to show recordings made on the other arch.
		files["zsys_"+a.name+"_table.go"] = code
	}

	formats, err := readFormats(filepath.Join(genDir, formatsFile))
	if err != nil {
		return nil, err
	}
	extra, err := readFormats(filepath.Join(genDir, extraFile))
	if err != nil {
		return nil, err
	}
	for name, args := range extra {
		if _, ok := formats[name]; !ok { // the captured format wins
			formats[name] = args
		}
	}
	code, err := argNamesSource(formats)
	if err != nil {
		return nil, err
	}
	files["zargnames.go"] = code
	return files, nil
}

// readSysnum parses the SYS_* constants of an x/sys zsysnum file: lowercased name -> number.
func readSysnum(path string) (map[string]int, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	nrs := make(map[string]int)
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				name, ok := strings.CutPrefix(id.Name, "SYS_")
				if !ok || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					return nil, fmt.Errorf("%s: %s is not an integer literal", path, id.Name)
				}
				nr, err := strconv.Atoi(lit.Value)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", path, id.Name, err)
				}
				nrs[strings.ToLower(name)] = nr
			}
		}
	}
	if len(nrs) == 0 {
		return nil, fmt.Errorf("%s: no SYS_ constants", path)
	}
	return nrs, nil
}

// apply renames and drops x/sys names, returning tracepoint names indexed by number.
func (a arch) apply(nrs map[string]int) ([]string, error) {
	for from := range a.rename {
		if _, ok := nrs[from]; !ok {
			return nil, fmt.Errorf("%s: rename of %q: x/sys has no such syscall", a.name, from)
		}
	}
	top := 0
	for _, nr := range nrs {
		top = max(top, nr)
	}
	names := make([]string, top+1)
	for name, nr := range nrs {
		if slices.Contains(a.drop, name) {
			continue
		}
		if to, ok := a.rename[name]; ok {
			name = to
		}
		if names[nr] != "" {
			return nil, fmt.Errorf("%s: number %d is both %q and %q", a.name, nr, names[nr], name)
		}
		names[nr] = name
	}
	for len(names) > 0 && names[len(names)-1] == "" {
		names = names[:len(names)-1]
	}
	return names, nil
}

func tableSource(a arch, version string, names []string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by \"go run ./gen\"; DO NOT EDIT.\n")
	fmt.Fprintf(&b, "// Source: golang.org/x/sys %s unix/zsysnum_linux_%s.go, renamed to tracepoint names.\n\n", version, a.name)
	fmt.Fprintf(&b, "package syscalls\n\n")
	fmt.Fprintf(&b, "// %sNames holds the tracepoint name of each %s syscall number; gaps are \"\".\n", a.name, a.name)
	fmt.Fprintf(&b, "var %sNames = [...]string{\n", a.name)
	for nr, name := range names {
		if name != "" {
			fmt.Fprintf(&b, "%d: %q,\n", nr, name)
		}
	}
	fmt.Fprintf(&b, "}\n\n")
	fmt.Fprintf(&b, "// %sAliases maps the x/sys (and strace) names that differ from the tracepoint names.\n", a.name)
	fmt.Fprintf(&b, "var %sAliases = map[string]string{\n", a.name)
	for _, from := range sortedKeys(a.rename) {
		fmt.Fprintf(&b, "%q: %q,\n", from, a.rename[from])
	}
	fmt.Fprintf(&b, "}\n")
	return formatSource(b.Bytes())
}

func argNamesSource(formats map[string][]field) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by \"go run ./gen\"; DO NOT EDIT.\n")
	fmt.Fprintf(&b, "// Source: gen/%s and gen/%s.\n\n", formatsFile, extraFile)
	fmt.Fprintf(&b, "package syscalls\n\n")
	fmt.Fprintf(&b, "// argNames holds the field names of each syscall's sys_enter_ tracepoint, without __syscall_nr.\n")
	fmt.Fprintf(&b, "var argNames = map[string][]string{\n")
	for _, name := range sortedKeys(formats) {
		quoted := make([]string, len(formats[name]))
		for i, f := range formats[name] {
			quoted[i] = strconv.Quote(f.name)
		}
		fmt.Fprintf(&b, "%q: {%s},\n", name, strings.Join(quoted, ", "))
	}
	fmt.Fprintf(&b, "}\n")
	return formatSource(b.Bytes())
}

func formatSource(src []byte) ([]byte, error) {
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("format generated code: %w", err)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// field is one argument of a tracepoint format: its C declaration without the name, and the name.
type field struct {
	typ, name string
}

// A formats file has one line per syscall: "name: type name; type name; ...", the fields of
// its sys_enter_ tracepoint after __syscall_nr, in order. Lines starting with # are comments.
func readFormats(path string) (map[string][]field, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read formats: %w", err)
	}
	defer f.Close()
	formats := make(map[string][]field)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"name: type arg; ...\"", path, n)
		}
		var fields []field
		for _, decl := range strings.Split(rest, ";") {
			if decl = strings.TrimSpace(decl); decl == "" {
				continue
			}
			fd, err := parseDecl(decl)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			fields = append(fields, fd)
		}
		if _, dup := formats[name]; dup {
			return nil, fmt.Errorf("%s:%d: %q listed twice", path, n, name)
		}
		formats[name] = fields
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return formats, nil
}

// parseDecl splits a C declaration such as "const struct iovec * vec" into type and name.
func parseDecl(decl string) (field, error) {
	i := strings.LastIndexAny(decl, " *")
	if i < 0 || i == len(decl)-1 {
		return field{}, fmt.Errorf("no argument name in %q", decl)
	}
	return field{typ: strings.TrimSpace(decl[:i+1]), name: decl[i+1:]}, nil
}

// refreshFormats captures the sys_enter_ formats of the running kernel into path. Only an
// x86_64 kernel has every syscall the arm64 table names too (open, dup2, epoll_wait …), so a
// capture on another arch would lose names.
func refreshFormats(path string) error {
	if runtime.GOARCH != "amd64" {
		return fmt.Errorf("refresh %s on amd64: an %s kernel lacks the legacy syscalls", formatsFile, runtime.GOARCH)
	}
	var dir string
	for _, d := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(filepath.Join(d, "events", "syscalls")); err == nil {
			dir = filepath.Join(d, "events", "syscalls")
			break
		}
	}
	if dir == "" {
		return errors.New("no tracefs syscall events: run as root, after mount -t tracefs nodev /sys/kernel/tracing")
	}
	events, err := filepath.Glob(filepath.Join(dir, "sys_enter_*"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	fmt.Fprintf(&b, "# Fields of /sys/kernel/tracing/events/syscalls/sys_enter_*/format after __syscall_nr,\n")
	fmt.Fprintf(&b, "# captured on Linux %s %s by: go run ./internal/syscalls/gen -refresh-formats\n",
		unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:]))
	fmt.Fprintf(&b, "# Do not edit by hand; add syscalls this kernel lacks to %s instead.\n", extraFile)
	sort.Strings(events)
	for _, ev := range events {
		fields, err := readEventFormat(filepath.Join(ev, "format"))
		if err != nil {
			return err
		}
		decls := make([]string, len(fields))
		for i, f := range fields {
			decls[i] = f.typ + " " + f.name
			if strings.HasSuffix(f.typ, "*") {
				decls[i] = f.typ + f.name
			}
		}
		fmt.Fprintf(&b, "%s: %s\n", strings.TrimPrefix(filepath.Base(ev), "sys_enter_"), strings.Join(decls, "; "))
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// readEventFormat returns the fields of a tracepoint format file that follow __syscall_nr.
func readEventFormat(path string) ([]field, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("read %s: %w (run as root)", path, err)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var fields []field
	seenNr := false
	for _, line := range strings.Split(string(data), "\n") {
		decl, ok := strings.CutPrefix(strings.TrimSpace(line), "field:")
		if !ok {
			continue
		}
		decl, _, _ = strings.Cut(decl, ";")
		f, err := parseDecl(strings.TrimSpace(decl))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if f.name == "__syscall_nr" {
			seenNr = true
			continue
		}
		if seenNr {
			fields = append(fields, f)
		}
	}
	if !seenNr {
		return nil, fmt.Errorf("%s: no __syscall_nr field", path)
	}
	return fields, nil
}
