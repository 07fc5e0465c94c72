package aio

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// io_uring ABI from <linux/io_uring.h>.
const (
	ioringSetupSQPoll      = 1 << 1 // IORING_SETUP_SQPOLL
	ioringFeatSingleMmap   = 1 << 0 // IORING_FEAT_SINGLE_MMAP
	ioringFeatSQPollNonfix = 1 << 7 // IORING_FEAT_SQPOLL_NONFIXED
	ioringEnterGetEvents   = 1 << 0 // IORING_ENTER_GETEVENTS
	ioringEnterSQWakeup    = 1 << 1 // IORING_ENTER_SQ_WAKEUP
	ioringSQNeedWakeup     = 1 << 0 // IORING_SQ_NEED_WAKEUP
	ioringOffSQRing        = 0
	ioringOffCQRing        = 0x8000000
	ioringOffSQEs          = 0x10000000
	ioringOpRead           = 22 // IORING_OP_READ (5.6+)
	ioringOpWrite          = 23 // IORING_OP_WRITE (5.6+)
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// uringParams is struct io_uring_params.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

// sqe is struct io_uring_sqe for plain reads and writes.
type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	rwFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFdIn  int32
	addr3       uint64
	pad         uint64
}

// cqe is struct io_uring_cqe.
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// The kernel ABI sizes; a mistake here fails the build.
var (
	_ [120 - unsafe.Sizeof(uringParams{})]byte
	_ [unsafe.Sizeof(uringParams{}) - 120]byte
	_ [64 - unsafe.Sizeof(sqe{})]byte
	_ [unsafe.Sizeof(sqe{}) - 64]byte
	_ [16 - unsafe.Sizeof(cqe{})]byte
	_ [unsafe.Sizeof(cqe{}) - 16]byte
)

// ring is one io_uring instance with its three shared mappings.
type ring struct {
	fd      int
	params  uringParams
	maps    [][]byte
	sqTail  *uint32
	sqMask  uint32
	sqFlags *uint32
	sqArray []uint32
	sqes    []sqe
	cqHead  *uint32
	cqTail  *uint32
	cqMask  uint32
	cqes    []cqe
	enters  int // io_uring_enter calls made
}

// setupRing calls io_uring_setup and maps the rings. The returned error
// wraps the raw errno, so callers can tell "not permitted" apart.
func setupRing(entries uint32, flags, idleMillis uint32) (*ring, error) {
	r := &ring{params: uringParams{flags: flags, sqThreadIdle: idleMillis}}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&r.params)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r.fd = int(fd)
	p := &r.params
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(cqe{})))
	if p.features&ioringFeatSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	sqRing, err := r.mmap(ioringOffSQRing, sqSize)
	if err != nil {
		return nil, err
	}
	cqRing := sqRing
	if p.features&ioringFeatSingleMmap == 0 {
		if cqRing, err = r.mmap(ioringOffCQRing, cqSize); err != nil {
			return nil, err
		}
	}
	sqesMap, err := r.mmap(ioringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})))
	if err != nil {
		return nil, err
	}

	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqTail = u32(sqRing, p.sqOff.tail)
	r.sqMask = *u32(sqRing, p.sqOff.ringMask)
	r.sqFlags = u32(sqRing, p.sqOff.flags)
	r.sqArray = unsafe.Slice(u32(sqRing, p.sqOff.array), p.sqEntries)
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&sqesMap[0])), p.sqEntries)
	r.cqHead = u32(cqRing, p.cqOff.head)
	r.cqTail = u32(cqRing, p.cqOff.tail)
	r.cqMask = *u32(cqRing, p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&cqRing[p.cqOff.cqes])), p.cqEntries)
	return r, nil
}

func (r *ring) mmap(off int64, size int) ([]byte, error) {
	m, err := unix.Mmap(r.fd, off, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("mmap io_uring region %#x: %w", off, err)
	}
	r.maps = append(r.maps, m)
	return m, nil
}

func (r *ring) close() {
	for _, m := range r.maps {
		unix.Munmap(m)
	}
	unix.Close(r.fd)
}

// push queues one SQE. Only this goroutine writes the SQ tail; the atomic
// store publishes the entry to the kernel (or the SQPOLL thread).
func (r *ring) push(e sqe) {
	tail := atomic.LoadUint32(r.sqTail)
	idx := tail & r.sqMask
	r.sqes[idx] = e
	r.sqArray[idx] = idx
	atomic.StoreUint32(r.sqTail, tail+1)
}

// enter calls io_uring_enter(fd, toSubmit, minComplete, flags).
func (r *ring) enter(toSubmit, minComplete, flags uint32) (int, error) {
	for {
		r.enters++
		n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, fmt.Errorf("io_uring_enter: %w", errno)
		}
		return int(n), nil
	}
}

// reap takes every CQE the kernel has posted.
func (r *ring) reap() []cqe {
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail)
	var got []cqe
	for ; head != tail; head++ {
		got = append(got, r.cqes[head&r.cqMask])
	}
	atomic.StoreUint32(r.cqHead, head)
	return got
}

// uringResult is what a ring run saw.
type uringResult struct {
	skipped string // why the variant did nothing, if it did nothing
	writes  int    // successful write completions
	reads   int    // successful read completions
	enters  int    // io_uring_enter calls
}

func runUring(env *workloads.Env) error  { _, err := uring(env, false); return err }
func runSQPoll(env *workloads.Env) error { _, err := uring(env, true); return err }

// uring writes Count blocks (default 4) through an io_uring, evicts the
// file, and reads them back: one batch of SQEs per phase. Without SQPOLL
// each batch is one io_uring_enter that submits and waits; with SQPOLL the
// kernel's poller thread picks the SQEs up and this code only watches the
// completion ring.
func uring(env *workloads.Env, sqpoll bool) (uringResult, error) {
	var res uringResult
	size, offsets := ops(env)
	var flags, idle uint32
	if sqpoll {
		flags, idle = ioringSetupSQPoll, 500 // the poller stays awake 500 ms after its last work
	}
	r, err := setupRing(uint32(len(offsets)), flags, idle)
	var errno unix.Errno
	if errors.As(err, &errno) && (errno == unix.EPERM || errno == unix.EINVAL || errno == unix.ENOSYS || errno == unix.ENOMEM) {
		what := "io_uring"
		if sqpoll {
			what = "io_uring with SQPOLL"
		}
		res.skipped = fmt.Sprintf("%s is not available here: io_uring_setup = %s", what, workloads.ErrnoName(errno))
		env.Printf("%s", res.skipped)
		return res, nil
	}
	if err != nil {
		return res, err
	}
	defer r.close()
	if sqpoll && r.params.features&ioringFeatSQPollNonfix == 0 {
		res.skipped = "this kernel's SQPOLL needs registered files (no IORING_FEAT_SQPOLL_NONFIXED); not shown"
		env.Printf("%s", res.skipped)
		return res, nil
	}
	env.Printf("io_uring_setup: %d SQ entries, %d CQ entries, flags %#x, features %#x",
		r.params.sqEntries, r.params.cqEntries, r.params.flags, r.params.features)

	fd, err := unix.Open(env.Path("uring.dat"), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("create uring.dat: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, size); err != nil {
		return res, fmt.Errorf("ftruncate: %w", err)
	}

	wbuf := make([]byte, len(offsets)*blockSize)
	for i, off := range offsets {
		for j := range blockSize {
			wbuf[i*blockSize+j] = workloads.PatternByte(off + int64(j))
		}
	}
	if res.writes, err = batch(r, fd, ioringOpWrite, wbuf, offsets, sqpoll); err != nil {
		return res, fmt.Errorf("writes: %w", err)
	}
	env.Printf("%d writes of %d bytes completed", res.writes, blockSize)

	if err := workloads.Evict(fd); err != nil {
		return res, err
	}
	rbuf := make([]byte, len(offsets)*blockSize)
	if res.reads, err = batch(r, fd, ioringOpRead, rbuf, offsets, sqpoll); err != nil {
		return res, fmt.Errorf("reads: %w", err)
	}
	for i, off := range offsets {
		if err := checkBlock(rbuf[i*blockSize:(i+1)*blockSize], off); err != nil {
			return res, err
		}
	}
	env.Printf("%d reads of %d bytes from the cold file completed", res.reads, blockSize)

	res.enters = r.enters
	if sqpoll {
		env.Printf("SQPOLL: %d operations with %d io_uring_enter calls; the kernel's poller thread submitted them", res.writes+res.reads, res.enters)
	} else {
		env.Printf("%d operations with %d io_uring_enter calls", res.writes+res.reads, res.enters)
	}
	return res, nil
}

// batch queues one read or write SQE per offset and collects their CQEs.
func batch(r *ring, fd int, op uint8, buf []byte, offsets []int64, sqpoll bool) (int, error) {
	for i, off := range offsets {
		r.push(sqe{
			opcode:   op,
			fd:       int32(fd),
			off:      uint64(off),
			addr:     uint64(uintptr(unsafe.Pointer(&buf[i*blockSize]))),
			len:      blockSize,
			userData: uint64(i),
		})
	}
	n := uint32(len(offsets))
	var got []cqe
	if sqpoll {
		// The poller may have gone to sleep; only then is a syscall needed.
		if atomic.LoadUint32(r.sqFlags)&ioringSQNeedWakeup != 0 {
			if _, err := r.enter(0, 0, ioringEnterSQWakeup); err != nil {
				return 0, err
			}
		}
		deadline := time.Now().Add(2 * time.Second)
		for len(got) < len(offsets) {
			got = append(got, r.reap()...)
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("%d of %d completions after 2s", len(got), len(offsets))
			}
			runtime.Gosched()
		}
	} else {
		if _, err := r.enter(n, n, ioringEnterGetEvents); err != nil {
			return 0, err
		}
		got = r.reap()
	}
	runtime.KeepAlive(buf)
	for _, c := range got {
		if c.res != blockSize {
			if c.res < 0 {
				return 0, fmt.Errorf("op %d: %w", c.userData, unix.Errno(-c.res))
			}
			return 0, fmt.Errorf("op %d transferred %d bytes, want %d", c.userData, c.res, blockSize)
		}
	}
	if len(got) != len(offsets) {
		return 0, fmt.Errorf("%d completions, want %d", len(got), len(offsets))
	}
	return len(got), nil
}
