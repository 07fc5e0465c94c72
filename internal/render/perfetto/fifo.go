package perfetto

// fifo is a map with a fixed capacity that forgets its oldest keys first: the writer's memory
// of recent syscalls and of flows waiting for them stays bounded on any recording.
type fifo[V any] struct {
	m     map[uint64]V
	keys  []uint64 // ring of insertion order; may hold keys already taken
	head  int
	limit int
}

func newFIFO[V any](limit int) fifo[V] {
	return fifo[V]{m: make(map[uint64]V), limit: limit}
}

func (f *fifo[V]) put(k uint64, v V) {
	if _, ok := f.m[k]; ok {
		f.m[k] = v
		return
	}
	if len(f.keys) < f.limit {
		f.keys = append(f.keys, k)
	} else {
		delete(f.m, f.keys[f.head])
		f.keys[f.head] = k
		f.head = (f.head + 1) % f.limit
	}
	f.m[k] = v
}

func (f *fifo[V]) get(k uint64) (V, bool) {
	v, ok := f.m[k]
	return v, ok
}

// take returns k's value and forgets it.
func (f *fifo[V]) take(k uint64) (V, bool) {
	v, ok := f.m[k]
	if ok {
		delete(f.m, k)
	}
	return v, ok
}
