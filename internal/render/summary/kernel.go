package summary

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// kernelAcc accumulates one kind of kernel event.
type kernelAcc struct {
	st event.KernelStat
	by map[string]*event.KeyCount
}

// maxBy is how many files or mappings a kernel effect lists.
const maxBy = 5

// pagesOf is how many pages one kernel event concerns: a folio of 2^order pages, a fault-around
// range, a readahead window.
func pagesOf(k *event.Kernel) int64 {
	switch k.Name {
	case "mm_filemap_add_to_page_cache", "mm_filemap_delete_from_page_cache":
		order, _ := k.Args.Int("order")
		return 1 << order
	case "mm_filemap_map_pages":
		first, _ := k.Args.Int("index")
		last, _ := k.Args.Int("last_index")
		return last - first + 1 // the window asked: fault-around maps only the cached pages in it
	case "page_cache_ra_order":
		n, _ := k.Args.Int("size")
		return n // the window read (sync_ra and async_ra carry the previous one: not counted)
	case "page_cache_ra_unbounded":
		n, _ := k.Args.Int("nr_to_read")
		return n
	case "page_fault_user", "page-faults", "mm_filemap_fault":
		return 1
	}
	return 0
}

func (c *Counter) addKernel(k *event.Kernel) {
	if c.kernel == nil {
		c.kernel = make(map[string]*kernelAcc)
	}
	a := c.kernel[k.Name]
	if a == nil {
		a = &kernelAcc{st: event.KernelStat{Name: k.Name}, by: map[string]*event.KeyCount{}}
		c.kernel[k.Name] = a
	}
	pages := pagesOf(k)
	a.st.Events++
	a.st.Pages += pages
	if _, again := k.Args.Get("reissued"); again {
		// a requeued request issued again: its bytes are counted once
	} else if n, ok := k.Args.Int("bytes"); ok {
		a.st.Bytes += n
	} else if n, ok := k.Args.Int("nr_sector"); ok && k.Name == "block_rq_complete" {
		a.st.Bytes += n * 512
	}
	if n, ok := k.Args.Int("off_cpu_ns"); ok {
		a.st.OffCPUNS += n
	}
	key, ok := k.Args.Str("file")
	if !ok {
		key, ok = k.Args.Str("mapping")
	}
	if ok {
		kc := a.by[key]
		if kc == nil {
			kc = &event.KeyCount{Key: key}
			a.by[key] = kc
		}
		kc.Events++
		kc.Pages += pages
	}
}

func (c *Counter) kernelStats() []event.KernelStat {
	var out []event.KernelStat
	for _, a := range c.kernel {
		st := a.st
		for _, kc := range a.by {
			st.By = append(st.By, *kc)
		}
		sort.Slice(st.By, func(i, j int) bool {
			if st.By[i].Events != st.By[j].Events {
				return st.By[i].Events > st.By[j].Events
			}
			return st.By[i].Key < st.By[j].Key
		})
		if len(st.By) > maxBy {
			st.By = st.By[:maxBy]
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// writeKernel prints what the kernel did, per kind of event, under the syscall table.
func writeKernel(w io.Writer, ks []event.KernelStat) {
	if len(ks) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-34s %9s %9s %12s %12s  %s\n", "kernel effect", "events", "pages", "bytes", "off-CPU s", "most affected")
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", 100))
	for _, k := range ks {
		var by []string
		for _, kc := range k.By {
			by = append(by, fmt.Sprintf("%s ×%d", kc.Key, kc.Events))
		}
		fmt.Fprintf(w, "%-34s %9d %9s %12s %12s  %s\n", k.Name, k.Events, blank(k.Pages), blank(k.Bytes),
			secs(k.OffCPUNS), strings.Join(by, ", "))
	}
}

func blank(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func secs(ns int64) string {
	if ns == 0 {
		return ""
	}
	return fmt.Sprintf("%.6f", float64(ns)/1e9)
}
