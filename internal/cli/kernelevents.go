package cli

import (
	"slices"
	"strings"

	"github.com/iotrace/iotrace/internal/probe"
)

// parseKernelEvents reads --kernel-events: "all", "none", or a comma list of event names and
// groups (filemap, readahead, block, io_uring, writeback, kmem, exceptions, sched, libc).
func parseKernelEvents(list string) (map[string]bool, error) {
	sel := map[string]bool{}
	switch list {
	case "", "all":
		for _, n := range probe.KernelEventNames() {
			sel[n] = true
		}
		// glibc's POSIX AIO uprobes cost every process mapping libc a breakpoint: by default only
		// for a command that calls those functions (session decides)
		sel[probe.LibcAuto] = true
		return sel, nil
	case "none":
		return sel, nil
	}
	groups := map[string][]string{"sched": {"sched"}}
	for _, k := range probe.KernelEvents {
		groups[k.Group] = append(groups[k.Group], k.Name())
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if names, ok := groups[item]; ok {
			for _, n := range names {
				sel[n] = true
			}
			continue
		}
		if slices.Contains(probe.KernelEventNames(), item) {
			sel[item] = true
			continue
		}
		valid := probe.KernelEventNames()
		for g := range groups {
			if !slices.Contains(valid, g) {
				valid = append(valid, g)
			}
		}
		slices.Sort(valid)
		return nil, flagErrorf("unknown kernel event %q in --kernel-events; valid: all, none, %s", item, strings.Join(valid, ", "))
	}
	return sel, nil
}

func kernelEventsHelp() string {
	return "kernel events to show: all, none, or a list of groups (filemap, readahead, block, io_uring, writeback, kmem, exceptions, sched, libc) and names"
}
