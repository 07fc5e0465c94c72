// Package callfmt writes a syscall the way strace does — name(args…) = ret — from an event and
// the syscall table's argument types. The text, HTML and Perfetto renderers share it, so a call
// reads the same everywhere, live or re-rendered from a recording.
package callfmt

import (
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Call formats s without its result: `writev(3</tmp/x>, [{iov_base="HEADER: ", iov_len=8}], 1)`.
func Call(s *event.Syscall, arch string) string {
	spec := syscalls.SpecFor(arch, s.Name)
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteByte('(')
	for i, a := range s.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		writeArg(&b, spec.ArgType(i), a, s.Decoded)
	}
	b.WriteByte(')')
	return b.String()
}

// Result formats the outcome: "38", "-1 EAGAIN", "3</tmp/x>", "0x7f…" for addresses, "?" for a
// call that never returned.
func Result(s *event.Syscall, arch string) string {
	switch {
	case s.Unfinished:
		return "?"
	case s.Errno != "":
		return "-1 " + s.Errno
	}
	if spec := syscalls.SpecFor(arch, s.Name); spec != nil && spec.RetHex {
		return hex(uint64(s.Ret))
	}
	r := strconv.FormatInt(s.Ret, 10)
	if p, ok := s.Decoded.Str("ret"); ok {
		return r + "<" + p + ">"
	}
	return r
}

func writeArg(b *strings.Builder, t syscalls.ArgType, a event.Arg, dec event.Fields) {
	v, ok := dec.Get(a.Name)
	switch t {
	case syscalls.FD, syscalls.DirFD:
		if s, isStr := v.(string); ok && isStr && s == "AT_FDCWD" {
			b.WriteString(s)
			return
		}
		b.WriteString(strconv.FormatInt(int64(int32(a.Value)), 10))
		if s, isStr := v.(string); ok && isStr {
			b.WriteString("<" + s + ">")
		}
		return
	case syscalls.Int:
		b.WriteString(plain(a.Value))
		return
	case syscalls.Uint:
		b.WriteString(strconv.FormatUint(a.Value, 10))
		return
	case syscalls.Hex:
		b.WriteString(ptr(a.Value))
		return
	}
	if !ok {
		if t == syscalls.Octal {
			b.WriteString("0" + strconv.FormatUint(a.Value, 8))
			return
		}
		// a pointer whose memory was not captured (a failed call, or nothing to copy)
		if isPointer(t) {
			b.WriteString(ptr(a.Value))
			return
		}
		b.WriteString(plain(a.Value))
		return
	}
	switch t {
	case syscalls.Path, syscalls.PrctlArg:
		writeQuoted(b, v, false)
	case syscalls.Buf:
		if f, isObj := v.(event.Fields); isObj {
			d, _ := f.Str("data")
			_, trunc := f.Get("trunc")
			writeQuoted(b, d, trunc)
		}
	case syscalls.IOV:
		writeIOV(b, v, a)
		writeMore(b, dec, a.Name)
	case syscalls.Argv:
		writeList(b, v, func(e any) { writeQuoted(b, e, false) })
	case syscalls.SockAddr:
		writeSockAddr(b, v)
	default:
		writeValue(b, v)
		writeMore(b, dec, a.Name)
	}
}

// writeMore marks a list cut short by the capture limits, as strace does: [..., ...].
func writeMore(b *strings.Builder, dec event.Fields, name string) {
	if n, ok := dec.Int(name + "_more"); ok && n > 0 {
		s := b.String()
		if strings.HasSuffix(s, "]") {
			b.Reset()
			b.WriteString(s[:len(s)-1])
			b.WriteString(", ... /* " + strconv.FormatInt(n, 10) + " more */]")
		}
	}
}

func isPointer(t syscalls.ArgType) bool {
	switch t {
	case syscalls.Path, syscalls.Buf, syscalls.IOV, syscalls.OpenHow, syscalls.EpollEvent, syscalls.EpollEvents,
		syscalls.PipeFDs, syscalls.SockAddr, syscalls.IOCBs, syscalls.IOEvents, syscalls.AIOContext,
		syscalls.UringParams, syscalls.Argv, syscalls.PollFDs:
		return true
	}
	return false
}

// plain prints an int as strace does: decimal when it fits a (sign-extended) int32 or is a
// small count, hex otherwise.
func plain(v uint64) string {
	if n := int64(v); int64(int32(v)) == n || (n >= 0 && n < 1<<32) {
		return strconv.FormatInt(n, 10)
	}
	return hex(v)
}

func ptr(v uint64) string {
	if v == 0 {
		return "NULL"
	}
	return hex(v)
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

func writeQuoted(b *strings.Builder, v any, trunc bool) {
	s, _ := v.(string)
	b.WriteByte('"')
	b.WriteString(s) // decoders escape content strace-style already
	b.WriteByte('"')
	if trunc {
		b.WriteString("...")
	}
}

func writeIOV(b *strings.Builder, v any, a event.Arg) {
	list, _ := v.([]any)
	b.WriteByte('[')
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		f, _ := e.(event.Fields)
		d, _ := f.Str("data")
		_, trunc := f.Get("trunc")
		n, _ := f.Int("len")
		b.WriteString("{iov_base=")
		writeQuoted(b, d, trunc)
		b.WriteString(", iov_len=" + strconv.FormatInt(n, 10) + "}")
	}
	b.WriteByte(']')
}

func writeSockAddr(b *strings.Builder, v any) {
	f, ok := v.(event.Fields)
	if !ok {
		writeValue(b, v)
		return
	}
	fam, _ := f.Str("family")
	b.WriteString("{sa_family=" + fam)
	if p, ok := f.Int("port"); ok {
		b.WriteString(", sin_port=htons(" + strconv.FormatInt(p, 10) + ")")
	}
	if a, ok := f.Str("addr"); ok {
		b.WriteString(", addr=\"" + a + "\"")
	}
	if p, ok := f.Str("path"); ok {
		b.WriteString(", sun_path=\"" + p + "\"")
	}
	b.WriteByte('}')
}

func writeList(b *strings.Builder, v any, each func(any)) {
	list, _ := v.([]any)
	b.WriteByte('[')
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		each(e)
	}
	b.WriteByte(']')
}

// writeValue prints decoded values generically: names bare, objects as {k=v, …}, lists as [...].
func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case string:
		b.WriteString(x)
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case event.Fields:
		b.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(kv.Key + "=")
			writeValue(b, kv.Val)
		}
		b.WriteByte('}')
	case []any:
		writeList(b, x, func(e any) { writeValue(b, e) })
	}
}
