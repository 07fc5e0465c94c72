package probe

import (
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/iotrace/iotrace/bpf"
)

// loadObjects loads the collection into objs with the programs verified concurrently: the two
// syscall programs take most of the start-up in the verifier (tens of milliseconds each, one
// after the other in ebpf.CollectionSpec.LoadAndAssign), and privileged verification runs in
// parallel in the kernel. The maps are created once, first, and shared by every program.
func loadObjects(spec *ebpf.CollectionSpec, objs *bpf.IotraceObjects) error {
	// One decoding of the kernel's BTF for every load (btf.Cache is safe for concurrent use),
	// begun while the kernel creates the maps: the programs' CO-RE relocations need it.
	cache := btf.NewCache()
	warm := make(chan struct{})
	go func() { defer close(warm); _, _ = cache.Kernel() }()
	maps := spec.Copy()
	maps.Programs = nil
	coll, err := ebpf.NewCollectionWithOptions(maps, ebpf.CollectionOptions{Cache: cache})
	if err != nil {
		return err
	}
	defer coll.Close() // the programs hold their own references; objs keeps clones of the maps
	opts := &ebpf.CollectionOptions{MapReplacements: coll.Maps, Cache: cache}
	<-warm // else each load below would decode it again

	// One group per heavy program, the rest together.
	var enter struct {
		P *ebpf.Program `ebpf:"sys_enter"`
	}
	var exit struct {
		P *ebpf.Program `ebpf:"sys_exit"`
	}
	rest := spec.Copy()
	delete(rest.Programs, bpf.IotraceProgSysEnter)
	delete(rest.Programs, bpf.IotraceProgSysExit)
	var others *ebpf.Collection
	errs := make([]error, 3)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); errs[0] = spec.Copy().LoadAndAssign(&enter, opts) }()
	go func() { defer wg.Done(); errs[1] = spec.Copy().LoadAndAssign(&exit, opts) }()
	go func() { defer wg.Done(); others, errs[2] = ebpf.NewCollectionWithOptions(rest, *opts) }()
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			continue
		}
		for _, p := range []*ebpf.Program{enter.P, exit.P} {
			if p != nil {
				p.Close()
			}
		}
		if others != nil {
			others.Close()
		}
		return err // one refusal is the kernel's answer, naming the program it refused
	}
	defer others.Close()

	// Assign takes what it assigns out of the collection, so the deferred Closes leave it.
	all := &ebpf.Collection{Programs: others.Programs, Maps: coll.Maps, Variables: coll.Variables}
	all.Programs[bpf.IotraceProgSysEnter] = enter.P
	all.Programs[bpf.IotraceProgSysExit] = exit.P
	if err := all.Assign(objs); err != nil {
		return fmt.Errorf("assign BPF objects: %w", err)
	}
	return nil
}
