package rawrec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The writer stages what it is given in a few aligned blocks and writes full blocks with
// O_DIRECT from a goroutine of its own. Measured on these machines, buffered writes of a storm's
// records stall for up to 80 ms now and then (page-cache pages being found for them), direct ones
// for at most about 20 ms per block; and a direct write leaves the page cache alone, which is
// what the traced program's lessons are about. While a block is written, the recorder fills the
// next, so it never waits on the disk unless all of them are in flight.
const (
	blockSize = 2 << 20
	blocks    = 4
	pageAlign = 4096
)

// Writer writes a raw recording. It is used by one goroutine (the recorder); Tails may read
// the file meanwhile.
type Writer struct {
	f      *os.File
	direct *os.File // the same file opened with O_DIRECT; nil where it cannot be
	name   string

	free chan []byte // blocks ready to fill
	jobs chan job    // blocks (or parts) to write, in file order
	done chan struct{}

	cur       []byte // the block being filled; nil when none is
	curOff    int64  // file offset of cur's start
	fill      int    // bytes of cur filled
	submitted int    // bytes of cur already handed to the write goroutine

	off      atomic.Int64 // bytes of the file written: a Tail reads up to here
	err      atomic.Pointer[error]
	mu       sync.Mutex
	wake     chan struct{} // closed and replaced after each write: wakes Tails
	shut     bool          // Close was called
	finished bool          // every write is done
}

// job is a write: a whole block (returned to the pool afterwards), or the filled part of the
// block being filled, made readable early.
type job struct {
	b     []byte
	off   int64
	block []byte // the block to give back once written, for whole blocks
}

// NewWriter starts a recording on f (at its current end) with its header. Close finishes it.
func NewWriter(f *os.File, h *Header) (*Writer, error) {
	start, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", f.Name(), err)
	}
	w := &Writer{f: f, name: f.Name(), free: make(chan []byte, blocks), jobs: make(chan job, 2*blocks),
		done: make(chan struct{}), curOff: start, wake: make(chan struct{})}
	w.off.Store(start)
	mem, err := unix.Mmap(-1, 0, blocks*blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("staging memory for %s: %w", w.name, err)
	}
	for i := range blocks {
		w.free <- mem[i*blockSize : (i+1)*blockSize : (i+1)*blockSize]
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && start%pageAlign == 0 {
		if d, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_WRONLY|unix.O_DIRECT, 0); err == nil {
			w.direct = d
		}
	}
	go w.writeLoop(mem)
	payload, err := marshalJSON(h, "header")
	if err != nil {
		w.Close()
		return nil, err
	}
	if err := w.append(appendFrame([]byte(Magic), FrameHeader, payload)); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Ring appends ring bytes: whole records behind their ring headers, given in one or two parts
// (a span of the ring that wraps around its end). Their lengths are multiples of 8, so the
// frame needs no padding.
func (w *Writer) Ring(parts ...[]byte) error {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	if total == 0 {
		return w.Err()
	}
	if total%8 != 0 {
		return fmt.Errorf("ring data of %d bytes is not whole records", total)
	}
	var hdr [FrameHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[:], FrameRing)
	binary.LittleEndian.PutUint32(hdr[4:], uint32(total))
	if err := w.append(hdr[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if err := w.append(p); err != nil {
			return err
		}
	}
	return nil
}

// Counters appends a snapshot of the loss counters.
func (w *Writer) Counters(c *Counters) error {
	return w.append(appendFrame(nil, FrameCounters, marshalCounters(c)))
}

// End appends the end frame; nothing may follow it but Close.
func (w *Writer) End(e *End) error {
	payload, err := marshalJSON(e, "end")
	if err != nil {
		return err
	}
	return w.append(appendFrame(nil, FrameEnd, payload))
}

// Flush makes what was appended so far readable (to Tails, and in the file).
func (w *Writer) Flush() error {
	if w.cur != nil && w.fill > w.submitted {
		w.jobs <- job{b: w.cur[w.submitted:w.fill], off: w.curOff + int64(w.submitted)}
		w.submitted = w.fill
	}
	return w.Err()
}

// Close writes what is left, waits for every write, and marks the recording finished for
// Tails. The file itself stays open: its owner closes it. Close returns the first write error.
func (w *Writer) Close() error {
	w.mu.Lock()
	shut := w.shut
	w.shut = true
	w.mu.Unlock()
	if shut {
		return w.Err()
	}
	_ = w.Flush()
	close(w.jobs)
	<-w.done
	if w.direct != nil {
		w.direct.Close()
	}
	w.mu.Lock()
	w.finished = true
	close(w.wake)
	w.wake = make(chan struct{})
	w.mu.Unlock()
	return w.Err()
}

// Err is the first write error: after one, nothing more is written.
func (w *Writer) Err() error {
	if p := w.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Written is how many bytes of the file are written.
func (w *Writer) Written() int64 { return w.off.Load() }

// append copies b into the blocks, handing each full one to the write goroutine.
func (w *Writer) append(b []byte) error {
	if err := w.Err(); err != nil {
		return err
	}
	for len(b) > 0 {
		if w.cur == nil {
			w.cur = <-w.free // all blocks being written: wait for one (the ring holds meanwhile)
			w.fill, w.submitted = 0, 0
		}
		n := copy(w.cur[w.fill:], b)
		w.fill += n
		b = b[n:]
		if w.fill == len(w.cur) {
			w.jobs <- job{b: w.cur[w.submitted:], off: w.curOff + int64(w.submitted), block: w.cur}
			w.curOff += int64(len(w.cur))
			w.cur = nil
		}
	}
	return nil
}

func (w *Writer) writeLoop(mem []byte) {
	defer close(w.done)
	defer unix.Munmap(mem)
	for j := range w.jobs {
		if w.Err() == nil {
			if err := w.write(j); err != nil {
				w.err.Store(&err)
			}
		}
		if j.block != nil {
			w.free <- j.block
		}
		w.advance(j.off + int64(len(j.b)))
	}
}

// write writes one job: a whole block directly when it can (an aligned offset and length),
// anything else through the page cache.
func (w *Writer) write(j job) error {
	f, b, off := w.f, j.b, j.off
	if w.direct != nil && j.block != nil {
		// a whole block: write it all directly, the part made readable early included
		start := off - int64(len(j.block)-len(j.b))
		if start%pageAlign == 0 {
			f, b, off = w.direct, j.block, start
		}
	}
	for len(b) > 0 {
		n, err := f.WriteAt(b, off)
		if err != nil {
			if f == w.direct && errors.Is(err, unix.EINVAL) {
				// the filesystem refused a direct write after all: go on through the cache
				w.direct.Close()
				w.direct, f = nil, w.f
				continue
			}
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err // WriteAt's error names the file already: say it once
			}
			return fmt.Errorf("write %s: %w", w.name, err)
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// advance publishes what was written and wakes the Tails waiting for it.
func (w *Writer) advance(end int64) {
	if end <= w.off.Load() {
		return
	}
	w.off.Store(end)
	w.mu.Lock()
	close(w.wake)
	w.wake = make(chan struct{})
	w.mu.Unlock()
}

// wait returns a channel closed after the next write, and whether the writer is finished (then
// nothing more comes).
func (w *Writer) wait() (<-chan struct{}, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wake, w.finished
}

// Tail reads a recording while its Writer is still writing it: Read blocks until more is
// written, and returns io.EOF once the writer is closed and everything is read.
type Tail struct {
	w   *Writer
	f   *os.File
	off int64
}

// NewTail reads w's file from its start, through f (a descriptor of the same file).
func NewTail(w *Writer, f *os.File) *Tail { return &Tail{w: w, f: f} }

func (t *Tail) Read(p []byte) (int, error) {
	for {
		ch, finished := t.w.wait()
		if avail := t.w.Written() - t.off; avail > 0 {
			n, err := t.f.ReadAt(p[:min(int64(len(p)), avail)], t.off)
			t.off += int64(n)
			if n > 0 {
				return n, nil
			}
			if err != nil && err != io.EOF {
				return 0, fmt.Errorf("read back %s: %w", t.w.name, err)
			}
		}
		if finished {
			return 0, io.EOF
		}
		<-ch
	}
}
