package probe

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/tracefs"
)

// KernelEvent is a kernel tracepoint iotrace can show. The generic kernel_event program copies
// its record; which records are kept depends on Mode.
type KernelEvent struct {
	Group string
	// Names are tried in order: the first that this kernel has is used (tracepoints renamed
	// between kernels, e.g. io_uring_submit_sqe → io_uring_submit_req).
	Names []string
	Mode  bpf.IotraceIotKevMode
	Learn bool // a traced task raising it makes the file (ino field) traced
	Quiet bool // only remembered, never shown (block_bio_queue ties requests to the task)
	// Field names the BPF side reads, when the mode needs them.
	Ino, Dev, Sector string
	// Lesson says what is unavailable without it.
	Lesson string
}

// Name is the event's primary (newest) name.
func (k KernelEvent) Name() string { return k.Names[0] }

const (
	kevTask  = bpf.IotraceIotKevModeIOT_KEV_TASK
	kevFile  = bpf.IotraceIotKevModeIOT_KEV_FILE
	kevIssue = bpf.IotraceIotKevModeIOT_KEV_REQ_ISSUE
	kevDone  = bpf.IotraceIotKevModeIOT_KEV_REQ_DONE
)

// KernelEvents is every kernel tracepoint iotrace knows, optional all: a kernel without one
// loses that lesson and says so.
var KernelEvents = []KernelEvent{
	{Group: "exceptions", Names: []string{"page_fault_user"}, Mode: kevTask, Lesson: "page faults (x86 only)"},
	{Group: "filemap", Names: []string{"mm_filemap_add_to_page_cache"}, Mode: kevFile, Learn: true, Ino: "i_ino", Lesson: "page-cache fills"},
	{Group: "filemap", Names: []string{"mm_filemap_delete_from_page_cache"}, Mode: kevFile, Learn: true, Ino: "i_ino", Lesson: "page-cache evictions"},
	{Group: "filemap", Names: []string{"mm_filemap_fault"}, Mode: kevTask, Lesson: "file-backed fault details (kernel 6.11+)"},
	{Group: "filemap", Names: []string{"mm_filemap_map_pages"}, Mode: kevTask, Lesson: "fault-around (kernel 6.11+)"},
	{Group: "readahead", Names: []string{"page_cache_sync_ra"}, Mode: kevTask, Lesson: "synchronous readahead windows (kernel 6.18+)"},
	{Group: "readahead", Names: []string{"page_cache_async_ra"}, Mode: kevTask, Lesson: "asynchronous readahead windows (kernel 6.18+)"},
	{Group: "readahead", Names: []string{"page_cache_ra_unbounded"}, Mode: kevTask, Lesson: "forced readahead (WILLNEED) windows (kernel 6.18+)"},
	{Group: "readahead", Names: []string{"page_cache_ra_order"}, Mode: kevTask, Lesson: "the readahead window the kernel used (kernel 6.18+)"},
	{Group: "block", Names: []string{"block_bio_queue"}, Mode: kevIssue, Quiet: true, Dev: "dev", Sector: "sector", Lesson: "block requests kernel threads dispatch for the target"},
	{Group: "block", Names: []string{"block_rq_issue"}, Mode: kevIssue, Dev: "dev", Sector: "sector", Lesson: "block I/O requests"},
	{Group: "block", Names: []string{"block_rq_requeue"}, Mode: kevIssue, Dev: "dev", Sector: "sector", Lesson: "block requests put back to be issued again (each counted once)"},
	{Group: "block", Names: []string{"block_rq_complete"}, Mode: kevDone, Dev: "dev", Sector: "sector", Lesson: "block I/O completions"},
	{Group: "writeback", Names: []string{"writeback_dirty_folio", "writeback_dirty_page"}, Mode: kevFile, Ino: "ino", Lesson: "pages dirtied"},
	{Group: "writeback", Names: []string{"sb_clear_inode_writeback"}, Mode: kevFile, Ino: "ino", Lesson: "a file's writeback finishing"},
	{Group: "kmem", Names: []string{"rss_stat"}, Mode: kevTask, Lesson: "pages mapped and unmapped (fault-around counts, copy-on-write)"},
	{Group: "io_uring", Names: []string{"io_uring_create"}, Mode: kevTask, Lesson: "which io_uring context (ctx on the kernel lines) a ring descriptor is"},
	{Group: "io_uring", Names: []string{"io_uring_submit_req", "io_uring_submit_sqe"}, Mode: kevTask, Lesson: "io_uring submissions"},
	{Group: "io_uring", Names: []string{"io_uring_queue_async_work"}, Mode: kevTask, Lesson: "io_uring punts to io-wq workers"},
	{Group: "io_uring", Names: []string{"io_uring_complete"}, Mode: kevTask, Lesson: "io_uring completions"},
	{Group: "io_uring", Names: []string{"io_uring_cqring_wait"}, Mode: kevTask, Lesson: "io_uring completion waits"},
	// not tracepoints: uprobes on glibc's POSIX AIO entry points (libc.go)
	{Group: "libc", Names: []string{"aio_read"}, Lesson: libcLesson},
	{Group: "libc", Names: []string{"aio_write"}, Lesson: libcLesson},
	{Group: "libc", Names: []string{"aio_fsync"}, Lesson: libcLesson},
}

// schedLesson is what the BTF tracepoints behind off-CPU time (selected as "sched") show.
var schedLesson = "time blocked in syscalls and who woke the thread, time preempted in them"

// KernelEventNames lists what --kernel-events accepts.
func KernelEventNames() []string {
	names := []string{"sched"}
	for _, k := range KernelEvents {
		names = append(names, k.Name())
	}
	return names
}

// KernelEventByName finds a kernel event by its primary name.
func KernelEventByName(name string) (KernelEvent, bool) {
	for _, k := range KernelEvents {
		if k.Name() == name {
			return k, true
		}
	}
	return KernelEvent{}, false
}

// KernelFormat is how the decoder reads one attached kernel event.
type KernelFormat struct {
	Name   string
	Format *tracefs.EventFormat
}

// MissingProbe is a probe this kernel lacks and what that costs.
type MissingProbe struct {
	Name   string
	Lesson string
}

func (m MissingProbe) String() string { return fmt.Sprintf("%s (%s unavailable)", m.Name, m.Lesson) }

// resolve finds the name of k this kernel has and its format.
func (k KernelEvent) resolve() (string, *tracefs.EventFormat, error) {
	var err error
	for _, n := range k.Names {
		var f *tracefs.EventFormat
		if f, err = tracefs.Format(k.Group, n); err == nil {
			return n, f, nil
		}
	}
	return "", nil, err
}

// ErrTracefsAccess: tracefs's files (event formats and ids) are readable by root only, and this
// process has the BPF capabilities without the one that reads them.
var ErrTracefsAccess = errors.New("the tracefs files iotrace reads (/sys/kernel/tracing/events/*/format, id) are readable by root only: run as root, or add CAP_DAC_READ_SEARCH to CAP_BPF and CAP_PERFMON")

// attachKernelEvents configures and attaches the selected kernel events; missing ones are
// recorded, never fatal.
func (s *Set) attachKernelEvents(selected map[string]bool) error {
	s.Kernel = make(map[uint16]KernelFormat)
	for _, k := range KernelEvents {
		if !selected[k.Name()] {
			continue
		}
		if k.Group == "libc" && selected[LibcAuto] {
			continue // the caller did not keep them (LibcAuto)
		}
		if k.Group == "libc" {
			if err := s.attachLibc(k); err != nil {
				return err
			}
			continue
		}
		if k.Name() == "page_fault_user" && PerfFaultsForced() {
			if err := s.attachPerfFaults(); err != nil {
				return err
			}
			continue
		}
		name, f, err := k.resolve()
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && k.Name() == "page_fault_user" {
				if err := s.attachPerfFaults(); err != nil {
					return err
				}
				continue
			}
			if errors.Is(err, os.ErrNotExist) {
				s.Missing = append(s.Missing, MissingProbe{k.Group + ":" + k.Name(), k.Lesson})
				continue
			}
			if errors.Is(err, os.ErrPermission) {
				return ErrTracefsAccess
			}
			return err
		}
		conf, err := kevConf(k, f)
		if err != nil {
			return fmt.Errorf("%s:%s: %w", k.Group, name, err)
		}
		if err := s.objs.KevConf.Put(uint32(f.ID), conf); err != nil {
			return fmt.Errorf("configure %s:%s: %w", k.Group, name, err)
		}
		l, err := link.Tracepoint(k.Group, name, s.objs.KernelEvent, &link.TracepointOptions{Cookie: uint64(f.ID)})
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				s.Missing = append(s.Missing, MissingProbe{k.Group + ":" + k.Name(), k.Lesson})
				continue
			}
			return attachError(k.Group+":"+name, err)
		}
		s.links = append(s.links, l)
		s.Kernel[uint16(f.ID)] = KernelFormat{Name: name, Format: f}
	}
	if selected["sched"] {
		for _, p := range []struct {
			name string
			prog *ebpf.Program
		}{{"sched_switch", s.objs.OnSwitch}, {"sched_wakeup", s.objs.OnWakeup}} {
			l, err := link.AttachTracing(link.TracingOptions{Program: p.prog})
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					s.Missing = append(s.Missing, MissingProbe{"sched:" + p.name, schedLesson})
					continue
				}
				return fmt.Errorf("attach sched:%s: %w", p.name, err)
			}
			s.links = append(s.links, l)
		}
	}
	return nil
}

// kevConf builds the BPF side's view of one event from its format file.
func kevConf(k KernelEvent, f *tracefs.EventFormat) (bpf.IotraceIotKevConf, error) {
	c := bpf.IotraceIotKevConf{Mode: uint8(k.Mode)}
	if k.Learn {
		c.Learn = 1
	}
	if k.Quiet {
		c.Quiet = 1
	}
	end := 0
	for _, fl := range f.Fields {
		if strings.HasPrefix(fl.Type, "__data_loc") {
			continue // variable data lives past the fixed fields; not copied
		}
		end = max(end, fl.Offset+fl.Size)
	}
	c.Size = uint16(min(end, kevCopyMax))
	off := func(name string) (uint16, error) {
		if name == "" {
			return 0, nil
		}
		fl, ok := f.Field(name)
		if !ok {
			return 0, fmt.Errorf("no field %q in its format", name)
		}
		if fl.Offset+8 > kevCopyMax {
			return 0, fmt.Errorf("field %q is past the copied bytes", name)
		}
		return uint16(fl.Offset), nil
	}
	var err error
	if c.InoOff, err = off(k.Ino); err != nil {
		return c, err
	}
	if c.DevOff, err = off(k.Dev); err != nil {
		return c, err
	}
	if c.SectorOff, err = off(k.Sector); err != nil {
		return c, err
	}
	return c, nil
}

// kevCopyMax is what the BPF side copies of one record at most (IOT_KEV_MAX - 8).
const kevCopyMax = 120
