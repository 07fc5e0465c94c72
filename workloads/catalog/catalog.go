// Package catalog lists the built-in workloads in tour order.
package catalog

import (
	"fmt"
	"strings"

	"github.com/iotrace/iotrace/workloads"
	"github.com/iotrace/iotrace/workloads/aio"
	"github.com/iotrace/iotrace/workloads/dup"
	"github.com/iotrace/iotrace/workloads/epoll"
	"github.com/iotrace/iotrace/workloads/fadvise"
	"github.com/iotrace/iotrace/workloads/mmap"
	"github.com/iotrace/iotrace/workloads/vectored"
)

// All returns every workload in the article's order: vectored, epoll, mmap,
// fadvise, aio, dup.
func All() []*workloads.Workload {
	return []*workloads.Workload{
		vectored.Workload(),
		epoll.Workload(),
		mmap.Workload(),
		fadvise.Workload(),
		aio.Workload(),
		dup.Workload(),
	}
}

// Lookup returns the workload called name, or an error listing the valid names.
func Lookup(name string) (*workloads.Workload, error) {
	all := All()
	names := make([]string, len(all))
	for i, w := range all {
		if w.Name == name {
			return w, nil
		}
		names[i] = w.Name
	}
	return nil, fmt.Errorf("unknown workload %q (valid: %s)", name, strings.Join(names, ", "))
}
