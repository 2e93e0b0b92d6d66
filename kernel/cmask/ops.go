package cmask

import (
	"iter"
	"math/bits"
)

// op2 names a two-cmask operation, as enum cmask_op2 in cid.c.
type op2 uint8

const (
	opAnd op2 = iota
	opOr
	opCopy
	opAndNot
	opSubset     // true on the first bit of b (sub) not in a (super)
	opIntersects // true on the first bit in both
)

// wordOp2 applies op to one word pair under mask. It returns the new value
// of a and, for predicates, whether the word decides the answer. Mirrors
// cmask_word_op2().
func wordOp2(av, bv, mask uint64, op op2) (uint64, bool) {
	switch op {
	case opAnd:
		return av & (^mask | bv), false
	case opOr:
		return av | (bv & mask), false
	case opCopy:
		return (av &^ mask) | (bv & mask), false
	case opAndNot:
		return av &^ (bv & mask), false
	case opSubset:
		return av, bv&^av&mask != 0
	default: // opIntersects
		return av, av&bv&mask != 0
	}
}

// walk2 walks the intersection of [aBase, aBase+aNr) and [bBase, bBase+bNr)
// a word at a time, applying op with bits outside the intersection masked
// off, so only a's bits inside both ranges change. Mutating ops return
// false; predicates return true on the first deciding word. An empty
// intersection returns false, as does a header that points past the view's
// storage. All range arithmetic is u32, as in the kernel. Mirrors
// cmask_walk_op2().
func walk2(a Mask, aBase, aNr uint32, b Mask, bBase, bNr uint32, op op2) bool {
	lo := max(aBase, bBase)
	hi := min(aBase+aNr, bBase+bNr)
	if lo >= hi {
		return false
	}
	loW, hiW := lo/64, (hi-1)/64
	aw, ok := a.words(loW-aBase/64, hiW-aBase/64+1)
	if !ok {
		return false
	}
	bw, ok := b.words(loW-bBase/64, hiW-bBase/64+1)
	if !ok {
		return false
	}
	head := ^uint64(0) << (lo & 63)
	tail := ^uint64(0) >> (63 - (hi-1)&63)
	last := len(aw) - 8
	pred := op == opSubset || op == opIntersects
	if last == 0 {
		v, hit := wordOp2(le.Uint64(aw), le.Uint64(bw), head&tail, op)
		if !pred {
			le.PutUint64(aw, v)
		}
		return hit
	}
	if v, hit := wordOp2(le.Uint64(aw), le.Uint64(bw), head, op); pred {
		if hit {
			return true
		}
	} else {
		le.PutUint64(aw, v)
	}
	// Whole middle words: one tight loop per op, written so the compiler
	// drops the bounds checks.
	am, bm := aw[8:last], bw[8:last]
	bm = bm[:len(am)]
	switch op {
	case opAnd:
		for i := 0; i+8 <= len(am); i += 8 {
			le.PutUint64(am[i:], le.Uint64(am[i:])&le.Uint64(bm[i:]))
		}
	case opOr:
		for i := 0; i+8 <= len(am); i += 8 {
			le.PutUint64(am[i:], le.Uint64(am[i:])|le.Uint64(bm[i:]))
		}
	case opCopy:
		copy(am, bm)
	case opAndNot:
		for i := 0; i+8 <= len(am); i += 8 {
			le.PutUint64(am[i:], le.Uint64(am[i:])&^le.Uint64(bm[i:]))
		}
	case opSubset:
		for i := 0; i+8 <= len(am); i += 8 {
			if le.Uint64(bm[i:])&^le.Uint64(am[i:]) != 0 {
				return true
			}
		}
	case opIntersects:
		for i := 0; i+8 <= len(am); i += 8 {
			if le.Uint64(am[i:])&le.Uint64(bm[i:]) != 0 {
				return true
			}
		}
	}
	v, hit := wordOp2(le.Uint64(aw[last:]), le.Uint64(bw[last:]), tail, op)
	if !pred {
		le.PutUint64(aw[last:], v)
	}
	return hit
}

// And clears the bits of m, inside both ranges, that are clear in src; bits
// of m outside src's range are untouched. Mirrors scx_cmask_and().
func (m Mask) And(src Mask) {
	walk2(m, m.Base(), m.NrCids(), src, src.Base(), src.NrCids(), opAnd)
}

// Or sets the bits of m that are set in src, inside both ranges. Mirrors
// scx_cmask_or().
func (m Mask) Or(src Mask) {
	walk2(m, m.Base(), m.NrCids(), src, src.Base(), src.NrCids(), opOr)
}

// Copy gives m src's bits inside both ranges; m's bits outside src's range
// are NOT cleared. Mirrors scx_cmask_copy().
func (m Mask) Copy(src Mask) {
	walk2(m, m.Base(), m.NrCids(), src, src.Base(), src.NrCids(), opCopy)
}

// AndNot clears the bits of m that are set in src, inside both ranges.
// Mirrors scx_cmask_andnot().
func (m Mask) AndNot(src Mask) {
	walk2(m, m.Base(), m.NrCids(), src, src.Base(), src.NrCids(), opAndNot)
}

// Intersects reports whether m and o share a set cid. Mirrors
// scx_cmask_intersects().
func (m Mask) Intersects(o Mask) bool {
	return walk2(m, m.Base(), m.NrCids(), o, o.Base(), o.NrCids(), opIntersects)
}

// anyIn reports whether m has a bit set in [lo, hi), which must lie inside
// m's range. Mirrors cmask_any_set_in_range().
func (m Mask) anyIn(lo, hi uint32) bool {
	if lo >= hi {
		return false
	}
	wb := m.Base() / 64
	w, ok := m.words(lo/64-wb, (hi-1)/64-wb+1)
	return ok && anySet(w, ^uint64(0)<<(lo&63), ^uint64(0)>>(63-(hi-1)&63))
}

// anySet reports whether any bit is set in the words w, the first masked
// by head and the last by tail. Mirrors cmask_walk_op1(CMASK_OP1_ANY_SET).
func anySet(w []byte, head, tail uint64) bool {
	last := len(w) - 8
	if last == 0 {
		return le.Uint64(w)&head&tail != 0
	}
	if le.Uint64(w)&head != 0 || le.Uint64(w[last:])&tail != 0 {
		return true
	}
	for i := 8; i < last; i += 8 {
		if le.Uint64(w[i:]) != 0 {
			return true
		}
	}
	return false
}

// SubsetOf reports whether every set cid of m is set in super; a set cid of
// m outside super's range makes it false. Mirrors scx_cmask_subset(). (The
// BPF-side cmask_subset() instead fails whenever m's range is not inside
// super's, set bits or not.)
func (m Mask) SubsetOf(super Mask) bool {
	mBase, mEnd := m.Base(), m.Base()+m.NrCids()
	sBase, sEnd := super.Base(), super.Base()+super.NrCids()
	if mBase < sBase && m.anyIn(mBase, min(sBase, mEnd)) {
		return false
	}
	if mEnd > sEnd && m.anyIn(max(mBase, sEnd), mEnd) {
		return false
	}
	return !walk2(super, sBase, super.NrCids(), m, mBase, m.NrCids(), opSubset)
}

// Equal reports whether m and o have the same range and the same bits in
// it. Mirrors the BPF-side cmask_equal(), comparing only the active words
// (padding is zero by invariant; words past the range are not compared).
func (m Mask) Equal(o Mask) bool {
	if m.Base() != o.Base() || m.NrCids() != o.NrCids() {
		return false
	}
	mw, head, tail, ok := m.activeWords()
	ow, _, _, ok2 := o.activeWords()
	if !ok || !ok2 {
		return ok == ok2
	}
	last := len(mw) - 8
	if last == 0 {
		return (le.Uint64(mw)^le.Uint64(ow))&head&tail == 0
	}
	if (le.Uint64(mw)^le.Uint64(ow))&head != 0 || (le.Uint64(mw[last:])^le.Uint64(ow[last:]))&tail != 0 {
		return false
	}
	for i := 8; i < last; i += 8 {
		if le.Uint64(mw[i:]) != le.Uint64(ow[i:]) {
			return false
		}
	}
	return true
}

// Weight counts the set cids of the active range. Mirrors the BPF-side
// cmask_weight(), counting only the active words, head and tail masked.
func (m Mask) Weight() uint32 {
	w, head, tail, ok := m.activeWords()
	if !ok {
		return 0
	}
	last := len(w) - 8
	if last == 0 {
		return uint32(bits.OnesCount64(le.Uint64(w) & head & tail))
	}
	n := bits.OnesCount64(le.Uint64(w)&head) + bits.OnesCount64(le.Uint64(w[last:])&tail)
	for i := 8; i < last; i += 8 {
		n += bits.OnesCount64(le.Uint64(w[i:]))
	}
	return uint32(n)
}

// NextSet returns the first set cid in [cid, base+nr_cids), cid raised to
// base if below it, or base+nr_cids when there is none. Mirrors the
// BPF-side cmask_next_set().
func (m Mask) NextSet(cid uint32) uint32 {
	base := m.Base()
	end := base + m.NrCids()
	if cid < base {
		cid = base
	}
	if cid >= end {
		return end
	}
	wbase := base / 64
	w, ok := m.words(cid/64-wbase, (end-1)/64-wbase+1)
	if !ok {
		return end
	}
	first := cid / 64
	word := le.Uint64(w) & (^uint64(0) << (cid & 63))
	for i := 0; ; {
		if word != 0 {
			found := (first+uint32(i/8))*64 + uint32(bits.TrailingZeros64(word))
			return min(found, end)
		}
		i += 8
		if i >= len(w) {
			return end
		}
		word = le.Uint64(w[i:])
	}
}

// FirstSet returns the first set cid, or base+nr_cids if none. Mirrors
// cmask_first_set().
func (m Mask) FirstSet() uint32 { return m.NextSet(m.Base()) }

// NextSetWrap returns the first set cid at or after start, wrapping around
// to base; base+nr_cids when m is empty. For round-robin scans starting at
// last+1. Mirrors cmask_next_set_wrap().
func (m Mask) NextSetWrap(start uint32) uint32 {
	end := m.Base() + m.NrCids()
	found := m.NextSet(start)
	if found < end || start <= m.Base() {
		return found
	}
	found = m.NextSet(m.Base())
	if found < start {
		return found
	}
	return end
}

// NextAndSet returns the first cid at or after start set in both a and b,
// within the intersection of their ranges, or a's end (a.base+a.nr_cids)
// if none. Mirrors cmask_next_and_set().
func NextAndSet(a, b Mask, start uint32) uint32 {
	aBase, bBase := a.Base(), b.Base()
	aEnd, bEnd := aBase+a.NrCids(), bBase+b.NrCids()
	lo, hi := max(aBase, bBase), min(aEnd, bEnd)
	if lo >= hi {
		return aEnd
	}
	start = max(start, lo)
	if start >= hi {
		return aEnd
	}
	sW, lW := start/64, (hi-1)/64
	aw, ok := a.words(sW-aBase/64, lW-aBase/64+1)
	if !ok {
		return aEnd
	}
	bw, ok := b.words(sW-bBase/64, lW-bBase/64+1)
	if !ok {
		return aEnd
	}
	word := le.Uint64(aw) & le.Uint64(bw) & (^uint64(0) << (start & 63))
	for i := 0; ; {
		if word != 0 {
			found := (sW+uint32(i/8))*64 + uint32(bits.TrailingZeros64(word))
			if found >= hi {
				return aEnd
			}
			return found
		}
		i += 8
		if i >= len(aw) {
			return aEnd
		}
		word = le.Uint64(aw[i:]) & le.Uint64(bw[i:])
	}
}

// NextAndSetWrap is NextAndSet wrapping around to a's base. Mirrors
// cmask_next_and_set_wrap().
func NextAndSetWrap(a, b Mask, start uint32) uint32 {
	aEnd := a.Base() + a.NrCids()
	found := NextAndSet(a, b, start)
	if found < aEnd || start <= a.Base() {
		return found
	}
	found = NextAndSet(a, b, a.Base())
	if found < start {
		return found
	}
	return aEnd
}

// Cids iterates the set cids in ascending order, a word at a time. Mirrors
// scx_cmask_for_each_cid() and cmask_for_each(); unlike the kernel macro it
// masks the padding, so a BPF program that dirtied it cannot inject cids
// from outside the range.
func (m Mask) Cids() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		w, head, tail, ok := m.activeWords()
		if !ok {
			return
		}
		first := m.Base() &^ 63
		last := len(w) - 8
		for i := 0; i <= last; i += 8 {
			word := le.Uint64(w[i:])
			if i == 0 {
				word &= head
			}
			if i == last {
				word &= tail
			}
			for word != 0 {
				if !yield(first + uint32(i/8)*64 + uint32(bits.TrailingZeros64(word))) {
					return
				}
				word &= word - 1
			}
		}
	}
}

// ForEach calls fn for each set cid in ascending order until fn returns
// false.
func (m Mask) ForEach(fn func(cid uint32) bool) {
	for cid := range m.Cids() {
		if !fn(cid) {
			return
		}
	}
}

// LoadWindow sets m to the part of src's range [srcBase, srcBase+srcNr)
// that lies in [lo, hi), copying the words and masking everything outside
// the window. srcBase/srcNr are the caller's snapshot of src's geometry
// (src's own header is not read). With an empty window m becomes
// (lo, 0) and needWords is 0. If m's alloc_words cannot hold the window, m
// becomes (lo, 0) and ok is false; needWords says how many words it needed.
// This is the body of scx_cmask_ref_shard(), which the caller completes
// with the shard lookup and its error.
func (m Mask) LoadWindow(src Mask, srcBase, srcNr, lo, hi uint32) (needWords uint32, ok bool) {
	iBase, iEnd := max(srcBase, lo), min(srcBase+srcNr, hi)
	if iBase >= iEnd {
		m.setRange(lo, 0)
		return 0, true
	}
	n := (iEnd-1)/64 - iBase/64 + 1
	dst, dok := m.words(0, n)
	off := iBase/64 - srcBase/64
	sw, sok := src.words(off, off+n)
	if n > m.AllocWords() || !dok || !sok {
		m.setRange(lo, 0)
		return n, false
	}
	m.setRange(iBase, iEnd-iBase)
	copy(dst, sw)
	le.PutUint64(dst, le.Uint64(dst)&(^uint64(0)<<(iBase&63)))
	last := len(dst) - 8
	le.PutUint64(dst[last:], le.Uint64(dst[last:])&(^uint64(0)>>(63-(iEnd-1)&63)))
	return n, true
}

func (m Mask) setRange(base, nr uint32) {
	le.PutUint32(m.b[OffBase:], base)
	le.PutUint32(m.b[OffNrCids:], nr)
}

// OrInto ORs src into dst over dst's range given as a trusted snapshot
// (base, nr), not read from dst's header. Mirrors the walk of
// scx_cmask_ref_or().
func OrInto(dst Mask, base, nr uint32, src Mask) {
	walk2(dst, base, nr, src, src.Base(), src.NrCids(), opOr)
}

// CopyInto copies src into dst over dst's range given as a trusted snapshot
// (base, nr). Mirrors the walk of scx_cmask_ref_copy().
func CopyInto(dst Mask, base, nr uint32, src Mask) {
	walk2(dst, base, nr, src, src.Base(), src.NrCids(), opCopy)
}
