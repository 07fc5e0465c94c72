package aio

import (
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// iocb is struct iocb from <linux/aio_abi.h> for little-endian machines,
// where aio_key comes before aio_rw_flags.
type iocb struct {
	data      uint64 // aio_data, returned in the event
	key       uint32
	rwFlags   uint32
	opcode    uint16
	reqprio   int16
	fildes    uint32
	buf       uint64
	nbytes    uint64
	offset    int64
	reserved2 uint64
	flags     uint32
	resfd     uint32
}

// ioEvent is struct io_event.
type ioEvent struct {
	data uint64
	obj  uint64
	res  int64
	res2 int64
}

// The kernel ABI sizes; a mistake here fails the build.
var (
	_ [64 - unsafe.Sizeof(iocb{})]byte
	_ [unsafe.Sizeof(iocb{}) - 64]byte
	_ [32 - unsafe.Sizeof(ioEvent{})]byte
	_ [unsafe.Sizeof(ioEvent{}) - 32]byte
)

const iocbCmdPread = 0 // IOCB_CMD_PREAD

// nativeResult is what a native AIO run saw.
type nativeResult struct {
	skipped     string // why the variant did nothing, if it did nothing
	submitted   int
	submitDur   time.Duration
	getDur      time.Duration
	doneAtOnce  int // completions already there when io_submit returned
	completions int
}

func runNative(env *workloads.Env) error       { _, err := native(env, false); return err }
func runNativeDirect(env *workloads.Env) error { _, err := native(env, true); return err }

// native reads blocks of a cold file with native AIO. Buffered, the reads
// run synchronously inside io_submit; with O_DIRECT, io_submit only queues
// block requests and io_getevents waits for them.
func native(env *workloads.Env, direct bool) (nativeResult, error) {
	var res nativeResult
	size, offsets := ops(env)
	if err := createFile(env, "aio.dat", size, true); err != nil {
		return res, err
	}
	flags, kind := unix.O_RDONLY|unix.O_CLOEXEC, "buffered"
	if direct {
		flags, kind = flags|unix.O_DIRECT, "O_DIRECT"
	}
	fd, err := unix.Open(env.Path("aio.dat"), flags, 0)
	if errors.Is(err, unix.EINVAL) && direct {
		res.skipped = "this filesystem refuses O_DIRECT (open = EINVAL)"
		env.Printf("%s", res.skipped)
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("open aio.dat %s: %w", kind, err)
	}
	defer unix.Close(fd)

	var ctx uintptr // aio_context_t, must be zero for io_setup
	if _, _, errno := unix.Syscall(unix.SYS_IO_SETUP, uintptr(len(offsets)), uintptr(unsafe.Pointer(&ctx)), 0); errno != 0 {
		return res, fmt.Errorf("io_setup: %w", errno)
	}
	defer unix.Syscall(unix.SYS_IO_DESTROY, ctx, 0, 0)

	buf := alignedBuffer(len(offsets)*blockSize, blockSize)
	cbs := make([]iocb, len(offsets))
	ptrs := make([]*iocb, len(offsets))
	for i, off := range offsets {
		cbs[i] = iocb{
			data:   uint64(i),
			opcode: iocbCmdPread,
			fildes: uint32(fd),
			buf:    uint64(uintptr(unsafe.Pointer(&buf[i*blockSize]))),
			nbytes: blockSize,
			offset: off,
		}
		ptrs[i] = &cbs[i]
	}

	start := time.Now()
	r, _, errno := unix.Syscall(unix.SYS_IO_SUBMIT, ctx, uintptr(len(ptrs)), uintptr(unsafe.Pointer(&ptrs[0])))
	res.submitDur = time.Since(start)
	if errno != 0 {
		return res, fmt.Errorf("io_submit: %w", errno)
	}
	res.submitted = int(r)

	// A zero-timeout peek shows which reads were already done when
	// io_submit returned; then wait for the rest.
	events := make([]ioEvent, len(offsets))
	var zero unix.Timespec
	n, err := getEvents(ctx, 0, events, &zero)
	if err != nil {
		return res, err
	}
	res.doneAtOnce = n
	timeout := unix.NsecToTimespec(int64(2 * time.Second))
	start = time.Now()
	for res.completions = n; res.completions < res.submitted; {
		m, err := getEvents(ctx, res.submitted-res.completions, events[res.completions:], &timeout)
		if err != nil {
			return res, err
		}
		if m == 0 {
			return res, fmt.Errorf("io_getevents: %d of %d reads still pending after 2s", res.submitted-res.completions, res.submitted)
		}
		res.completions += m
	}
	res.getDur = time.Since(start)
	runtime.KeepAlive(cbs)

	for _, ev := range events[:res.completions] {
		if ev.res != blockSize {
			return res, fmt.Errorf("read %d completed with %d, want %d", ev.data, ev.res, blockSize)
		}
		i := int(ev.data)
		if err := checkBlock(buf[i*blockSize:(i+1)*blockSize], offsets[i]); err != nil {
			return res, err
		}
	}
	env.Printf("%s: io_submit of %d reads of %d bytes took %v; %d were already complete when it returned",
		kind, res.submitted, blockSize, res.submitDur.Round(time.Microsecond), res.doneAtOnce)
	env.Printf("%s: io_getevents collected the other %d in %v", kind, res.completions-res.doneAtOnce, res.getDur.Round(time.Microsecond))
	return res, nil
}

// getEvents calls io_getevents(ctx, minNr, len(events), events, timeout).
func getEvents(ctx uintptr, minNr int, events []ioEvent, timeout *unix.Timespec) (int, error) {
	for {
		r, _, errno := unix.Syscall6(unix.SYS_IO_GETEVENTS, ctx, uintptr(minNr), uintptr(len(events)),
			uintptr(unsafe.Pointer(&events[0])), uintptr(unsafe.Pointer(timeout)), 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, fmt.Errorf("io_getevents: %w", errno)
		}
		return int(r), nil
	}
}
