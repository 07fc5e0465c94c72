// Package ring consumes iotrace's BPF ring buffer in place. It maps the ring into memory, as
// libbpf does, and hands out spans of committed records exactly as the kernel wrote them —
// each one behind its 8-byte ring header — so a recorder can write them to a file in one call
// per batch, without decoding or copying record by record.
package ring

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// The ring's record header (kernel/bpf/ringbuf.c): a 32-bit length whose top two bits say the
// record is still being written (busy) or was discarded, then a 32-bit page offset.
const (
	HeaderSize = 8
	BusyBit    = 1 << 31
	DiscardBit = 1 << 30
)

// Ring is a mapped BPF ring buffer. Only one goroutine may call Span and Release.
type Ring struct {
	cons, data []byte // consumer page (read-write); producer page + data (read-only)
	consPos    *uint64
	prodPos    *uint64
	// ring is the data area, mapped once: the kernel offers it twice over, so that a record
	// that wraps around the end reads contiguously, but every page mapped counts in iotrace's
	// memory, and spans handed out in two parts need no second view.
	ring   []byte
	mask   uint64
	epfd   int
	stopfd int // an eventfd: Stop makes Wait return
}

// Open maps the ring buffer map m.
func Open(m *ebpf.Map) (*Ring, error) {
	if m.Type() != ebpf.RingBuf {
		return nil, fmt.Errorf("map %s is a %s, not a ring buffer", m, m.Type())
	}
	size := int(m.MaxEntries())
	page := os.Getpagesize()
	cons, err := unix.Mmap(m.FD(), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map the ring's consumer page: %w", err)
	}
	data, err := unix.Mmap(m.FD(), int64(page), page+size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		_ = unix.Munmap(cons)
		return nil, fmt.Errorf("map the ring's data pages: %w", err)
	}
	r := &Ring{
		cons:    cons,
		data:    data,
		consPos: (*uint64)(unsafe.Pointer(&cons[0])),
		prodPos: (*uint64)(unsafe.Pointer(&data[0])),
		ring:    data[page:],
		mask:    uint64(size - 1),
		epfd:    -1,
		stopfd:  -1,
	}
	if err := r.poller(m.FD()); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Ring) poller(mapFD int) error {
	var err error
	if r.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("epoll for the ring: %w", err)
	}
	if r.stopfd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return fmt.Errorf("eventfd for the ring: %w", err)
	}
	for _, fd := range []int{mapFD, r.stopfd} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return fmt.Errorf("epoll for the ring: %w", err)
		}
	}
	return nil
}

// Size is the ring's data size in bytes.
func (r *Ring) Size() int { return int(r.mask + 1) }

// Wait blocks until the kernel side wakes the reader, timeout passes, or Stop is called; it
// reports whether Stop was called. The kernel side batches its wakeups, so a caller polls too.
func (r *Ring) Wait(timeout time.Duration) (stopped bool, err error) {
	var evs [2]unix.EpollEvent
	n, err := unix.EpollWait(r.epfd, evs[:], int(timeout.Milliseconds()))
	if err != nil && !errors.Is(err, unix.EINTR) {
		return false, fmt.Errorf("wait for the ring: %w", err)
	}
	for _, ev := range evs[:max(n, 0)] {
		if int(ev.Fd) == r.stopfd {
			return true, nil
		}
	}
	return false, nil
}

// Stop makes a Wait in progress, and every later one, return at once.
func (r *Ring) Stop() error {
	one := [8]byte{1}
	if _, err := unix.Write(r.stopfd, one[:]); err != nil {
		return fmt.Errorf("stop the ring reader: %w", err)
	}
	return nil
}

// Pending is how many bytes the kernel side has written that are not released yet.
func (r *Ring) Pending() int {
	return int(atomic.LoadUint64(r.prodPos) - atomic.LoadUint64(r.consPos))
}

// Span returns the committed records from the consumer position on, up to the first record still
// being written and at most limit bytes (at least one record when one is ready), in one part,
// or two when the span wraps around the ring's end. The slices alias the ring: use them, then
// Release their length. Discarded records are inside the span (their header says so): readers of
// a span skip them.
func (r *Ring) Span(limit int) (first, second []byte) {
	cons := atomic.LoadUint64(r.consPos)
	prod := atomic.LoadUint64(r.prodPos)
	pos := cons
	for pos < prod {
		// an atomic load of the header orders it after the kernel's commit of the record; a
		// header never straddles the end (records are 8-byte aligned)
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.ring[pos&r.mask])))
		if hdr&BusyBit != 0 {
			break
		}
		next := pos + HeaderSize + uint64(align8(hdr&^(BusyBit|DiscardBit)))
		if next-cons > uint64(limit) && pos > cons {
			break
		}
		pos = next
	}
	start, n := cons&r.mask, pos-cons
	if end := start + n; end > r.mask+1 {
		return r.ring[start:], r.ring[:end-(r.mask+1)]
	}
	return r.ring[start : start+n], nil
}

// Release gives n bytes at the consumer position back to the kernel side.
func (r *Ring) Release(n int) {
	atomic.AddUint64(r.consPos, uint64(n))
}

// Close unmaps the ring.
func (r *Ring) Close() error {
	var errs []error
	for _, fd := range []int{r.epfd, r.stopfd} {
		if fd >= 0 {
			errs = append(errs, unix.Close(fd))
		}
	}
	if r.data != nil {
		errs = append(errs, unix.Munmap(r.data))
		r.data = nil
	}
	if r.cons != nil {
		errs = append(errs, unix.Munmap(r.cons))
		r.cons = nil
	}
	return errors.Join(errs...)
}

func align8(n uint32) uint32 { return (n + 7) &^ 7 }

// Records calls fn with the payload of every record in span that was not discarded. A span from
// a file may be corrupt: a header that runs past the span's end is an error.
func Records(span []byte, fn func(rec []byte) error) error {
	for len(span) > 0 {
		if len(span) < HeaderSize {
			return fmt.Errorf("ring data ends inside a record header (%d bytes left)", len(span))
		}
		hdr := *(*uint32)(unsafe.Pointer(&span[0]))
		if hdr&BusyBit != 0 {
			return fmt.Errorf("ring data holds a record that was still being written")
		}
		n := int(hdr &^ (BusyBit | DiscardBit))
		end := HeaderSize + int(align8(uint32(n)))
		if end > len(span) {
			return fmt.Errorf("ring record of %d bytes runs past the end of its data (%d bytes left)", n, len(span)-HeaderSize)
		}
		if hdr&DiscardBit == 0 {
			if err := fn(span[HeaderSize : HeaderSize+n]); err != nil {
				return err
			}
		}
		span = span[end:]
	}
	return nil
}
