// Package workloads holds the built-in programs iotrace traces: one
// sub-package per I/O mechanism from the advanced-I/O article, each a
// Workload with named variants that put one kernel behaviour side by side
// with its contrast.
//
// Workloads are plain Go on golang.org/x/sys/unix and call the syscall they
// are about directly, so the timeline shows exactly that syscall. They run
// inside the traced child process, never in the tracer, and import nothing
// from iotrace's internal packages.
package workloads

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Options tune a run. Zero values pick each workload's small defaults.
type Options struct {
	Size   int64     // bytes for file-based workloads; 0 = the workload's default
	Count  int       // repetitions or descriptor counts where meaningful; 0 = default
	Stdout io.Writer // where the workload narrates; nil = os.Stdout
	// Mark, when set, is called with "workload/variant" just before each variant runs and with
	// "workload" once it has returned, so a trace can tell where each variant begins and ends
	// (iotrace names the thread: prctl PR_SET_NAME "iot:…").
	Mark func(name string)
}

// Env is what a variant runs in.
type Env struct {
	Dir  string // the private temp dir (already created, removed after)
	Opts Options

	prefix string     // "workload/variant", printed before each narrated line
	mu     sync.Mutex // variants narrate from several goroutines
}

// Printf narrates one short line to Opts.Stdout, prefixed with the
// workload and variant name ("vectored/writev: wrote 38 bytes with 1 writev").
func (e *Env) Printf(format string, args ...any) {
	w := e.Opts.Stdout
	if w == nil {
		w = os.Stdout
	}
	line := fmt.Sprintf(format, args...)
	if e.prefix != "" {
		line = e.prefix + ": " + line
	}
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Narration is best effort: a closed stdout must not fail the workload.
	_, _ = io.WriteString(w, line)
}

// Path returns name inside the private directory.
func (e *Env) Path(name string) string { return filepath.Join(e.Dir, name) }

// Size returns Opts.Size, or def when it is not set.
func (e *Env) Size(def int64) int64 {
	if e.Opts.Size > 0 {
		return e.Opts.Size
	}
	return def
}

// Count returns Opts.Count, or def when it is not set.
func (e *Env) Count(def int) int {
	if e.Opts.Count > 0 {
		return e.Opts.Count
	}
	return def
}

// Variant is one named scenario of a workload.
type Variant struct {
	Name string
	Desc string // one line
	Run  func(env *Env) error
	// Predictions are what the variant expects the kernel to do. iotrace checks each against
	// the trace once the variant has ended and prints it with ✔ or ✘ and the measured figure.
	Predictions []Prediction
}

// Prediction is one fact a variant expects of the kernel. It is data: the measurement is
// internal/predict's check named Check, made on the recorded events only — the workload never
// judges its own prediction.
type Prediction struct {
	// ID names the prediction within its variant (stable: JSON Lines carry it).
	ID string
	// Says is the expectation in words, as the tour prints it.
	Says string
	// Check names the measurement (a check internal/predict knows).
	Check string
	// File is the variant's file the fact is about, by name in its directory ("" when none).
	File string
	// N is a count the check compares with, where it takes one (0: the check's own rule).
	N int
}

// Workload is one mechanism with its variants.
type Workload struct {
	Name  string
	Desc  string // one line, for `iotrace list`
	Guide string // a short paragraph for `iotrace tour`: what to look for in the timeline
	// Syscalls are the tracepoint names (no sys_enter_ prefix) this workload
	// is about, for both amd64 and arm64; the tracer ignores ones the arch lacks.
	Syscalls []string
	Variants []Variant
}

// Lookup returns the named variant, or an error naming the valid ones.
func (w *Workload) Lookup(name string) (*Variant, error) {
	for i := range w.Variants {
		if w.Variants[i].Name == name {
			return &w.Variants[i], nil
		}
	}
	return nil, fmt.Errorf("unknown variant %q of workload %q (valid: %s)", name, w.Name, strings.Join(w.VariantNames(), ", "))
}

// VariantNames lists the variant names in order.
func (w *Workload) VariantNames() []string {
	names := make([]string, len(w.Variants))
	for i, v := range w.Variants {
		names[i] = v.Name
	}
	return names
}

// Run runs one variant ("" = every variant in order) of w in a fresh private
// dir, dropping privileges to the sudo caller when started through sudo.
// Each variant gets its own subdirectory so variants never see each other's
// files.
func Run(w *Workload, variant string, opts Options) error {
	variants := w.Variants
	if variant != "" {
		v, err := w.Lookup(variant)
		if err != nil {
			return err
		}
		variants = []Variant{*v}
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}

	dir, err := os.MkdirTemp("", "iotrace-"+w.Name+"-") // mode 0700
	if err != nil {
		return fmt.Errorf("create private dir: %w", err)
	}
	defer os.RemoveAll(dir)

	dropped, err := dropPrivileges(dir)
	if err != nil {
		return err
	}
	if dropped != "" {
		(&Env{Opts: opts, prefix: w.Name}).Printf("%s", dropped)
	}
	if isTmpfs(dir) {
		(&Env{Opts: opts, prefix: w.Name}).Printf("note: %s is on tmpfs, so file pages never go cold and O_DIRECT/readahead facts are not real disk I/O; set TMPDIR to a disk-backed directory", os.TempDir())
	}

	// A variant that fails (RWF_NOWAIT refused on tmpfs, loopback down) is said at once and
	// the others still run: one machine's quirk must not hide the rest of the lessons.
	var failed []error
	for _, v := range variants {
		sub := filepath.Join(dir, v.Name)
		if err := os.Mkdir(sub, 0o700); err != nil {
			return fmt.Errorf("create variant dir: %w", err)
		}
		env := &Env{Dir: sub, Opts: opts, prefix: w.Name + "/" + v.Name}
		if opts.Mark != nil {
			opts.Mark(w.Name + "/" + v.Name)
		}
		if err := v.Run(env); err != nil {
			err = fmt.Errorf("%s/%s: %w", w.Name, v.Name, err)
			if len(variants) > 1 {
				fmt.Fprintf(os.Stderr, "iotrace: %v; going on with the next variant\n", err)
			}
			failed = append(failed, err)
		}
		if opts.Mark != nil {
			opts.Mark(w.Name)
		}
	}
	return errors.Join(failed...)
}
