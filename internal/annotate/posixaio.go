package annotate

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/iotrace/iotrace/internal/event"
)

// glibc's POSIX AIO makes no syscall of its own: aio_read hands an aiocb to glibc, which runs
// the request later as a pread64 (pwrite64, fsync, fdatasync) on a helper thread it starts
// with clone3 and keeps. The uprobe records of aio_read, aio_write and aio_fsync (libc:* kernel
// events) carry the request as its aiocb held it; the helper's call that has the same
// descriptor, buffer, length and offset is the one that runs it (a descriptor that cannot seek
// makes glibc fall back from pread64 to read, which is matched without the offset). What the
// trace cannot tell: requests of lio_listio (not probed), and a call that merely looks like a
// request's — two requests alike in every field are told apart only by their order.

// aioRequest is a POSIX AIO request glibc has not yet been seen running.
type aioRequest struct {
	name     string // aio_read, aio_write, aio_fsync
	tid      uint32
	seq      uint64
	fd       int64
	buf      string // the buffer's address, as the decoder prints it ("0x…")
	n, off   int64
	syncOp   int64 // aio_fsync's op: O_SYNC or O_DSYNC
	fellBack bool  // the helper's positioned call failed with ESPIPE: it reads or writes instead
}

// isLibcCall: the event is a uprobe record of a POSIX AIO function (probe.libcIDs).
func isLibcCall(name string) bool {
	return name == "aio_read" || name == "aio_write" || name == "aio_fsync"
}

// aioRequested remembers a request handed to glibc.
func (a *Annotator) aioRequested(k *event.Kernel) {
	r := aioRequest{name: k.Name, tid: k.TID, seq: k.Seq}
	r.fd, _ = k.Args.Int("aio_fildes")
	r.buf, _ = k.Args.Str("aio_buf")
	r.n, _ = k.Args.Int("aio_nbytes")
	r.off, _ = k.Args.Int("aio_offset")
	r.syncOp, _ = k.Args.Int("op")
	// the op is aio_fsync's argument; the others have none
	if k.Name == "aio_fsync" {
		op := "O_DSYNC"
		if r.syncOp&oSync == oSync {
			op = "O_SYNC"
		}
		k.Args = setField(k.Args, "op", op)
	} else {
		k.Args = slices.DeleteFunc(k.Args, func(f event.Field) bool { return f.Key == "op" })
	}
	q := a.posix[k.PID]
	if len(q) >= maxOutstanding {
		q = q[1:] // never run while traced (or lio_listio's): the oldest goes
	}
	a.posix[k.PID] = append(q, r)
}

// aioServed links a call of glibc's helper thread to the request it runs, with a note.
func (a *Annotator) aioServed(s *event.Syscall) {
	q := a.posix[s.PID]
	if len(q) == 0 {
		return
	}
	arg := func(name string) int64 { v, _ := s.Arg(name); return int64(v) }
	for i := range q {
		r := &q[i]
		if int64(int32(arg("fd"))) != r.fd {
			continue
		}
		var match bool
		switch s.Name {
		case "pread64", "pwrite64":
			match = s.Name == map[string]string{"aio_read": "pread64", "aio_write": "pwrite64"}[r.name] &&
				r.sameBuffer(arg("buf"), arg("count")) && arg("pos") == r.off
		case "read", "write":
			match = r.fellBack && s.Name == map[string]string{"aio_read": "read", "aio_write": "write"}[r.name] &&
				r.sameBuffer(arg("buf"), arg("count"))
		case "fsync", "fdatasync":
			match = r.name == "aio_fsync" && (s.Name == "fdatasync") == (r.syncOp&oSync != oSync)
		}
		if !match {
			continue
		}
		if s.Errno == "ESPIPE" && (s.Name == "pread64" || s.Name == "pwrite64") {
			r.fellBack = true
			s.Notes = append(s.Notes, fmt.Sprintf("glibc tries the %s of tid %d (seq %d) as this %s; the descriptor cannot seek, so it falls back to %s",
				r.name, r.tid, r.seq, s.Name, s.Name[1:len(s.Name)-2]))
			return
		}
		where := fmt.Sprintf("on its helper thread %d", s.TID)
		if s.TID == r.tid {
			where = "on the thread that asked for it"
		}
		s.Notes = append(s.Notes, fmt.Sprintf("glibc runs the %s of tid %d (seq %d) as this %s, %s", r.name, r.tid, r.seq, s.Name, where))
		a.posix[s.PID] = append(q[:i:i], q[i+1:]...)
		return
	}
}

// oSync is O_SYNC (__O_SYNC|O_DSYNC) on both arches; aio_fsync's op is O_SYNC or O_DSYNC.
const oSync = 0o4010000

func (r *aioRequest) sameBuffer(buf, n int64) bool {
	return r.buf == "0x"+strconv.FormatUint(uint64(buf), 16) && r.n == n
}
