package annotate

import (
	"fmt"

	"github.com/iotrace/iotrace/internal/event"
)

// Readahead, from the readahead tracepoints (6.18; mm/readahead.c) and the page-cache fills
// that follow them in the same call or fault:
//
//   - page_cache_sync_ra (a read missed the cache at index, asking req_count pages) and
//     page_cache_async_ra (a read reached the folio carrying the readahead mark at index) are
//     triggers. Both fire on entry, so their size/async_size are the PREVIOUS window, not the
//     one read now; ra_pages is the per-file cap, not a window.
//   - page_cache_ra_order is the window the kernel then reads: index is its start, size its
//     pages, async_size how many of them lie past the next readahead mark. A fault's mmap
//     read-around has no trigger, only this.
//   - page_cache_ra_unbounded is a window read without the large-folio path: forced
//     readahead (WILLNEED, readahead(2): no trigger, 2 MiB chunks), readahead switched off
//     (POSIX_FADV_RANDOM, ra_pages 0) or a small random read (a sync trigger, then exactly the
//     pages asked, no lookahead), or the rest of an ra_order window.
//
// The pages a readahead added are the fills after its window until the next readahead event:
// a window over pages already cached, or past the end of the file, adds fewer than its size.
// Kernels without these tracepoints (6.1, 6.8) get readahead inferred from fills (inferRA).

// raEpisode is one readahead: what triggered it, the window(s) read, the pages it added.
type raEpisode struct {
	ino     int64
	trigger *event.Kernel
	windows []*event.Kernel
	added   pageRun
}

// episodes splits a call's (or a fault's) events into readaheads, in order.
func episodes(ks []*event.Kernel) []*raEpisode {
	var out []*raEpisode
	cur := map[int64]*raEpisode{} // by inode: the readahead whose fills are arriving
	for _, k := range ks {
		ino, _ := k.Args.Int("i_ino")
		idx, _ := k.Args.Int("index")
		e := cur[ino]
		switch k.Name {
		case "page_cache_sync_ra", "page_cache_async_ra":
			e = &raEpisode{ino: ino, trigger: k}
			out = append(out, e)
			cur[ino] = e
		case "page_cache_ra_order":
			if e == nil || len(e.windows) > 0 || e.trigger == nil {
				e = &raEpisode{ino: ino}
				out = append(out, e)
				cur[ino] = e
			}
			e.windows = append(e.windows, k)
		case "page_cache_ra_unbounded":
			if e != nil && (e.trigger != nil && len(e.windows) == 0 || len(e.windows) > 0 && contiguous(e.windows[len(e.windows)-1], idx)) {
				e.windows = append(e.windows, k)
				continue
			}
			e = &raEpisode{ino: ino, windows: []*event.Kernel{k}}
			out = append(out, e)
			cur[ino] = e
		case "mm_filemap_add_to_page_cache":
			if e != nil && (len(e.windows) > 0 || e.trigger != nil) {
				order, _ := k.Args.Int("order")
				e.added.add(idx, 1<<order)
			}
		}
	}
	return out
}

// windowOf is the pages [first, last] a window event covers, and its lookahead.
func windowOf(k *event.Kernel) (first, n, ahead int64) {
	first, _ = k.Args.Int("index")
	if k.Name == "page_cache_ra_unbounded" {
		n, _ = k.Args.Int("nr_to_read")
		ahead, _ = k.Args.Int("lookahead_size")
		return
	}
	n, _ = k.Args.Int("size")
	ahead, _ = k.Args.Int("async_size")
	return
}

// contiguous reports whether a window starting at idx continues prev (a chunk of forced
// readahead, or the rest of an ra_order window read page by page).
func contiguous(prev *event.Kernel, idx int64) bool {
	first, n, _ := windowOf(prev)
	if prev.Name == "page_cache_ra_order" {
		return idx >= first && idx < first+n
	}
	return idx == first+n
}

// span is the pages the windows cover, and their total.
func (e *raEpisode) span() (first, last, total, ahead int64) {
	for i, w := range e.windows {
		f, n, a := windowOf(w)
		if i == 0 || f < first {
			first = f
		}
		if i == 0 || f+n-1 > last {
			last = f + n - 1
		}
		if i == 0 {
			ahead = a
			total = n
		} else if e.windows[0].Name == "page_cache_ra_unbounded" {
			total += n // chunks of forced readahead add up; the rest of an ra_order window does not
		}
	}
	return
}

func (e *raEpisode) addedText() string {
	if e.added.pages == 0 {
		return "added no page (all cached already)"
	}
	return "added " + pages(e.added.pages)
}

// readaheadNotes says, for each readahead of a call or fault, what triggered it, the window
// the kernel used and the pages it added; a read on a file whose readahead is off says so.
// advice is the POSIX_FADV_* mode of the open file the call read ("" when unknown);
// skipForced leaves out forced readahead (WILLNEED has its own note).
func (a *Annotator) readaheadNotes(ks []*event.Kernel, advice string, skipForced bool) []string {
	var notes []string
	for _, e := range episodes(ks) {
		name := a.fileName(uint64(e.ino))
		if len(e.windows) == 0 {
			idx, _ := e.trigger.Args.Int("index")
			kind := "synchronous"
			if e.trigger.Name == "page_cache_async_ra" {
				kind = "asynchronous"
			}
			if e.added.pages > 0 {
				// a recording without page_cache_ra_order: the window is not in it
				notes = append(notes, fmt.Sprintf("%s readahead of %s at page %d (its window is not in this trace); %s", kind, name, idx, e.addedText()))
				continue
			}
			notes = append(notes, fmt.Sprintf("%s readahead of %s triggered at page %d added no page", kind, name, idx))
			continue
		}
		first, last, total, ahead := e.span()
		window := fmt.Sprintf("pages %d–%d (%s)", first, last, pages(total))
		if total == 1 {
			window = fmt.Sprintf("page %d", first)
		}
		mark := ""
		if ahead > 0 && ahead <= total {
			mark = fmt.Sprintf(", next readahead marked at page %d", first+total-ahead)
		}
		switch {
		case e.trigger == nil && e.windows[0].Name == "page_cache_ra_order":
			notes = append(notes, fmt.Sprintf("mmap read-around of %s: the kernel read the window %s%s; %s",
				name, window, mark, e.addedText()))
		case e.trigger == nil:
			if skipForced {
				continue
			}
			chunks := ""
			if len(e.windows) > 1 {
				chunks = fmt.Sprintf(", in %d chunks", len(e.windows))
			}
			notes = append(notes, fmt.Sprintf("forced readahead of %s: pages %d–%d (%s%s); %s", name, first, last, pages(total), chunks, e.addedText()))
		case e.trigger.Name == "page_cache_sync_ra":
			idx, _ := e.trigger.Args.Int("index")
			req, _ := e.trigger.Args.Int("req_count")
			raPages, _ := e.trigger.Args.Int("ra_pages")
			asked := fmt.Sprintf("the read missed the cache at page %d, asking %s", idx, pages(req))
			if e.windows[0].Name == "page_cache_ra_unbounded" && ahead == 0 && total <= max(req, 1) {
				switch {
				case advice == "POSIX_FADV_RANDOM":
					notes = append(notes, fmt.Sprintf("readahead off (POSIX_FADV_RANDOM on this open file): %s, and the kernel read only %s; %s", asked, window, e.addedText()))
				case raPages == 0:
					notes = append(notes, fmt.Sprintf("readahead off (its device reads no pages ahead): %s, and the kernel read only %s; %s", asked, window, e.addedText()))
				default:
					notes = append(notes, fmt.Sprintf("no readahead: %s away from where the previous read ended (a random read), and the kernel read only %s; %s", asked, window, e.addedText()))
				}
				continue
			}
			notes = append(notes, fmt.Sprintf("synchronous readahead of %s: %s; the kernel read the window %s%s; %s",
				name, asked, window, mark, e.addedText()))
		default:
			idx, _ := e.trigger.Args.Int("index")
			notes = append(notes, fmt.Sprintf("asynchronous readahead of %s: the read reached the readahead mark at page %d; the kernel read ahead %s%s; %s",
				name, idx, window, mark, e.addedText()))
		}
	}
	return notes
}

// reads are the calls whose page-cache fills beyond the bytes asked for are readahead.
var reads = map[string]bool{"read": true, "pread64": true, "readv": true, "preadv": true, "preadv2": true}

// inferRA notes what a read's fills show about readahead on kernels without the readahead
// tracepoints: pages cached beyond those the read returned are readahead; a read on a
// POSIX_FADV_RANDOM file that cached no more than it asked for had readahead off.
func (a *Annotator) inferRA(s *event.Syscall, e *effects, advice string) []string {
	if !reads[s.Name] || s.Failed() {
		return nil
	}
	var notes []string
	asked := (max(s.Ret, 0) + pageSize - 1) / pageSize
	for _, ino := range sortedKeys(e.added) {
		r := e.added[ino]
		switch {
		case r.pages > asked:
			notes = append(notes, fmt.Sprintf("readahead (inferred from page-cache fills; this kernel has no readahead tracepoints): cached %s of %s, %d beyond the %d read",
				pages(r.pages), a.fileName(uint64(ino)), r.pages-asked, asked))
		case advice == "POSIX_FADV_RANDOM":
			notes = append(notes, fmt.Sprintf("readahead off (POSIX_FADV_RANDOM on this open file): the read cached only %s of %s, no more than it asked for (from page-cache fills; this kernel has no readahead tracepoints)",
				pages(r.pages), a.fileName(uint64(ino))))
		}
	}
	return notes
}
