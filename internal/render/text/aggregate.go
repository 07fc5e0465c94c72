package text

import (
	"strconv"

	"github.com/iotrace/iotrace/internal/event"
)

// countKey carries a burst's size into the line that stands for it.
const countKey = "\x00count"

// Keys whose values are summed, or shown as a range, across a burst.
var (
	sumKeys   = map[string]bool{"off_cpu_ns": true, "bytes": true, "nr_sector": true}
	rangeKeys = map[string]bool{"index": true, "last_index": true, "address": true, "sector": true, "page": true}
)

// aggregate folds a burst of same-kind kernel events into one set of arguments: counts, sums,
// index ranges, the values all events share, and how many hit each mapping.
func aggregate(burst []*event.Kernel) event.Fields {
	out := event.Fields{{Key: countKey, Val: int64(len(burst))}}
	for _, kv := range burst[0].Args {
		switch {
		case sumKeys[kv.Key]:
			var total int64
			for _, k := range burst {
				n, _ := k.Args.Int(kv.Key)
				total += n
			}
			out = append(out, event.Field{Key: kv.Key, Val: total})
		case rangeKeys[kv.Key]:
			lo, hi := int64(1<<62), int64(-1<<62)
			for _, k := range burst {
				n, ok := k.Args.Int(kv.Key)
				if !ok {
					continue
				}
				lo, hi = min(lo, n), max(hi, n)
			}
			if kv.Key == "index" {
				if last, ok := maxKey(burst, "last_index"); ok {
					hi = max(hi, last)
				}
			}
			if kv.Key == "last_index" {
				continue
			}
			out = append(out, event.Field{Key: kv.Key, Val: strconv.FormatInt(lo, 10) + "–" + strconv.FormatInt(hi, 10)})
		case kv.Key == "mapping":
			out = append(out, event.Field{Key: "mappings", Val: mappingCounts(burst)})
		default:
			if allEqual(burst, kv) {
				out = append(out, kv)
			}
		}
	}
	return out
}

func maxKey(burst []*event.Kernel, key string) (int64, bool) {
	best, found := int64(-1<<62), false
	for _, k := range burst {
		if n, ok := k.Args.Int(key); ok {
			best, found = max(best, n), true
		}
	}
	return best, found
}

func allEqual(burst []*event.Kernel, kv event.Field) bool {
	for _, k := range burst[1:] {
		v, ok := k.Args.Get(kv.Key)
		if !ok || v != kv.Val {
			return false
		}
	}
	return true
}

// mappingCounts is "[anon]×15,/usr/bin/x×2", in order of first appearance.
func mappingCounts(burst []*event.Kernel) string {
	var order []string
	counts := map[string]int{}
	for _, k := range burst {
		m, _ := k.Args.Str("mapping")
		if m == "" {
			m = "?"
		}
		if counts[m] == 0 {
			order = append(order, m)
		}
		counts[m]++
	}
	s := ""
	for i, m := range order {
		if i > 0 {
			s += ","
		}
		s += m + "×" + strconv.Itoa(counts[m])
	}
	return s
}
