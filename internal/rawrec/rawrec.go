// Package rawrec is iotrace's own recording format: the BPF ring buffer's records exactly as the
// kernel wrote them, framed, behind a header that holds what decoding them needs (the arch, the
// kernel's tracepoint formats, what the traced processes had open when tracing began). It is
// to iotrace what perf.data is to perf: `trace -o run.iotrace` writes it at the speed of the
// ring, and `show`, `export` and `diff` decode and annotate it when they read it — so a file is
// complete whatever the terminal could keep up with, and a newer iotrace re-explains an old
// recording.
//
// Layout: the magic "IOTRAW\x00\x01", then frames. A frame is a 4-byte type, a 4-byte payload
// length (little-endian), the payload, and padding to 8 bytes. The first frame is the header
// (JSON); ring frames hold ring bytes (records behind their 8-byte ring headers); counter
// frames hold the BPF side's loss counters at a moment; the last frame is the end (JSON). A file
// without its end frame was cut short (Ctrl-C mid-write, a full disk): what is before the cut
// still reads.
package rawrec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/iotrace/iotrace/internal/annotate"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/tracefs"
)

// Magic starts every raw recording; its last byte is the format's version.
const Magic = "IOTRAW\x00\x01"

// Frame types.
const (
	FrameHeader   = 1
	FrameRing     = 2
	FrameCounters = 3
	FrameEnd      = 4
)

// FrameHeaderSize is the type and length in front of every payload.
const FrameHeaderSize = 8

// Header is what decoding a recording needs, and what its timeline's header line says.
type Header struct {
	// Timeline is the header every rendering of the recording starts with.
	Timeline *event.Header `json:"timeline"`
	// GoArch names the syscall table the records' numbers index ("amd64", "arm64").
	GoArch string `json:"goarch"`
	// Filter is the -e expressions: which calls the user asked to see (the model's are
	// recorded too, and hidden when rendering).
	Filter []string `json:"filter,omitempty"`
	// Kernel is the format of each attached kernel tracepoint, by event id.
	Kernel map[uint16]KernelFormat `json:"kernel,omitempty"`
	// Seeds are what the traced processes had open when tracing began.
	Seeds []annotate.Seed `json:"seeds,omitempty"`
	// Comms names threads of an attached process (their names are not in the records).
	Comms map[uint32]string `json:"comms,omitempty"`
	// InferReadahead: the kernel lacks the readahead tracepoints; the annotator infers it.
	InferReadahead bool `json:"infer_readahead,omitempty"`
}

// KernelFormat is one tracepoint's name and record layout, from its format file.
type KernelFormat struct {
	Name   string                `json:"name"`
	Fields []tracefs.FormatField `json:"fields"`
}

// End is the last frame: how the run ended.
type End struct {
	TS uint64 `json:"ts_ns"`
	// ExitCode is the target's exit status as iotrace exits with it; nil for an attached process.
	ExitCode *int `json:"exit_code,omitempty"`
}

// Counters are the BPF side's loss counters at one moment: Lost[reason][cpu] (reasons as
// probe.Lost*), and the programs' misses.
type Counters struct {
	TS            uint64
	Lost          [][]uint64
	MissedKernel  uint64
	MissedProcess uint64
	MissedEntries uint64 // syscall entries (their calls are recorded, marked entry_lost)
}

// appendFrame appends one frame.
func appendFrame(b []byte, typ uint32, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return append(b, make([]byte, pad8(len(payload)))...)
}

func pad8(n int) int { return (8 - n%8) % 8 }

// marshalCounters is the counters frame's payload: ts, reasons, cpus, the counts row by row,
// then the misses (two in recordings made before entries were counted); all 64-bit little-endian but the two dimensions.
func marshalCounters(c *Counters) []byte {
	cpus := 0
	for _, row := range c.Lost {
		cpus = max(cpus, len(row))
	}
	b := make([]byte, 0, 16+8*len(c.Lost)*cpus+16)
	b = binary.LittleEndian.AppendUint64(b, c.TS)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.Lost)))
	b = binary.LittleEndian.AppendUint32(b, uint32(cpus))
	for _, row := range c.Lost {
		for cpu := range cpus {
			var v uint64
			if cpu < len(row) {
				v = row[cpu]
			}
			b = binary.LittleEndian.AppendUint64(b, v)
		}
	}
	b = binary.LittleEndian.AppendUint64(b, c.MissedKernel)
	b = binary.LittleEndian.AppendUint64(b, c.MissedProcess)
	return binary.LittleEndian.AppendUint64(b, c.MissedEntries)
}

func unmarshalCounters(p []byte) (*Counters, error) {
	if len(p) < 16 {
		return nil, fmt.Errorf("counters frame of %d bytes is too short", len(p))
	}
	c := &Counters{TS: binary.LittleEndian.Uint64(p)}
	reasons, cpus := int(binary.LittleEndian.Uint32(p[8:])), int(binary.LittleEndian.Uint32(p[12:]))
	tail := len(p) - (16 + 8*reasons*cpus)
	if reasons > 64 || cpus > 1<<16 || (tail != 16 && tail != 24) {
		return nil, fmt.Errorf("counters frame of %d bytes does not hold %d×%d counters", len(p), reasons, cpus)
	}
	off := 16
	c.Lost = make([][]uint64, reasons)
	for r := range c.Lost {
		c.Lost[r] = make([]uint64, cpus)
		for cpu := range cpus {
			c.Lost[r][cpu] = binary.LittleEndian.Uint64(p[off:])
			off += 8
		}
	}
	c.MissedKernel = binary.LittleEndian.Uint64(p[off:])
	c.MissedProcess = binary.LittleEndian.Uint64(p[off+8:])
	if tail == 24 {
		c.MissedEntries = binary.LittleEndian.Uint64(p[off+16:])
	}
	return c, nil
}

func marshalJSON(v any, what string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode the recording's %s: %w", what, err)
	}
	return b, nil
}
