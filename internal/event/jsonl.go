package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// AppendJSON appends e as one JSON object (no newline). Syscalls, the hot path, are written by
// hand; the rare kinds go through encoding/json.
func AppendJSON(b []byte, e Record) ([]byte, error) {
	switch x := e.(type) {
	case *Syscall:
		return appendSyscall(b, x), nil
	case *Kernel:
		b = append(b, `{"type":"kernel",`...)
		b = appendCommon(b, &x.Common)
		b = append(b, `,"name":`...)
		b = appendString(b, x.Name)
		if len(x.Args) > 0 {
			b = append(b, `,"args":`...)
			b = appendFields(b, x.Args)
		}
		if x.CauseSeq != 0 {
			b = append(b, `,"cause_seq":`...)
			b = strconv.AppendUint(b, x.CauseSeq, 10)
		}
		if x.CauseLost {
			b = append(b, `,"cause_lost":true`...)
		}
		if x.Outside != "" {
			b = append(b, `,"outside":`...)
			b = appendString(b, x.Outside)
		}
		if x.Via != "" {
			b = append(b, `,"via":`...)
			b = appendString(b, x.Via)
		}
		if x.UntracedCall != "" {
			b = append(b, `,"untraced_call":`...)
			b = appendString(b, x.UntracedCall)
		}
		b = appendNotes(b, x.Notes)
		return append(b, '}'), nil
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return b, fmt.Errorf("encode %s event: %w", e.Kind(), err)
	}
	// Put "type" first so a reader can dispatch on the prefix: {"type":"x",...}
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, e.Kind())
	if len(raw) > 2 {
		b = append(b, ',')
	}
	return append(b, raw[1:]...), nil
}

func appendCommon(b []byte, c *Common) []byte {
	b = append(b, `"seq":`...)
	b = strconv.AppendUint(b, c.Seq, 10)
	b = append(b, `,"ts_ns":`...)
	b = strconv.AppendUint(b, c.TS, 10)
	b = append(b, `,"pid":`...)
	b = strconv.AppendUint(b, uint64(c.PID), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendUint(b, uint64(c.TID), 10)
	if c.Comm != "" {
		b = append(b, `,"comm":`...)
		b = appendString(b, c.Comm)
	}
	return b
}

func appendNotes(b []byte, notes []string) []byte {
	if len(notes) == 0 {
		return b
	}
	b = append(b, `,"notes":[`...)
	for i, n := range notes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
	}
	return append(b, ']')
}

func appendSyscall(b []byte, s *Syscall) []byte {
	b = append(b, `{"type":"syscall",`...)
	b = appendCommon(b, &s.Common)
	b = append(b, `,"name":`...)
	b = appendString(b, s.Name)
	b = append(b, `,"nr":`...)
	b = strconv.AppendInt(b, int64(s.Nr), 10)
	b = append(b, `,"dur_ns":`...)
	b = strconv.AppendUint(b, s.Dur, 10)
	b = append(b, `,"args":{`...)
	for i, a := range s.Args {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, a.Name)
		b = append(b, ':')
		b = strconv.AppendUint(b, a.Value, 10)
	}
	b = append(b, `},"ret":`...)
	b = strconv.AppendInt(b, s.Ret, 10)
	b = append(b, `,"errno":`...)
	if s.Errno == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, s.Errno)
	}
	if len(s.Decoded) > 0 {
		b = append(b, `,"decoded":`...)
		b = appendFields(b, s.Decoded)
	}
	if s.Unfinished {
		b = append(b, `,"unfinished":true`...)
	}
	if s.CaptureLost {
		b = append(b, `,"capture_lost":true`...)
	}
	if s.EntryLost {
		b = append(b, `,"entry_lost":true`...)
	}
	if s.KernelEventsLost > 0 {
		b = append(b, `,"kernel_events_lost":`...)
		b = strconv.AppendUint(b, uint64(s.KernelEventsLost), 10)
	}
	b = appendNotes(b, s.Notes)
	return append(b, '}')
}

// syscallJSON mirrors the parts of Syscall that encoding/json cannot fill by itself.
type syscallJSON struct {
	Syscall
	RawArgs Fields  `json:"args"`
	Errno   *string `json:"errno"`
}

// ParseLine decodes one JSON Lines record of any kind.
func ParseLine(line []byte) (Record, error) {
	typ, ok := leadingType(line)
	if !ok {
		var probe struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			return nil, err
		}
		typ = probe.Type
	}
	switch typ {
	case "header":
		var h Header
		err := json.Unmarshal(line, &h)
		return &h, err
	case "summary":
		var s Summary
		err := json.Unmarshal(line, &s)
		return &s, err
	case "syscall":
		var sj syscallJSON
		if err := json.Unmarshal(line, &sj); err != nil {
			return nil, err
		}
		s := sj.Syscall
		for _, kv := range sj.RawArgs {
			v, ok := AsInt(kv.Val)
			if !ok {
				return nil, fmt.Errorf("argument %q is not an integer", kv.Key)
			}
			s.Args = append(s.Args, Arg{Name: kv.Key, Value: uint64(v)})
		}
		if sj.Errno != nil {
			s.Errno = *sj.Errno
		}
		return &s, nil
	case "kernel":
		var k Kernel
		err := json.Unmarshal(line, &k)
		return &k, err
	case "process":
		var p Process
		err := json.Unmarshal(line, &p)
		return &p, err
	case "lost":
		var l Lost
		err := json.Unmarshal(line, &l)
		return &l, err
	case "prediction":
		var p Prediction
		err := json.Unmarshal(line, &p)
		return &p, err
	case "":
		return nil, fmt.Errorf("no \"type\" field")
	}
	return nil, fmt.Errorf("unknown record type %q", typ)
}

// leadingType reads the type of a line written by AppendJSON, which puts it first, without a
// second full parse; other layouts fall back to one.
func leadingType(line []byte) (string, bool) {
	const prefix = `{"type":"`
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return "", false
	}
	rest := line[len(prefix):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return "", false
	}
	return string(rest[:end]), true
}
