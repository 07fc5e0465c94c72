package probe

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/cilium/ebpf/link"

	"github.com/iotrace/iotrace/internal/tracefs"
)

// LibcAuto in Config.KernelEvents asks for the libc uprobes only where they can matter: the
// caller keeps them when the traced program calls POSIX AIO (UsesPOSIXAIO), and drops them
// otherwise. A uprobe is a breakpoint in every process that maps the library: installing and
// removing it costs each of them a copy of the page, and the trace ~80 ms to start and ~300 ms
// to end.
const LibcAuto = "libc:auto"

// UsesPOSIXAIO reports whether the program at path calls glibc's POSIX AIO: it imports one of
// its functions (dynamic) or has their code (static). A program that loads them otherwise
// (dlopen) is not seen.
func UsesPOSIXAIO(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, list := range []func() ([]elf.Symbol, error){f.DynamicSymbols, f.Symbols} {
		syms, _ := list()
		for _, s := range syms {
			name, _, _ := strings.Cut(s.Name, "@")
			if _, ok := libcIDs[strings.TrimSuffix(name, "64")]; ok {
				return true
			}
		}
	}
	return false
}

// Ids of the POSIX AIO records (IOT_KEV_ID_AIO_* in bpf/iotrace.h), by function.
var libcIDs = map[string]uint16{"aio_read": 0xfffe, "aio_write": 0xfffd, "aio_fsync": 0xfffc}

const libcLesson = "glibc's POSIX AIO requests (uprobes on libc's aio_read, aio_write, aio_fsync), linked to the helper-thread calls that run them"

// libcFormat describes the records the posix_aio program writes (bpf/kernel.bpf.h): the
// aiocb's address and the fields of the request. Addresses are user-space ones ("user_ptr":
// the decoder prints them in hex, not as per-run ids).
func libcFormat(id uint16) *tracefs.EventFormat {
	return &tracefs.EventFormat{ID: int(id), Fields: []tracefs.FormatField{
		{Name: "common_type", Type: "unsigned short", Offset: 0, Size: 2},
		{Name: "aiocb", Type: "user_ptr", Offset: 8, Size: 8},
		{Name: "aio_fildes", Type: "int", Offset: 16, Size: 4, Signed: true},
		{Name: "op", Type: "int", Offset: 20, Size: 4, Signed: true},
		{Name: "aio_buf", Type: "user_ptr", Offset: 24, Size: 8},
		{Name: "aio_nbytes", Type: "size_t", Offset: 32, Size: 8},
		{Name: "aio_offset", Type: "long long", Offset: 40, Size: 8, Signed: true},
	}}
}

// libcPaths are where distributions keep the C library (merged /usr makes some one file).
var libcPaths = []string{
	"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/lib/aarch64-linux-gnu/libc.so.6", "/usr/lib/aarch64-linux-gnu/libc.so.6",
	"/lib64/libc.so.6", "/usr/lib64/libc.so.6", "/usr/lib/libc.so.6", "/lib/libc.so.6",
	// glibc before 2.34 keeps POSIX AIO in librt
	"/lib/x86_64-linux-gnu/librt.so.1", "/usr/lib/x86_64-linux-gnu/librt.so.1",
	"/lib/aarch64-linux-gnu/librt.so.1", "/lib64/librt.so.1", "/usr/lib64/librt.so.1",
}

// attachLibc puts a uprobe on function k in every distinct libc (and executable) that defines
// it. A file without the symbol is skipped; no file at all, or no uprobe support, makes the
// event missing, never the run fail.
func (s *Set) attachLibc(k KernelEvent) error {
	fn, id := k.Name(), libcIDs[k.Name()]
	seen := map[[2]uint64]bool{}
	var attached int
	var lastErr error
	for _, path := range append(append([]string(nil), libcPaths...), s.executables...) {
		st, err := os.Stat(path)
		if err != nil {
			continue
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		key := [2]uint64{uint64(sys.Dev), sys.Ino}
		if seen[key] {
			continue
		}
		seen[key] = true
		ex, err := link.OpenExecutable(path)
		if err != nil {
			continue // not an ELF file
		}
		l, err := ex.Uprobe(fn, s.objs.PosixAio, &link.UprobeOptions{Cookie: uint64(id)})
		if errors.Is(err, link.ErrNoSymbol) {
			continue
		}
		if err != nil {
			lastErr = fmt.Errorf("uprobe %s in %s: %w", fn, path, err)
			continue
		}
		s.links = append(s.links, l)
		attached++
	}
	if attached == 0 {
		lesson := k.Lesson
		if lastErr != nil {
			lesson += "; " + lastErr.Error()
		}
		s.Missing = append(s.Missing, MissingProbe{k.Group + ":" + fn, lesson})
		return nil
	}
	s.Kernel[id] = KernelFormat{Name: fn, Format: libcFormat(id)}
	return nil
}
