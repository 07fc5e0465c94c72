package rawrec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxFrame bounds one frame's payload, and so the memory a reader holds (the recorder writes
// ring frames of a few MiB).
const MaxFrame = 256 << 20

// ErrCutShort is returned by Next at the end of a recording that has no end frame.
var ErrCutShort = errors.New("the recording ends without its end frame (cut short?)")

// Frame is one frame; Payload is valid until the next call to Next.
type Frame struct {
	Type    uint32
	Payload []byte
	// Offset is where the frame starts in the file, for messages.
	Offset int64
}

// Reader reads a raw recording frame by frame.
type Reader struct {
	name   string
	br     *bufio.Reader
	off    int64
	header *Header
	buf    []byte
	done   bool
}

// IsRaw reports whether a file starting with prefix is a raw recording.
func IsRaw(prefix []byte) bool { return bytes.HasPrefix(prefix, []byte(Magic[:6])) }

// NewReader reads the magic and the header frame of the recording in r, called name in
// messages.
func NewReader(r io.Reader, name string) (*Reader, error) {
	rd := &Reader{name: name, br: bufio.NewReaderSize(r, 1<<20)}
	magic := make([]byte, len(Magic))
	if _, err := io.ReadFull(rd.br, magic); err != nil {
		return nil, fmt.Errorf("%s: too short for an iotrace recording", name)
	}
	if !IsRaw(magic) {
		return nil, fmt.Errorf("%s: not a raw iotrace recording", name)
	}
	if string(magic) != Magic {
		return nil, fmt.Errorf("%s: a raw recording of format version %d; this iotrace reads version %d — upgrade iotrace to read it",
			name, magic[len(magic)-1], Magic[len(Magic)-1])
	}
	rd.off = int64(len(Magic))
	f, err := rd.Next()
	if err != nil {
		if errors.Is(err, ErrCutShort) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the recording ends before its header", name)
		}
		return nil, err
	}
	if f.Type != FrameHeader {
		return nil, fmt.Errorf("%s: the first frame is of type %d, not the header", name, f.Type)
	}
	var h Header
	if err := json.Unmarshal(f.Payload, &h); err != nil {
		return nil, fmt.Errorf("%s: bad header: %w", name, err)
	}
	if h.Timeline == nil {
		return nil, fmt.Errorf("%s: the header has no timeline header", name)
	}
	rd.header = &h
	return rd, nil
}

// Header is the recording's header.
func (r *Reader) Header() *Header { return r.header }

// Next returns the next frame. After the end frame it returns io.EOF; at the end of a file that
// has none, ErrCutShort (a frame cut in the middle counts as not there).
func (r *Reader) Next() (Frame, error) {
	if r.done {
		return Frame{}, io.EOF
	}
	var hdr [FrameHeaderSize]byte
	start := r.off
	n, err := io.ReadFull(r.br, hdr[:])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		_ = n
		return Frame{}, ErrCutShort
	}
	if err != nil {
		return Frame{}, fmt.Errorf("%s: %w", r.name, err)
	}
	typ, size := binary.LittleEndian.Uint32(hdr[:]), int(binary.LittleEndian.Uint32(hdr[4:]))
	if typ < FrameHeader || typ > FrameEnd {
		return Frame{}, fmt.Errorf("%s: at byte %d: unknown frame type %d (corrupt recording)", r.name, start, typ)
	}
	if size > MaxFrame {
		return Frame{}, fmt.Errorf("%s: at byte %d: a frame of %d bytes is larger than any iotrace writes (corrupt recording)", r.name, start, size)
	}
	total := size + pad8(size)
	if cap(r.buf) < total {
		r.buf = make([]byte, total)
	}
	r.buf = r.buf[:total]
	if _, err := io.ReadFull(r.br, r.buf); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return Frame{}, ErrCutShort
		}
		return Frame{}, fmt.Errorf("%s: %w", r.name, err)
	}
	r.off += FrameHeaderSize + int64(total)
	if typ == FrameEnd {
		r.done = true
	}
	return Frame{Type: typ, Payload: r.buf[:size], Offset: start}, nil
}

// ParseEnd decodes an end frame's payload.
func ParseEnd(p []byte) (*End, error) {
	var e End
	if err := json.Unmarshal(p, &e); err != nil {
		return nil, fmt.Errorf("bad end frame: %w", err)
	}
	return &e, nil
}

// ParseCounters decodes a counters frame's payload.
func ParseCounters(p []byte) (*Counters, error) { return unmarshalCounters(p) }

// Name is the recording's name in messages.
func (r *Reader) Name() string { return r.name }
