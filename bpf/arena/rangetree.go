package arena

import (
	"sort"
	"syscall"
)

// rangeTree is the arena's set of free page offsets, kept as maximal runs.
// It mirrors kernel/bpf/range_tree.c, including its placement policy: find
// picks the smallest free run that fits, and among runs of that size the
// one (re)inserted most recently, which is the order the kernel's
// size-sorted rbtree produces. Runs are kept sorted by start; find scans
// them.
type rangeTree struct {
	runs []*run // disjoint, sorted by start
	seq  uint64 // insertion counter, for find's tie-break
}

type run struct {
	start, last uint32 // inclusive
	seq         uint64
}

func (r *run) size() uint32 { return r.last - r.start + 1 }

// iterFirst returns the index of the lowest run overlapping [start, last],
// or -1. Mirrors range_it_iter_first().
func (t *rangeTree) iterFirst(start, last uint32) int {
	i := sort.Search(len(t.runs), func(i int) bool { return t.runs[i].last >= start })
	if i < len(t.runs) && t.runs[i].start <= last {
		return i
	}
	return -1
}

// insert adds r in start order and stamps it as the newest insertion.
// Mirrors range_it_insert().
func (t *rangeTree) insert(r *run) {
	t.seq++
	r.seq = t.seq
	i := sort.Search(len(t.runs), func(i int) bool { return t.runs[i].start > r.start })
	t.runs = append(t.runs, nil)
	copy(t.runs[i+1:], t.runs[i:])
	t.runs[i] = r
}

// remove drops the run at index i. Mirrors range_it_remove().
func (t *rangeTree) remove(i int) *run {
	r := t.runs[i]
	copy(t.runs[i:], t.runs[i+1:])
	t.runs[len(t.runs)-1] = nil
	t.runs = t.runs[:len(t.runs)-1]
	return r
}

// reinsert removes the run at index i, lets fn change its bounds and inserts
// it again (as the kernel does whenever it resizes a node).
func (t *rangeTree) reinsert(i int, fn func(r *run)) {
	r := t.remove(i)
	fn(r)
	t.insert(r)
}

// find returns the start of the best-fitting free run of at least n pages.
// Mirrors range_tree_find().
func (t *rangeTree) find(n uint32) (uint32, bool) {
	var best *run
	for _, r := range t.runs {
		if r.size() < n {
			continue
		}
		if best == nil || r.size() < best.size() || (r.size() == best.size() && r.seq > best.seq) {
			best = r
		}
	}
	if best == nil {
		return 0, false
	}
	return best.start, true
}

// clear marks [start, start+n) as not free. Mirrors range_tree_clear().
func (t *rangeTree) clear(start, n uint32) {
	last := start + n - 1
	for {
		i := t.iterFirst(start, last)
		if i < 0 {
			return
		}
		r := t.runs[i]
		switch {
		case r.start < start && r.last > last:
			oldLast := r.last
			t.reinsert(i, func(r *run) { r.last = start - 1 })
			t.insert(&run{start: last + 1, last: oldLast})
		case r.start < start:
			t.reinsert(i, func(r *run) { r.last = start - 1 })
		case r.last > last:
			t.reinsert(i, func(r *run) { r.start = last + 1 })
			return
		default:
			t.remove(i)
		}
	}
}

// isSet reports whether all of [start, start+n) is free; like the kernel it
// returns nil or ESRCH. Mirrors is_range_tree_set().
func (t *rangeTree) isSet(start, n uint32) error {
	last := start + n - 1
	if i := t.iterFirst(start, last); i >= 0 && t.runs[i].start <= start && t.runs[i].last >= last {
		return nil
	}
	return syscall.ESRCH
}

// set marks [start, start+n) free, merging with neighbours.
// Mirrors range_tree_set().
func (t *rangeTree) set(start, n uint32) {
	last := start + n - 1
	if t.isSet(start, n) == nil {
		return
	}
	t.clear(start, n)
	left := t.iterFirst(start-1, start-1)
	right := t.iterFirst(last+1, last+1)
	if left >= 0 && t.runs[left].last+1 != start {
		left = -1
	}
	if right >= 0 && t.runs[right].start != last+1 {
		right = -1
	}
	switch {
	case left >= 0 && right >= 0:
		newLast := t.runs[right].last
		t.remove(right) // right > left: left's index is unchanged
		t.reinsert(left, func(r *run) { r.last = newLast })
	case left >= 0:
		t.reinsert(left, func(r *run) { r.last = last })
	case right >= 0:
		t.reinsert(right, func(r *run) { r.start = start })
	default:
		t.insert(&run{start: start, last: last})
	}
}

// free returns the total number of free pages (for tests and reports).
func (t *rangeTree) free() uint64 {
	var n uint64
	for _, r := range t.runs {
		n += uint64(r.size())
	}
	return n
}
