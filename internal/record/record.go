// Package record reads a recorded timeline (JSON Lines, docs/jsonl.md) back into event values,
// for `iotrace show` and `iotrace export`.
//
// A recording cut short — Ctrl-C before the summary was written, a full disk — still reads: the
// events before the cut are returned, a summary is recomputed from them, and Warnings says so.
// Anything else that is wrong is an error naming the file and line.
package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/render/summary"
)

// MaxLine bounds one line, and so the memory a reader holds: buffers captured with a large -s
// make long lines, but nothing iotrace writes comes near this.
const MaxLine = 16 << 20

// Reader streams the events of one recording.
type Reader struct {
	name   string
	closer io.Closer
	br     *bufio.Reader
	long   []byte // holds a line longer than br's buffer
	lineNo int    // of the last line read

	header   *event.Header
	summary  *event.Summary
	counter  summary.Counter
	events   int
	warnings []string
	done     bool
	err      error
	lastSeq  uint64 // the highest seq so far: a recording's seqs only grow
	// what checkOrder found
	disorder, early     int
	disorderAt, earlyAt string
}

// Open opens the recording at path and reads its header.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError: "open FILE: no such file or directory"
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not an iotrace recording", path)
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a recording from rd, naming it name in messages, and checks its header line.
func NewReader(rd io.Reader, name string) (*Reader, error) {
	r := &Reader{name: name, br: bufio.NewReaderSize(rd, 64<<10)}
	line, _, err := r.nextLine()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, not an iotrace recording", name)
	}
	if err != nil {
		return nil, err
	}
	if err := r.readHeader(line); err != nil {
		return nil, err
	}
	r.counter.Start(r.header.StartNS)
	return r, nil
}

// Close closes the file Open opened; for a NewReader it does nothing.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Header returns the recording's header.
func (r *Reader) Header() *event.Header { return r.header }

// Next returns the next event, and io.EOF after the last one. The summary line is not returned
// as an event: see Summary.
func (r *Reader) Next() (event.Event, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		return nil, io.EOF
	}
	line, complete, err := r.nextLine()
	if err == io.EOF {
		r.cutShort(fmt.Sprintf("%s: ends at line %d without a summary (cut short?); showing %s before it",
			r.name, r.lineNo, r.eventCount()))
		return nil, io.EOF
	}
	if err != nil {
		return nil, r.fail(err)
	}
	rec, err := event.ParseLine(line)
	if err != nil {
		// A last line that is not even JSON was cut mid-write: keep what came before it.
		if !json.Valid(line) && (!complete || r.atEOF()) {
			r.cutShort(fmt.Sprintf("%s:%d: the last line is cut short; showing %s before it",
				r.name, r.lineNo, r.eventCount()))
			return nil, io.EOF
		}
		return nil, r.fail(r.lineError(line, err))
	}
	switch x := rec.(type) {
	case *event.Summary:
		r.summary, r.done = x, true
		r.orderWarnings()
		if _, _, err := r.nextLine(); err != io.EOF {
			if err == nil {
				err = fmt.Errorf("%s:%d: more lines after the summary line (two recordings in one file?)", r.name, r.lineNo)
			}
			return nil, r.fail(err)
		}
		return nil, io.EOF
	case *event.Header:
		return nil, r.fail(fmt.Errorf("%s:%d: a second header line (two recordings in one file?)", r.name, r.lineNo))
	case event.Event:
		r.checkOrder(x)
		r.counter.Add(x)
		r.events++
		return x, nil
	}
	return nil, r.fail(fmt.Errorf("%s:%d: unexpected %s record", r.name, r.lineNo, rec.Kind()))
}

// checkOrder notes what iotrace never writes: a seq that does not grow (a line repeated or
// moved), a time before the recording's start (which would print as a negative time). Such a
// file still reads, with a warning at the end that says where.
func (r *Reader) checkOrder(e event.Event) {
	c := e.Base()
	if c.Seq != 0 {
		if c.Seq <= r.lastSeq {
			if r.disorder == 0 {
				r.disorderAt = fmt.Sprintf("line %d: seq %d after seq %d", r.lineNo, c.Seq, r.lastSeq)
			}
			r.disorder++
		}
		r.lastSeq = max(r.lastSeq, c.Seq)
	}
	if start := r.header.StartNS; c.TS != 0 && c.TS < start {
		if r.early == 0 {
			r.earlyAt = fmt.Sprintf("line %d: ts_ns %d, start_ns %d", r.lineNo, c.TS, start)
		}
		r.early++
	}
}

// orderWarnings are checkOrder's findings, once the file is read.
func (r *Reader) orderWarnings() {
	if r.disorder > 0 {
		r.warnings = append(r.warnings, fmt.Sprintf("%s: %d line(s) repeated or out of order, which iotrace never writes (first at %s): edited by hand?", r.name, r.disorder, r.disorderAt))
	}
	if r.early > 0 {
		r.warnings = append(r.warnings, fmt.Sprintf("%s: %d event(s) stamped before the recording started (first at %s): their times show as negative", r.name, r.early, r.earlyAt))
	}
}

// Summary returns the recording's summary once Next has returned io.EOF, and nil before. For a
// recording cut short it is recomputed from the events, with Truncated set and no exit code.
func (r *Reader) Summary() *event.Summary { return r.summary }

// Warnings returns what was wrong but still readable, one sentence each.
func (r *Reader) Warnings() []string { return r.warnings }

func (r *Reader) readHeader(line []byte) error {
	var probe struct {
		Type   string `json:"type"`
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(line, &probe); err != nil {
		return fmt.Errorf("%s:%d: not an iotrace recording (the first line is not a JSON object)", r.name, r.lineNo)
	}
	if probe.Type != "header" {
		return fmt.Errorf("%s:%d: not an iotrace recording (no header line)", r.name, r.lineNo)
	}
	if probe.Schema != event.Schema {
		return fmt.Errorf("%s:%d: %s", r.name, r.lineNo, schemaMismatch(probe.Schema))
	}
	rec, err := event.ParseLine(line)
	if err != nil {
		return fmt.Errorf("%s:%d: bad header: %w", r.name, r.lineNo, plainJSONError(err))
	}
	r.header = rec.(*event.Header)
	return nil
}

// schemaMismatch says why a schema other than ours cannot be read, and what to do about it.
func schemaMismatch(got string) string {
	if got == "" {
		return "the header has no schema; not an iotrace recording"
	}
	have, ok1 := schemaVersion(event.Schema)
	want, ok2 := schemaVersion(got)
	switch {
	case ok1 && ok2 && want > have:
		return fmt.Sprintf("recorded with schema %q; this iotrace reads %q — upgrade iotrace to read it", got, event.Schema)
	case ok1 && ok2:
		return fmt.Sprintf("recorded with schema %q, which this iotrace no longer reads (it reads %q)", got, event.Schema)
	}
	return fmt.Sprintf("recorded with unknown schema %q; this iotrace reads %q", got, event.Schema)
}

// schemaVersion returns N of "iotrace/vN".
func schemaVersion(s string) (int, bool) {
	v, ok := strings.CutPrefix(s, "iotrace/v")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// nextLine returns the next non-blank line without its newline, and whether it had one. The
// slice is valid until the following call.
func (r *Reader) nextLine() (line []byte, complete bool, err error) {
	for {
		line, complete, err = r.readLine()
		if err != nil {
			return nil, false, err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, complete, nil
		}
	}
}

func (r *Reader) readLine() ([]byte, bool, error) {
	r.long = r.long[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.long)+len(chunk) > MaxLine+1 { // +1: the newline
			return nil, false, fmt.Errorf("%s:%d: line longer than %d MiB", r.name, r.lineNo+1, MaxLine>>20)
		}
		switch {
		case err == nil:
			r.lineNo++
			if len(r.long) > 0 {
				r.long = append(r.long, chunk...)
				chunk = r.long
			}
			return chunk[:len(chunk)-1], true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			r.long = append(r.long, chunk...)
		case err == io.EOF:
			if len(r.long)+len(chunk) == 0 {
				return nil, false, io.EOF
			}
			r.lineNo++
			return append(r.long, chunk...), false, nil
		default:
			return nil, false, fmt.Errorf("%s:%d: %w", r.name, r.lineNo+1, err)
		}
	}
}

// atEOF reports whether nothing but blank space follows.
func (r *Reader) atEOF() bool {
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			return err == io.EOF
		}
		if !isSpace(b) {
			r.br.UnreadByte()
			return false
		}
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// plainJSONError says a JSON decoding error without Go's type names.
func plainJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "a value"
		} else {
			field = "field " + strconv.Quote(field)
		}
		want := "a " + jsonKind(te.Type.Kind().String())
		return fmt.Errorf("%s holds a JSON %s where %s is expected", field, te.Value, want)
	}
	return err
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"), strings.HasPrefix(goKind, "float"):
		return "number"
	case goKind == "string":
		return "string"
	case goKind == "bool":
		return "boolean"
	case goKind == "slice", goKind == "array":
		return "list"
	}
	return "JSON object"
}

func (r *Reader) lineError(line []byte, err error) error {
	err = plainJSONError(err)
	t := bytes.TrimSpace(line)
	if !json.Valid(t) {
		return fmt.Errorf("%s:%d: not a JSON object: %w", r.name, r.lineNo, err)
	}
	if t[0] != '{' {
		return fmt.Errorf("%s:%d: not a JSON object", r.name, r.lineNo)
	}
	return fmt.Errorf("%s:%d: bad record: %w", r.name, r.lineNo, err)
}

func (r *Reader) cutShort(warning string) {
	r.warnings = append(r.warnings, warning)
	r.summary = r.counter.Summary()
	r.summary.Truncated = true
	r.done = true
	r.orderWarnings()
}

func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

func (r *Reader) eventCount() string {
	switch r.events {
	case 0:
		return "no events"
	case 1:
		return "the 1 event"
	}
	return fmt.Sprintf("the %d events", r.events)
}
