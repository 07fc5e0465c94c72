// Package callfmt writes a syscall the way strace does — name(args…) = ret — from an event and
// the syscall table's argument types. The text, HTML and Perfetto renderers share it, so a call
// reads the same everywhere, live or re-rendered from a recording.
package callfmt

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// Call formats s without its result: `writev(3</tmp/x>, [{iov_base="HEADER: ", iov_len=8}], 1)`.
func Call(s *event.Syscall, arch string) string {
	if s.EntryLost {
		return s.Name + "(/* arguments unknown: the entry was not seen */)"
	}
	spec := syscalls.SpecFor(arch, s.Name)
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteByte('(')
	first := true
	for i, a := range s.Args {
		t := spec.ArgType(i)
		if _, none := s.Decoded.Get(a.Name + "_none"); t == syscalls.Omit || none || openMode(s, a) {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		writeArg(&b, t, a, s.Decoded)
		if _, decoded := s.Decoded.Get(a.Name); s.CaptureLost && !decoded && isPointer(t) && a.Value != 0 {
			// the memory behind it was copied at entry, and that copy was lost
			b.WriteString(" /* capture lost */")
		}
	}
	b.WriteByte(')')
	return b.String()
}

// openMode: a of open/openat is the mode, which the kernel reads only with O_CREAT or
// O_TMPFILE (strace leaves it out otherwise). The flags share their values on both arches.
func openMode(s *event.Syscall, a event.Arg) bool {
	if a.Name != "mode" || s.Name != "open" && s.Name != "openat" {
		return false
	}
	const oCreat, oTmpfile = 0o100, 0o20000000
	flags, ok := s.Arg("flags")
	return ok && flags&(oCreat|oTmpfile) == 0
}

// Result formats the outcome: "38", "-1 EAGAIN", "3</tmp/x>", "0x7f…" for addresses, "?" for a
// call that never returned.
func Result(s *event.Syscall, arch string) string {
	switch {
	case s.Unfinished:
		return "?"
	case s.Errno != "":
		return errnoResult(s)
	}
	if spec := syscalls.SpecFor(arch, s.Name); spec != nil && spec.RetHex {
		return hex(uint64(s.Ret))
	}
	r := strconv.FormatInt(s.Ret, 10)
	if p, ok := s.Decoded.Str("ret"); ok {
		return r + "<" + p + ">"
	}
	if f, ok := s.Decoded.Str("ret_flags"); ok {
		if s.Ret != 0 {
			r = hex(uint64(s.Ret))
		}
		return r + " (flags " + f + ")" // fcntl F_GETFL, F_GETFD
	}
	if s.Ret > 0 {
		if v, ok := s.Decoded.Get("ufds"); ok && (s.Name == "poll" || s.Name == "ppoll") {
			return r + " (" + pollResult(v) + ")"
		}
	}
	return r
}

// pollResult lists the descriptors poll found ready, as strace does: [{fd=3, revents=POLLIN}].
func pollResult(v any) string {
	var b strings.Builder
	list, _ := v.([]any)
	b.WriteByte('[')
	n := 0
	for _, e := range list {
		f, _ := e.(event.Fields)
		rev, _ := f.Str("revents")
		if rev == "" || rev == "0" {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		fd, _ := f.Int("fd")
		b.WriteString("{fd=" + strconv.FormatInt(fd, 10) + ", revents=" + rev + "}")
	}
	b.WriteByte(']')
	return b.String()
}

// restartText are the kernel's internal restart codes, which a signal handler's return turns
// into a restart or EINTR: strace prints the call's result as "?" with these texts.
var restartText = map[string]string{
	"ERESTARTSYS":           "To be restarted if SA_RESTART is set",
	"ERESTARTNOINTR":        "To be restarted",
	"ERESTARTNOHAND":        "To be restarted if no handler",
	"ERESTART_RESTARTBLOCK": "Interrupted by signal",
}

// errnoResult is a failed call's result as strace prints it: "-1 ENOENT (No such file or
// directory)", the text libc's strerror gives.
func errnoResult(s *event.Syscall) string {
	if t, ok := restartText[s.Errno]; ok {
		return "? " + s.Errno + " (" + t + ")"
	}
	n := -s.Ret
	if n <= 0 || n > 4095 {
		return "-1 " + s.Errno
	}
	t := syscall.Errno(n).Error()
	if t == "" || strings.HasPrefix(t, "errno ") {
		return "-1 " + s.Errno
	}
	return "-1 " + s.Errno + " (" + strings.ToUpper(t[:1]) + t[1:] + ")"
}

func writeArg(b *strings.Builder, t syscalls.ArgType, a event.Arg, dec event.Fields) {
	v, ok := dec.Get(a.Name)
	switch t {
	case syscalls.FD, syscalls.DirFD:
		if s, isStr := v.(string); ok && isStr && s == "AT_FDCWD" {
			b.WriteString(s)
			if cwd, ok := dec.Str(a.Name + "_cwd"); ok {
				b.WriteString("<" + cwd + ">") // strace -y: the directory it stands for
			}
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
	case syscalls.Int32:
		b.WriteString(strconv.FormatInt(int64(int32(a.Value)), 10))
		return
	case syscalls.Offset:
		if a.Value == 0 {
			b.WriteString("0")
		} else {
			b.WriteString(hex(a.Value))
		}
		return
	case syscalls.Uint:
		b.WriteString(strconv.FormatUint(a.Value, 10))
		return
	case syscalls.Hex:
		b.WriteString(ptr(a.Value))
		return
	case syscalls.Envp:
		b.WriteString(ptr(a.Value))
		if n, ok := dec.Int(a.Name + "_vars"); ok && a.Value != 0 {
			b.WriteString(" /* " + strconv.FormatInt(n, 10) + " vars */") // as strace shows it without -v
		}
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
		_, cut := dec.Get(a.Name + "_cut")
		writeQuoted(b, v, cut)
	case syscalls.Buf, syscalls.BufHex:
		if f, isObj := v.(event.Fields); isObj {
			d, _ := f.Str("data")
			_, trunc := f.Get("trunc")
			writeQuoted(b, d, trunc)
		}
	case syscalls.IOV:
		// an array that could not be read (NULL, unmapped) shows as its address, as strace does
		if list, _ := v.([]any); len(list) == 0 {
			if n, _ := dec.Int(a.Name + "_more"); n > 0 || a.Value == 0 {
				b.WriteString(ptr(a.Value))
				return
			}
		}
		writeIOV(b, v, a)
		writeMore(b, dec, a.Name)
	case syscalls.Argv:
		writeList(b, v, func(e any) {
			if f, cut := e.(event.Fields); cut { // a string the snap length cut
				d, _ := f.Str("data")
				writeQuoted(b, d, true)
				return
			}
			writeQuoted(b, e, false)
		})
	case syscalls.SockAddr:
		writeSockAddr(b, v)
	case syscalls.Stat:
		// strace without -v: the type, mode and size, then "..."
		f, _ := v.(event.Fields)
		b.WriteByte('{')
		for _, kv := range f {
			b.WriteString(kv.Key + "=")
			writeValue(b, kv.Val)
			b.WriteString(", ")
		}
		b.WriteString("...}")
	case syscalls.IntPtr:
		b.WriteByte('[') // strace shows what the kernel wrote there: [16]
		writeValue(b, v)
		b.WriteByte(']')
	case syscalls.PipeFDs:
		// strace -y: [3<pipe:[N]>, 4<pipe:[N]>]
		paths, _ := dec.Get(a.Name + "_path")
		labels, _ := paths.([]any)
		i := 0
		writeList(b, v, func(e any) {
			writeValue(b, e)
			if i < len(labels) {
				if l, ok := labels[i].(string); ok && l != "" {
					b.WriteString("<" + l + ">")
				}
			}
			i++
		})
	case syscalls.AIOContext:
		b.WriteByte('[') // io_setup writes the context through the pointer: strace shows [0x7f…]
		writeValue(b, v)
		b.WriteByte(']')
	case syscalls.EpollEvent:
		writeEpollEvent(b, v)
	case syscalls.EpollEvents:
		writeList(b, v, func(e any) { writeEpollEvent(b, e) })
		writeMore(b, dec, a.Name)
	case syscalls.PollFDs:
		// revents are the call's result (strace prints them after "=")
		writeList(b, v, func(e any) {
			f, _ := e.(event.Fields)
			fd, _ := f.Int("fd")
			ev, _ := f.Str("events")
			b.WriteString("{fd=" + strconv.FormatInt(fd, 10) + ", events=" + ev + "}")
		})
		writeMore(b, dec, a.Name)
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
	case syscalls.Path, syscalls.Buf, syscalls.BufHex, syscalls.IOV, syscalls.OpenHow, syscalls.EpollEvent, syscalls.EpollEvents,
		syscalls.PipeFDs, syscalls.SockAddr, syscalls.IOCBs, syscalls.IOEvents, syscalls.AIOContext,
		syscalls.UringParams, syscalls.Argv, syscalls.PollFDs, syscalls.WaitStatus, syscalls.IntPtr, syscalls.Stat, syscalls.SigAction, syscalls.SigSet, syscalls.Rlimit:
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
		b.WriteString("{iov_base=")
		if base, ok := f.Str("base"); ok {
			b.WriteString(base) // unreadable: its address, as strace prints it
		} else {
			writeQuoted(b, d, trunc)
		}
		b.WriteString(", iov_len=")
		writeValue(b, lenOf(f)) // a size_t: SIZE_MAX prints as strace prints it, not -1
		b.WriteByte('}')
	}
	b.WriteByte(']')
}

// lenOf is an iovec's length as decoded (uint64 live, a JSON number read back).
func lenOf(f event.Fields) any {
	v, _ := f.Get("len")
	if n, ok := v.(int64); ok && n < 0 {
		return uint64(n)
	}
	return v
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
		port := ", sin_port=htons("
		if fam == "AF_INET6" {
			port = ", sin6_port=htons("
		}
		b.WriteString(port + strconv.FormatInt(p, 10) + ")")
	}
	if a, ok := f.Str("addr"); ok {
		if fam == "AF_INET6" {
			b.WriteString(", inet_pton(AF_INET6, \"" + a + "\", &sin6_addr)")
		} else {
			b.WriteString(", sin_addr=inet_addr(\"" + a + "\")")
		}
	}
	if p, ok := f.Str("path"); ok {
		b.WriteString(", sun_path=\"" + p + "\"")
	}
	b.WriteByte('}')
}

// writeEpollEvent prints a struct epoll_event as strace does: {events=EPOLLIN, data={u32=3,
// u64=3}} (data is a union).
func writeEpollEvent(b *strings.Builder, v any) {
	f, ok := v.(event.Fields)
	if !ok {
		writeValue(b, v)
		return
	}
	ev, _ := f.Str("events")
	b.WriteString("{events=" + ev)
	if d, ok := f.Get("data"); ok {
		var u uint64
		switch x := d.(type) {
		case uint64:
			u = x
		case int64:
			u = uint64(x)
		}
		b.WriteString(", data={u32=" + strconv.FormatUint(u&0xffffffff, 10) + ", u64=" + strconv.FormatUint(u, 10) + "}")
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
