package predict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/workloads"
)

// Kernel events the checks rest on.
const (
	kFill  = "mm_filemap_add_to_page_cache"
	kEvict = "mm_filemap_delete_from_page_cache"
	kIssue = "block_rq_issue"
	// page-faults: the software perf event standing in where exceptions:page_fault_user is
	// missing (arm64); it does not say whether a fault was a write
	kFault = "page_fault_user|page-faults"
	// io_uring_submit_sqe before 6.0
	kURSubmt = "io_uring_submit_req|io_uring_submit_sqe"
)

// checks are the measurements a prediction can name (workloads.Prediction.Check). Each says in
// its comment what events it reads; the measured figure it returns is what the tour prints.
var checks = map[string]check{
	// --- vectored ---

	// writev-whole: the writev on File returned the sum of its iovecs' lengths.
	"writev-whole": {fn: func(ev *evidence, p workloads.Prediction) result {
		ws := ev.named(ev.on("fd", p.File), "writev")
		if len(ws) == 0 {
			return unmeasurable("no writev of %s in the trace", p.File)
		}
		w := ws[0]
		var want int64
		iovs := objects(w, "vec")
		for _, iov := range iovs {
			n, _ := iov.Int("len")
			want += n
		}
		return verdict(len(ws) == 1 && w.Ret == want && want > 0, seqs(w), "%d writev of %d iovecs returned %d of %d bytes", len(ws), len(iovs), w.Ret, want)
	}},
	// write-calls: File was written with N write calls and no writev.
	"write-calls": {fn: func(ev *evidence, p workloads.Prediction) result {
		ws := ev.named(ev.on("fd", p.File), "write")
		vs := ev.named(ev.on("fd", p.File), "writev")
		var n int64
		for _, w := range ws {
			n += max(w.Ret, 0)
		}
		return verdict(len(ws) == p.N && len(vs) == 0, seqs(ws...), "%d write calls moved %d bytes; %d writev", len(ws), n, len(vs))
	}},
	// readv-fill-order: readv's buffers, as captured at its exit, are filled in order: full
	// ones, then at most one partly filled, then untouched ones; together what it returned.
	"readv-fill-order": {fn: func(ev *evidence, p workloads.Prediction) result {
		rs := ev.named(ev.on("fd", p.File), "readv")
		if len(rs) == 0 {
			return unmeasurable("no readv of %s in the trace", p.File)
		}
		r := rs[0]
		var parts []string
		var sum int64
		ordered, short := true, false
		for i, iov := range objects(r, "vec") {
			if trunc, _ := iov.Get("trunc"); trunc == true {
				return unmeasurable("iov[%d]'s bytes were captured only in part (-s): the fill cannot be read", i)
			}
			capacity, _ := iov.Int("len")
			data, _ := iov.Str("data")
			got := int64(unescapedLen(data))
			if short && got > 0 {
				ordered = false // a buffer after a short one got bytes
			}
			if got < capacity {
				short = true
			}
			sum += got
			parts = append(parts, fmt.Sprintf("iov[%d] %d of %d", i, got, capacity))
		}
		return verdict(ordered && sum == r.Ret && r.Ret > 0, seqs(r), "readv returned %d: %s", r.Ret, strings.Join(parts, ", "))
	}},
	// nowait-cold: preadv2(RWF_NOWAIT) on File right after its pages were evicted fails with
	// EAGAIN, or returns data only when the page-cache fill it caused (the read it started) was
	// done before it looked again: it never waited. Data with no fill inside the call means the
	// page was still cached, and the premise is not met. nowait-warm: the next one, after a
	// pread64 of the page, returns data.
	"nowait-cold": {fn: func(ev *evidence, p workloads.Prediction) result {
		ps := nowaitReads(ev, p.File)
		if len(ps) == 0 {
			return unmeasurable("no preadv2(RWF_NOWAIT) of %s in the trace", p.File)
		}
		first := ps[0]
		if first.Errno == "EAGAIN" {
			return held(seqs(first), "the first preadv2(RWF_NOWAIT) = %s", retText(first))
		}
		if first.Failed() {
			return failed(seqs(first), "the first preadv2(RWF_NOWAIT) = %s", retText(first))
		}
		if why := ev.missing(kFill); why != "" {
			return unmeasurable("the first preadv2(RWF_NOWAIT) = %s; whether it read the page itself is %s", retText(first), why)
		}
		fills := ev.causedBy(first, kFill)
		if len(fills) == 0 {
			return unmeasurable("the first preadv2(RWF_NOWAIT) = %s with no page-cache fill in it: the page was still cached", retText(first))
		}
		return held(seqs(first), "the first preadv2(RWF_NOWAIT) = %s: the read it started (%d pages filled in it) was done when it looked again",
			retText(first), pages(fills))
	}},
	"nowait-warm": {fn: func(ev *evidence, p workloads.Prediction) result {
		ps := nowaitReads(ev, p.File)
		if len(ps) < 2 {
			return unmeasurable("fewer than two preadv2(RWF_NOWAIT) of %s in the trace", p.File)
		}
		return verdict(ps[1].Ret > 0, seqs(ps[1]), "the second preadv2(RWF_NOWAIT) = %s", retText(ps[1]))
	}},
	// iov-max: writev with N iovecs succeeds, with N+1 fails with EINVAL.
	"iov-max": {fn: func(ev *evidence, p workloads.Prediction) result {
		ws := ev.named(ev.on("fd", p.File), "writev")
		var at, past *event.Syscall
		for _, w := range ws {
			switch arg(w, "vlen") {
			case int64(p.N):
				at = w
			case int64(p.N) + 1:
				past = w
			}
		}
		if at == nil || past == nil {
			return unmeasurable("no writev of %s with %d and %d iovecs in the trace", p.File, p.N, p.N+1)
		}
		return verdict(at.Ret == int64(p.N) && past.Errno == "EINVAL", seqs(at, past),
			"writev of %d iovecs = %s, of %d = %s", p.N, retText(at), p.N+1, retText(past))
	}},

	// --- epoll ---

	// et-no-second-edge: after the wait that reported the accepted connection and one short
	// read, the next wait on that epoll instance reports nothing, though the client sent more
	// than was read.
	"et-no-second-edge": {fn: func(ev *evidence, _ workloads.Prediction) result {
		c, ok := ev.conversation()
		if !ok {
			return unmeasurable("no accepted connection reported by an epoll wait in the trace")
		}
		i := slices.IndexFunc(c.waits, func(w *event.Syscall) bool { return slices.Contains(readyFds(w), c.conn.Ret) })
		if i < 0 || i+1 >= len(c.waits) {
			return unmeasurable("no wait after the one that reported fd %d", c.conn.Ret)
		}
		first, next := c.waits[i], c.waits[i+1]
		read := ev.moved(c.connID, end(first), next.TS, "read", "recvfrom")
		sent := ev.sentToConn(c)
		return verdict(next.Ret == 0 && read < sent, seqs(first, next),
			"the client sent %d bytes, %d were read before the next %s, which returned %d", sent, read, next.Name, next.Ret)
	}},
	// et-drain: every wait that reported the connection is followed by reads ending in EAGAIN.
	"et-drain": {fn: func(ev *evidence, _ workloads.Prediction) result {
		c, ok := ev.conversation()
		if !ok {
			return unmeasurable("no accepted connection reported by an epoll wait in the trace")
		}
		events, drained := 0, 0
		for i, w := range c.waits {
			if !slices.Contains(readyFds(w), c.conn.Ret) {
				continue
			}
			events++
			until := ^uint64(0)
			if i+1 < len(c.waits) {
				until = c.waits[i+1].TS
			}
			reads := ev.named(func(s *event.Syscall) bool { return fileID(s, "fd") == c.connID && s.TS > end(w) && s.TS < until }, "read")
			if n := len(reads); n > 0 && reads[n-1].Errno == "EAGAIN" {
				drained++
			}
		}
		return verdict(events > 0 && drained == events, seqs(c.conn), "%d of %d readiness events read until EAGAIN", drained, events)
	}},
	// ready-again: level-triggered waits report the connection at least N times.
	"ready-again": {fn: func(ev *evidence, p workloads.Prediction) result {
		c, ok := ev.conversation()
		if !ok {
			return unmeasurable("no accepted connection reported by an epoll wait in the trace")
		}
		n := 0
		for _, w := range c.waits {
			if slices.Contains(readyFds(w), c.conn.Ret) {
				n++
			}
		}
		return verdict(n >= p.N, seqs(c.conn), "the waits reported fd %d %d times", c.conn.Ret, n)
	}},
	// both-ready: the workload's epoll instance reported the listening socket and the accepted
	// connection.
	"both-ready": {fn: func(ev *evidence, _ workloads.Prediction) result {
		c, ok := ev.conversation()
		if !ok {
			return unmeasurable("no accepted connection reported by an epoll wait in the trace")
		}
		listener := arg(c.conn, "fd")
		var l, k bool
		for _, w := range c.waits {
			l = l || slices.Contains(readyFds(w), listener)
			k = k || slices.Contains(readyFds(w), c.conn.Ret)
		}
		return verdict(l && k, seqs(c.conn), "ready lists held the listener fd %d: %v, the connection fd %d: %v", listener, l, c.conn.Ret, k)
	}},
	// one-ready-of-many: poll over the most descriptors the variant polled, and an epoll wait
	// on the instance watching as many, each find one ready; epoll's ready list holds that one.
	"one-ready-of-many": {fn: func(ev *evidence, _ workloads.Prediction) result {
		var p *event.Syscall
		for _, s := range ev.named(func(s *event.Syscall) bool { return s.Ret >= 0 }, pollCalls...) {
			if p == nil || arg(s, "nfds") > arg(p, "nfds") {
				p = s
			}
		}
		if p == nil {
			return unmeasurable("no poll in the trace")
		}
		n := arg(p, "nfds")
		ep := ev.epollWithAdds(int(n))
		ws := ev.named(func(s *event.Syscall) bool { return fileID(s, "epfd") == ep && ep >= 0 }, epollWaitCalls...)
		if len(ws) == 0 {
			return unmeasurable("no epoll wait on an instance watching %d descriptors", n)
		}
		w := ws[0]
		return verdict(p.Ret == 1 && w.Ret == 1 && len(readyFds(w)) == 1, seqs(p, w),
			"%s over %d fds = %d; %s = %d with %d fd on its ready list", p.Name, n, p.Ret, w.Name, w.Ret, len(readyFds(w)))
	}},
	// runtime-et: the Go runtime, not the variant, registers the accepted connection with
	// EPOLLIN|EPOLLET, on an epoll instance the variant never created.
	"runtime-et": {fn: func(ev *evidence, _ workloads.Prediction) result {
		created := ev.named(func(s *event.Syscall) bool { return s.Ret >= 0 }, "epoll_create", "epoll_create1")
		accs := ev.named(func(s *event.Syscall) bool { return s.Ret >= 0 }, "accept4", "accept")
		if len(accs) == 0 {
			return unmeasurable("no accepted connection in the trace")
		}
		conn := fileID(accs[0], "ret")
		regs := ev.named(func(s *event.Syscall) bool {
			return str(s, "op") == "EPOLL_CTL_ADD" && fileID(s, "fd") == conn && conn >= 0
		}, "epoll_ctl")
		if len(regs) == 0 {
			return failed(seqs(accs[0]), "no EPOLL_CTL_ADD of the accepted connection")
		}
		ev0 := eventMask(regs[0])
		return verdict(len(created) == 0 && hasFlag(ev0, "EPOLLIN") && hasFlag(ev0, "EPOLLET"), seqs(regs[0]),
			"the connection was added with %s; %s created by the variant", ev0, plural(len(created), "epoll instance"))
	}},

	// --- mmap ---

	// no-read-write: from the first mmap of the files to the last munmap, no read/write-family
	// call moved data to or from File or its sibling dest.dat.
	"no-read-write": {fn: func(ev *evidence, p workloads.Prediction) result {
		maps := ev.named(func(s *event.Syscall) bool {
			return !s.Failed() && (ev.isFile(path(s, "fd"), p.File) || ev.isFile(path(s, "fd"), "dest.dat"))
		}, "mmap")
		if len(maps) < 2 {
			return unmeasurable("no mmap of both %s and dest.dat in the trace", p.File)
		}
		from, until := maps[0].TS, uint64(0)
		for _, m := range maps {
			for _, u := range ev.named(func(s *event.Syscall) bool { return arg(s, "addr") == m.Ret && s.TS > m.TS }, "munmap") {
				until = max(until, end(u))
			}
		}
		if until == 0 {
			return unmeasurable("no munmap of the mappings in the trace")
		}
		moved := ev.named(func(s *event.Syscall) bool {
			return s.TS >= from && s.TS <= until && (ev.isFile(path(s, "fd"), p.File) || ev.isFile(path(s, "fd"), "dest.dat"))
		}, ioCalls...)
		measured := fmt.Sprintf("%d read/write calls on the files while they were mapped", len(moved))
		if u := ev.untraced(ioCalls...); len(u) > 0 {
			measured += " (of the calls traced; not traced: " + strings.Join(u, ", ") + ")"
		}
		return verdict(len(moved) == 0, seqs(maps...), "%s", measured)
	}, absence: true},
	// fault-fills: while File was mapped, page faults filled the page cache with its pages:
	// fills of its inode caused by no syscall, at least N pages.
	"fault-fills": {needs: []string{kFill}, fn: func(ev *evidence, p workloads.Prediction) result {
		m, until, ok := ev.mapping(p.File)
		if !ok {
			return unmeasurable("no mmap and munmap of %s in the trace", p.File)
		}
		fills := ev.kernelOn(kFill, ino(m, "fd"), end(m), until)
		var byFault []*event.Kernel
		for _, k := range fills {
			if k.CauseSeq == 0 {
				byFault = append(byFault, k)
			}
		}
		n := pages(byFault)
		return verdict(n >= max(int64(p.N), 1), seqs(m), "%d pages of %s added to the page cache outside any syscall while mapped (%d in all)", n, p.File, pages(fills))
	}},
	// no-fills: while File was mapped, no page of it entered the page cache and no block
	// request was raised outside a syscall.
	"no-fills": {needs: []string{kFill}, absence: true, fn: func(ev *evidence, p workloads.Prediction) result {
		m, until, ok := ev.mapping(p.File)
		if !ok {
			return unmeasurable("no mmap and munmap of %s in the trace", p.File)
		}
		fills := ev.kernelOn(kFill, ino(m, "fd"), m.TS, until)
		return verdict(len(fills) == 0, seqs(m), "%d pages of %s added to the page cache while mapped", pages(fills), p.File)
	}},
	// populated: MAP_POPULATE filled and mapped File inside mmap: no page fault on its mapping
	// after mmap returned.
	"populated": {needs: []string{kFault}, absence: true, fn: func(ev *evidence, p workloads.Prediction) result {
		m, until, ok := ev.mapping(p.File)
		if !ok {
			return unmeasurable("no mmap and munmap of %s in the trace", p.File)
		}
		faults := ev.faultsOn(p.File, end(m), until)
		fills := ev.causedBy(m, kFill)
		return verdict(len(faults) == 0 && pages(fills) > 0, seqs(m), "mmap added %s to the page cache; %s on the mapping after it", plural(int(pages(fills)), "page"), plural(len(faults), "page fault"))
	}},
	// cow-fault: a write fault hit the private mapping of File after mmap (the copy-on-write
	// that gives the process its own page).
	"cow-fault": {needs: []string{kFault}, fn: func(ev *evidence, p workloads.Prediction) result {
		m, _, ok := ev.mapping(p.File)
		if !ok {
			return unmeasurable("no mmap of %s in the trace", p.File)
		}
		var writes, told int
		for _, k := range ev.faultsOn(p.File, end(m), ^uint64(0)) {
			if k.Name == "page_fault_user" {
				told++ // its error code tells a write from a read
			}
			if w, _ := k.Args.Get("write"); w == true {
				writes++
			}
		}
		if told == 0 && writes == 0 {
			return unmeasurable("not measurable here: the faults come from the page-faults perf event, which does not say whether one was a write")
		}
		return verdict(writes > 0, seqs(m), "%s on the private mapping", plural(writes, "write fault"))
	}},
	// file-unchanged: a pread64 of File after its private mapping was written reads back the
	// file's own first byte ('a'), not what was written through the mapping.
	"file-unchanged": {fn: func(ev *evidence, p workloads.Prediction) result {
		m, _, ok := ev.mapping(p.File)
		if !ok {
			return unmeasurable("no mmap of %s in the trace", p.File)
		}
		rs := ev.named(func(s *event.Syscall) bool { return ev.isFile(path(s, "fd"), p.File) && s.TS > end(m) }, "pread64")
		if len(rs) == 0 {
			return unmeasurable("no pread64 of %s after the mapping", p.File)
		}
		got := bufText(rs[0])
		return verdict(got == "a", seqs(rs[0]), "pread64 of the file after the write reads back %q", got)
	}},
	// msync-writes: msync(MS_SYNC) of the mapping of File issued block write requests.
	"msync-writes": {needs: []string{kIssue}, fn: func(ev *evidence, p workloads.Prediction) result {
		m, _, ok := ev.mapping(p.File)
		if !ok {
			return unmeasurable("no mmap and munmap of %s in the trace", p.File)
		}
		ms := ev.named(func(s *event.Syscall) bool { return arg(s, "start") == m.Ret }, "msync")
		if len(ms) == 0 {
			return unmeasurable("no msync of the mapping in the trace")
		}
		reqs := writes(ev.causedBy(ms[0], kIssue))
		return verdict(len(reqs) > 0 && ms[0].Ret == 0, seqs(ms[0]), "msync = %s, issuing %s (%s)", retText(ms[0]), plural(len(reqs), "block write request"), kib(bytesOf(reqs)))
	}},

	// --- fadvise ---

	// dontneed-evicts-all: the last DONTNEED on File (clean by then) evicted every page of it
	// still cached — as many as the page-cache fills of the file before it, less its evictions
	// (an earlier DONTNEED may have dropped some already).
	"dontneed-evicts-all": {needs: []string{kEvict, kFill}, fn: func(ev *evidence, p workloads.Prediction) result {
		ds := ev.named(func(s *event.Syscall) bool {
			return ev.isFile(path(s, "fd"), p.File) && str(s, "advice") == "POSIX_FADV_DONTNEED"
		}, fadviseCalls...)
		if len(ds) == 0 {
			return unmeasurable("no DONTNEED of %s in the trace", p.File)
		}
		d := ds[len(ds)-1]
		n, of := pages(ev.causedBy(d, kEvict)), filePages(d, "fd")
		if of == 0 {
			return unmeasurable("evicted %d pages; the trace does not tell the file's size", n)
		}
		i := ino(d, "fd")
		if i <= 0 {
			return unmeasurable("evicted %d of %d pages; the trace does not tell the file's inode, so not how many were cached", n, of)
		}
		cached := pages(ev.kernelOn(kFill, i, 0, d.TS-1)) - pages(ev.kernelOn(kEvict, i, 0, d.TS-1))
		if cached == of {
			return verdict(n == of, seqs(d), "evicted %d of %d pages", n, of)
		}
		return verdict(n == cached, seqs(d), "evicted %d of the %d pages cached (of a %d-page file)", n, cached, of)
	}},
	// dontneed-keeps-dirty: the first DONTNEED on File, its pages freshly written, dropped no page
	// while it was dirty or under writeback: it starts their writeback (block write requests in
	// the call), and any page it evicted went after every write request it issued had completed
	// (a device that answers within the call lets it drop them: emulated disks do).
	"dontneed-keeps-dirty": {needs: []string{kEvict, kIssue}, fn: func(ev *evidence, p workloads.Prediction) result {
		ds := ev.named(func(s *event.Syscall) bool {
			return ev.isFile(path(s, "fd"), p.File) && str(s, "advice") == "POSIX_FADV_DONTNEED"
		}, fadviseCalls...)
		if len(ds) == 0 {
			return unmeasurable("no DONTNEED of %s in the trace", p.File)
		}
		d := ds[0]
		evicted := ev.causedBy(d, kEvict)
		n := pages(evicted)
		reqs := writes(ev.causedBy(d, kIssue))
		started := plural(len(reqs), "block write request")
		if n == 0 {
			return verdict(true, seqs(d), "evicted 0 of %d pages (and started %s)", filePages(d, "fd"), started)
		}
		// the evictions came after the writes were done: every write request completed inside
		// the call before the first eviction
		first := evicted[0].TS
		for _, k := range evicted {
			first = min(first, k.TS)
		}
		done := 0
		for _, c := range writes(ev.causedBy(d, "block_rq_complete")) {
			if c.TS <= first {
				done++
			}
		}
		return verdict(len(reqs) > 0 && done >= len(reqs), seqs(d), "evicted %d of %d pages, after %d of the %s it started had completed within the call",
			n, filePages(d, "fd"), done, started)
	}},
	// willneed-fills: WILLNEED on File added every page of it to the page cache before the
	// first read.
	"willneed-fills": {needs: []string{kFill}, fn: func(ev *evidence, p workloads.Prediction) result {
		ws := ev.named(func(s *event.Syscall) bool {
			return ev.isFile(path(s, "fd"), p.File) && str(s, "advice") == "POSIX_FADV_WILLNEED"
		}, fadviseCalls...)
		if len(ws) == 0 {
			return unmeasurable("no WILLNEED of %s in the trace", p.File)
		}
		w := ws[0]
		n, of := pages(ev.causedBy(w, kFill)), filePages(w, "fd")
		reads := ev.named(func(s *event.Syscall) bool { return fileID(s, "fd") == fileID(w, "fd") && s.TS < end(w) }, "read")
		return verdict(n == of && of > 0 && len(reads) == 0, seqs(w), "WILLNEED added %d of %d pages before the first read", n, of)
	}},
	// reads-no-fills: after WILLNEED, the reads of File added no page to the page cache: the
	// pages they read were there.
	"reads-no-fills": {needs: []string{kFill}, absence: true, fn: func(ev *evidence, p workloads.Prediction) result {
		ws := ev.named(func(s *event.Syscall) bool {
			return ev.isFile(path(s, "fd"), p.File) && str(s, "advice") == "POSIX_FADV_WILLNEED"
		}, fadviseCalls...)
		if len(ws) == 0 {
			return unmeasurable("no WILLNEED of %s in the trace", p.File)
		}
		reads := ev.named(func(s *event.Syscall) bool { return fileID(s, "fd") == fileID(ws[0], "fd") && s.TS > end(ws[0]) }, "read")
		var fills []*event.Kernel
		for _, r := range reads {
			fills = append(fills, ev.causedBy(r, kFill)...)
		}
		// a read at end of file may cache a page past it (5.15): not one of the file's pages
		if of := filePages(ws[0], "fd"); of > 0 {
			if past := pastEnd(fills, of); past > 0 {
				in := pages(fills) - past
				return verdict(len(reads) > 0 && in == 0, seqs(reads...), "%d reads added %d pages of the file to the page cache (and %d past its end)", len(reads), in, past)
			}
		}
		return verdict(len(reads) > 0 && len(fills) == 0, seqs(reads...), "%d reads added %d pages to the page cache", len(reads), pages(fills))
	}},
	// random-one-page: after RANDOM, each read of File added at most the one page it read.
	"random-one-page": {needs: []string{kFill}, fn: func(ev *evidence, p workloads.Prediction) result {
		reads := ev.advisedReads(p.File, "POSIX_FADV_RANDOM")
		if len(reads) == 0 {
			return unmeasurable("no read of %s after RANDOM in the trace", p.File)
		}
		most, total := int64(0), int64(0)
		for _, r := range reads {
			n := pages(ev.causedBy(r, kFill))
			most, total = max(most, n), total+n
		}
		return verdict(most <= 1 && total > 0, seqs(reads[0]), "%d reads added %d pages, at most %d in one read", len(reads), total, most)
	}},
	// seq-reads-ahead: after SEQUENTIAL, one read of File added more pages than it read (the
	// readahead window), so fewer reads than pages filled the cache.
	"seq-reads-ahead": {needs: []string{kFill}, fn: func(ev *evidence, p workloads.Prediction) result {
		reads := ev.advisedReads(p.File, "POSIX_FADV_SEQUENTIAL")
		if len(reads) == 0 {
			return unmeasurable("no read of %s after SEQUENTIAL in the trace", p.File)
		}
		most, filling := int64(0), 0
		for _, r := range reads {
			n := pages(ev.causedBy(r, kFill))
			most = max(most, n)
			if n > 0 {
				filling++
			}
		}
		return verdict(most > 1, seqs(reads[0]), "%d reads; %d of them added pages, at most %d in one read", len(reads), filling, most)
	}},

	// --- aio ---

	// aio-done-in-submit: after io_submit of buffered reads, the first io_getevents — with
	// min_nr 0, so it cannot wait — found every one of them complete.
	"aio-done-in-submit": {fn: func(ev *evidence, _ workloads.Prediction) result {
		sub, gets := ev.aio()
		if sub == nil || len(gets) == 0 {
			return unmeasurable("no io_submit followed by io_getevents in the trace")
		}
		g := gets[0]
		return verdict(arg(g, "min_nr") == 0 && g.Ret == sub.Ret, seqs(sub, g),
			"io_submit = %d; the io_getevents(min_nr=%d) right after it found %d", sub.Ret, arg(g, "min_nr"), g.Ret)
	}},
	// direct-bypasses-cache: io_submit of O_DIRECT reads of File issued block read requests and
	// put no page of the file in the page cache.
	"direct-bypasses-cache": {needs: []string{kIssue, kFill}, fn: func(ev *evidence, p workloads.Prediction) result {
		sub, gets := ev.aio()
		if sub == nil {
			return unmeasurable("no io_submit in the trace")
		}
		reqs := reads(ev.causedBy(sub, kIssue))
		var fills []*event.Kernel
		for _, s := range append([]*event.Syscall{sub}, gets...) {
			fills = append(fills, ev.causedBy(s, kFill)...)
		}
		return verdict(len(reqs) > 0 && len(fills) == 0, seqs(sub), "io_submit issued %s (%s); %s added to the page cache", plural(len(reqs), "block read request"), kib(bytesOf(reqs)), plural(int(pages(fills)), "page"))
	}},
	// uring-batches: every io_uring_enter that submitted took its whole batch (ret = to_submit,
	// GETEVENTS), and there were at least N of them.
	"uring-batches": {fn: func(ev *evidence, p workloads.Prediction) result {
		es := ev.named(func(s *event.Syscall) bool { return arg(s, "to_submit") > 0 }, "io_uring_enter")
		if len(es) == 0 {
			return unmeasurable("no io_uring_enter submitting in the trace (io_uring refused?)")
		}
		whole := 0
		var parts []string
		for _, e := range es {
			if e.Ret == arg(e, "to_submit") {
				whole++
			}
			parts = append(parts, fmt.Sprintf("%d of %d", e.Ret, arg(e, "to_submit")))
		}
		return verdict(len(es) >= p.N && whole == len(es), seqs(es...), "%d io_uring_enter calls submitted %s", len(es), strings.Join(parts, ", "))
	}},
	// sqpoll-no-enter: with SQPOLL no io_uring_enter submitted, yet the kernel took submissions
	// (io_uring_submit_req).
	"sqpoll-no-enter": {needs: []string{kURSubmt}, fn: func(ev *evidence, _ workloads.Prediction) result {
		setups := ev.named(func(s *event.Syscall) bool { return s.Ret >= 0 }, "io_uring_setup")
		if len(setups) == 0 {
			return unmeasurable("no io_uring ring was set up (io_uring refused?)")
		}
		es := ev.named(func(s *event.Syscall) bool { return arg(s, "to_submit") > 0 }, "io_uring_enter")
		subs := 0
		for _, k := range ev.kernel {
			if slices.Contains(strings.Split(kURSubmt, "|"), k.Name) {
				subs++
			}
		}
		return verdict(len(es) == 0 && subs > 0, seqs(setups[0]), "%s submitted; the kernel took %s", plural(len(es), "io_uring_enter call"), plural(subs, "submission"))
	}},
	// cached-read: the read of File (just written) was served from the page cache: it raised no
	// block request and added no page.
	"cached-read": {needs: []string{kIssue, kFill}, absence: true, fn: func(ev *evidence, p workloads.Prediction) result {
		rs := ev.named(ev.on("fd", p.File), "pread64", "read")
		if len(rs) == 0 {
			return unmeasurable("no read of %s in the trace", p.File)
		}
		r := rs[len(rs)-1]
		reqs, fills := ev.causedBy(r, kIssue), ev.causedBy(r, kFill)
		return verdict(r.Ret > 0 && len(reqs) == 0 && len(fills) == 0, seqs(r), "%s = %s with %s and %s added", r.Name, retText(r), plural(len(reqs), "block request"), plural(int(pages(fills)), "page"))
	}},

	// --- dup ---

	// dup-same-file: dup of fd 1 returned a new number naming fd 1's open file description,
	// and a write through it succeeded while fd 1 was closed.
	"dup-same-file": {fn: func(ev *evidence, _ workloads.Prediction) result {
		ds := ev.named(func(s *event.Syscall) bool { return arg(s, "fildes") == 1 && s.Ret > 1 }, "dup")
		if len(ds) == 0 {
			return unmeasurable("no dup(1) in the trace")
		}
		d := ds[0]
		closed := ev.named(func(s *event.Syscall) bool { return arg(s, "fd") == 1 && s.TS > end(d) && s.Ret == 0 }, "close")
		var ws []*event.Syscall
		if len(closed) > 0 {
			ws = ev.named(func(s *event.Syscall) bool { return arg(s, "fd") == d.Ret && s.TS > end(closed[0]) }, "write")
		}
		if len(ws) == 0 {
			return failed(seqs(d), "dup(1) = %d; no write through it after close(1)", d.Ret)
		}
		same := fileID(d, "ret") == fileID(d, "fildes") && fileID(d, "ret") >= 0
		return verdict(same && ws[0].Ret > 0, seqs(d, ws[0]), "dup(1) = %d on open file #%d (fd 1's #%d); write through it after close(1) = %s",
			d.Ret, fileID(d, "ret"), fileID(d, "fildes"), retText(ws[0]))
	}},
	// write-lands-in: after dup2/dup3 onto fd N (N from the prediction, or the dup2's newfd),
	// the next write through it added a page of File to the page cache: the bytes went to File.
	"write-lands-in": {needs: []string{kFill}, fn: func(ev *evidence, p workloads.Prediction) result {
		ds := ev.named(func(s *event.Syscall) bool { return s.Ret >= 0 && (p.N == 0 || arg(s, "newfd") == int64(p.N)) }, dup2Calls...)
		if len(ds) == 0 {
			return unmeasurable("no dup2 in the trace")
		}
		d := ds[0]
		fd := arg(d, "newfd")
		ws := ev.named(func(s *event.Syscall) bool { return arg(s, "fd") == fd && s.TS > end(d) }, "write")
		if len(ws) == 0 {
			return unmeasurable("no write through fd %d after the %s", fd, d.Name)
		}
		w := ws[0]
		var hit []*event.Kernel
		for _, k := range ev.causedBy(w, kFill, "writeback_dirty_folio", "writeback_dirty_page") {
			if f, _ := k.Args.Str("file"); ev.isFile(f, p.File) {
				hit = append(hit, k)
			}
		}
		return verdict(w.Ret > 0 && len(hit) > 0, seqs(d, w), "write(%d) = %s after %s; %d page-cache events of %s under it", fd, retText(w), d.Name, len(hit), p.File)
	}},
	// shared-offset: after a write through one descriptor of File, lseek(SEEK_CUR) on its
	// duplicate returns where that write ended.
	"shared-offset": {fn: func(ev *evidence, p workloads.Prediction) result {
		ws := ev.named(func(s *event.Syscall) bool { return ev.isFile(path(s, "fd"), p.File) && s.Ret > 0 }, "write")
		if len(ws) == 0 {
			return unmeasurable("no write to %s in the trace", p.File)
		}
		w := ws[0]
		ls := ev.named(func(s *event.Syscall) bool {
			return s.TS > end(w) && fileID(s, "fd") == fileID(w, "fd") && arg(s, "fd") != arg(w, "fd") && arg(s, "offset") == 0
		}, "lseek")
		if len(ls) == 0 {
			return unmeasurable("no lseek of a duplicate of fd %d after the write", arg(w, "fd"))
		}
		l := ls[0]
		return verdict(l.Ret == w.Ret, seqs(w, l), "write(%d) = %d; lseek(%d, 0, SEEK_CUR) = %s", arg(w, "fd"), w.Ret, arg(l, "fd"), retText(l))
	}},
	// cloexec-closed: in the exec'd child, the O_CLOEXEC duplicate's number is gone (its stat
	// of /proc/self/fd/N fails with ENOENT) and the plain duplicate's is open.
	"cloexec-closed": {fn: func(ev *evidence, _ workloads.Prediction) result {
		d3 := ev.named(func(s *event.Syscall) bool { return hasFlag(str(s, "flags"), "O_CLOEXEC") && s.Ret >= 0 }, "dup3")
		if len(d3) == 0 {
			return unmeasurable("no dup3(O_CLOEXEC) in the trace")
		}
		plain := ev.named(func(s *event.Syscall) bool {
			return s.TS > end(d3[0]) && arg(s, "oldfd") == arg(d3[0], "oldfd") && !hasFlag(str(s, "flags"), "O_CLOEXEC") && s.Ret >= 0
		}, dup2Calls...)
		if len(plain) == 0 {
			return unmeasurable("no plain dup2 after the dup3 in the trace")
		}
		closed, kept := ev.procFDStat(d3[0].Ret, d3[0].PID), ev.procFDStat(plain[0].Ret, d3[0].PID)
		if closed == nil || kept == nil {
			return unmeasurable("the child's stat of /proc/self/fd/N is not in the trace")
		}
		return verdict(closed.Errno == "ENOENT" && kept.Ret == 0, seqs(closed, kept), "in the child, fd %d: %s; fd %d: %s", d3[0].Ret, retText(closed), plain[0].Ret, retText(kept))
	}},
	// dup2-closes: dup2 onto the open File closed it with no close call; the next write through
	// that number went to the other file (its page-cache page, not File's).
	"dup2-closes": {needs: []string{kFill}, fn: func(ev *evidence, p workloads.Prediction) result {
		ds := ev.named(func(s *event.Syscall) bool { return ev.isFile(path(s, "newfd"), p.File) && s.Ret >= 0 }, dup2Calls...)
		if len(ds) == 0 {
			return unmeasurable("no dup2 onto %s in the trace", p.File)
		}
		d := ds[0]
		fd := arg(d, "newfd")
		closes := ev.named(func(s *event.Syscall) bool { return arg(s, "fd") == fd && s.TS < d.TS }, "close")
		ws := ev.named(func(s *event.Syscall) bool { return arg(s, "fd") == fd && s.TS > end(d) }, "write")
		if len(ws) == 0 {
			return unmeasurable("no write through fd %d after the %s", fd, d.Name)
		}
		into := "nothing"
		for _, k := range ev.causedBy(ws[0], kFill, "writeback_dirty_folio", "writeback_dirty_page") {
			if f, _ := k.Args.Str("file"); f != "" {
				into = f[strings.LastIndexByte(f, '/')+1:]
			}
		}
		return verdict(len(closes) == 0 && into != "nothing" && !ev.isFile("/"+ev.variant+"/"+into, p.File), seqs(d, ws[0]),
			"%s of fd %d before the %s; the write through it then dirtied %s", plural(len(closes), "close"), fd, d.Name, into)
	}},
}

// ioCalls move data through a descriptor.
var ioCalls = []string{
	"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2",
	"sendfile64", "copy_file_range", "splice",
}

func nowaitReads(ev *evidence, file string) []*event.Syscall {
	return ev.named(func(s *event.Syscall) bool {
		return ev.isFile(path(s, "fd"), file) && hasFlag(str(s, "flags"), "RWF_NOWAIT")
	}, "preadv2")
}

// retText is a call's result as strace shows it: a number, or -1 ERRNO.
func retText(s *event.Syscall) string {
	if s.Failed() {
		return "-1 " + s.Errno
	}
	return fmt.Sprint(s.Ret)
}

// unescapedLen is the length of the bytes behind a decoder-escaped string.
func unescapedLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n++
		if s[i] != '\\' || i+1 >= len(s) {
			continue
		}
		i++
		if s[i] >= '0' && s[i] <= '7' {
			for j := 0; j < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; j++ {
				i++
			}
		}
	}
	return n
}

// bufText is the decoded data of a call's buffer argument buf.
func bufText(s *event.Syscall) string {
	v, _ := s.Decoded.Get("buf")
	switch b := v.(type) {
	case string:
		return b
	case event.Fields:
		d, _ := b.Str("data")
		return d
	}
	return ""
}

// readyFds are the fds an epoll wait reported: the workloads store each fd in the event data.
func readyFds(s *event.Syscall) []int64 {
	var fds []int64
	for _, e := range objects(s, "events") {
		if fd, ok := e.Int("data"); ok {
			fds = append(fds, fd)
		}
	}
	return fds
}

func eventMask(s *event.Syscall) string {
	v, _ := s.Decoded.Get("event")
	f, _ := v.(event.Fields)
	m, _ := f.Str("events")
	return m
}

// conversation is an epoll variant's accepted connection and the waits on the instance that
// reported it.
type conversation struct {
	conn   *event.Syscall // the accept
	connID int64
	waits  []*event.Syscall
}

func (ev *evidence) conversation() (conversation, bool) {
	var c conversation
	accs := ev.named(func(s *event.Syscall) bool { return s.Ret >= 0 }, "accept4", "accept")
	if len(accs) == 0 {
		return c, false
	}
	c.conn, c.connID = accs[0], fileID(accs[0], "ret")
	for _, w := range ev.named(nil, epollWaitCalls...) {
		if slices.Contains(readyFds(w), c.conn.Ret) {
			ep := fileID(w, "epfd")
			c.waits = ev.named(func(s *event.Syscall) bool { return fileID(s, "epfd") == ep }, epollWaitCalls...)
			break
		}
	}
	return c, len(c.waits) > 0
}

// sentToConn sums what the variant wrote into sockets other than the accepted connection: the
// client's end (connect is not among the calls a narrowed run shows).
func (ev *evidence) sentToConn(c conversation) int64 {
	var n int64
	for _, s := range ev.named(func(s *event.Syscall) bool {
		return s.Ret > 0 && strings.HasPrefix(path(s, "fd"), "socket:") && fileID(s, "fd") != c.connID
	}, "write", "sendto", "writev") {
		n += s.Ret
	}
	return n
}

// moved sums what successful calls named names moved through open file id, from..until.
func (ev *evidence) moved(id int64, from, until uint64, names ...string) int64 {
	var n int64
	for _, s := range ev.named(func(s *event.Syscall) bool {
		return fileID(s, "fd") == id && id >= 0 && s.TS > from && s.TS < until && s.Ret > 0
	}, names...) {
		n += s.Ret
	}
	return n
}

// epollWithAdds is the epoll instance that got exactly n successful EPOLL_CTL_ADDs (-1: none).
func (ev *evidence) epollWithAdds(n int) int64 {
	adds := map[int64]int{}
	for _, s := range ev.named(func(s *event.Syscall) bool { return str(s, "op") == "EPOLL_CTL_ADD" && s.Ret == 0 }, "epoll_ctl") {
		adds[fileID(s, "epfd")]++
	}
	for id, k := range adds {
		if k == n {
			return id
		}
	}
	return -1
}

// mapping is the first successful mmap of file and when its munmap ended (or the variant's
// last event when it was never unmapped).
func (ev *evidence) mapping(file string) (*event.Syscall, uint64, bool) {
	ms := ev.named(func(s *event.Syscall) bool { return ev.isFile(path(s, "fd"), file) && !s.Failed() }, "mmap")
	if len(ms) == 0 {
		return nil, 0, false
	}
	m := ms[0]
	until := ^uint64(0)
	if us := ev.named(func(s *event.Syscall) bool { return arg(s, "addr") == m.Ret && s.TS > m.TS }, "munmap"); len(us) > 0 {
		until = end(us[0])
	}
	return m, until, true
}

// faultsOn are the page faults the annotator placed in file's mapping, from..until.
func (ev *evidence) faultsOn(file string, from, until uint64) []*event.Kernel {
	var out []*event.Kernel
	for _, k := range ev.kernel {
		if m, _ := k.Args.Str("mapping"); isFault(k) && ev.isFile(m, file) && k.TS >= from && k.TS <= until {
			out = append(out, k)
		}
	}
	return out
}

func isFault(k *event.Kernel) bool { return k.Name == "page_fault_user" || k.Name == "page-faults" }

// writes and reads keep block requests by direction (rwbs starts W or R; D is a discard).
func writes(ks []*event.Kernel) []*event.Kernel { return byRWBS(ks, 'W') }
func reads(ks []*event.Kernel) []*event.Kernel  { return byRWBS(ks, 'R') }

func byRWBS(ks []*event.Kernel, dir byte) []*event.Kernel {
	var out []*event.Kernel
	for _, k := range ks {
		if r, _ := k.Args.Str("rwbs"); strings.IndexByte(r, dir) >= 0 {
			out = append(out, k)
		}
	}
	return out
}

func bytesOf(ks []*event.Kernel) int64 {
	var n int64
	for _, k := range ks {
		b, _ := k.Args.Int("bytes")
		n += b
	}
	return n
}

// plural is "1 page", "2 pages".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func kib(n int64) string { return fmt.Sprintf("%d KiB", n/1024) }

// advisedReads are the reads of file through the open file that got advice.
func (ev *evidence) advisedReads(file, advice string) []*event.Syscall {
	as := ev.named(func(s *event.Syscall) bool { return ev.isFile(path(s, "fd"), file) && str(s, "advice") == advice }, fadviseCalls...)
	if len(as) == 0 {
		return nil
	}
	a := as[0]
	return ev.named(func(s *event.Syscall) bool { return fileID(s, "fd") == fileID(a, "fd") && s.TS > end(a) && s.Ret > 0 }, "read")
}

// aio is the variant's io_submit and the io_getevents calls after it.
func (ev *evidence) aio() (*event.Syscall, []*event.Syscall) {
	subs := ev.named(func(s *event.Syscall) bool { return s.Ret > 0 }, "io_submit")
	if len(subs) == 0 {
		return nil, nil
	}
	sub := subs[0]
	return sub, ev.named(func(s *event.Syscall) bool { return s.TS > end(sub) }, "io_getevents", "io_pgetevents")
}

// procFDStat is the stat-family call of /proc/self/fd/N by a child of pid.
func (ev *evidence) procFDStat(fd int64, parent uint32) *event.Syscall {
	p := fmt.Sprintf("/proc/self/fd/%d", fd)
	for _, s := range ev.calls {
		if s.PID != parent && strings.Contains(s.Name, "stat") && (str(s, "filename") == p || str(s, "pathname") == p) {
			return s
		}
	}
	return nil
}
