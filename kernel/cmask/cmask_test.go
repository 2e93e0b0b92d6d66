package cmask

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the plain bitset a cmask must agree with: one bool per cid of
// [base, base+nr).
type model struct {
	base, nr uint32
	set      []bool
}

func (md *model) has(cid uint32) bool { return cid >= md.base && cid < md.base+md.nr }
func (md *model) test(cid uint32) bool {
	return md.has(cid) && md.set[cid-md.base]
}

// fixture is a cmask and its model, plus the storage words past the active
// range, filled with random garbage that no range-bounded operation may
// touch.
type fixture struct {
	m     Mask
	md    model
	slack map[uint32]uint64
}

func newFixture(r *rand.Rand, maxBase, maxNr uint32) *fixture {
	return newFixtureAt(r, r.Uint32N(maxBase+1), maxNr)
}

func newFixtureAt(r *rand.Rand, base, maxNr uint32) *fixture {
	nr := r.Uint32N(maxNr + 1)
	alloc := nr + r.Uint32N(130)
	if r.IntN(3) == 0 {
		alloc = nr
	}
	f := &fixture{m: NewCap(base, nr, alloc), md: model{base: base, nr: nr, set: make([]bool, nr)}}
	for i := range nr {
		if r.IntN(2) == 0 {
			f.md.set[i] = true
			f.m.Set(base + i)
		}
	}
	f.slack = map[uint32]uint64{}
	for i := f.m.UsedWords(); i < f.m.StorageWords(); i++ {
		v := r.Uint64()
		f.m.SetWord(i, v)
		f.slack[i] = v
	}
	return f
}

// check asserts that the cmask matches the model bit for bit, that head and
// tail padding are zero, and that the words past the range are untouched.
func (f *fixture) check(t *testing.T, what string) {
	t.Helper()
	m, md := f.m, &f.md
	if m.Base() != md.base || m.NrCids() != md.nr {
		t.Fatalf("%s: range (%d,%d), want (%d,%d)", what, m.Base(), m.NrCids(), md.base, md.nr)
	}
	first := md.base &^ 63
	for i := range m.UsedWords() {
		w := m.Word(i)
		for b := range uint32(64) {
			cid := first + i*64 + b
			got := w&(1<<b) != 0
			if !md.has(cid) {
				if got {
					t.Fatalf("%s: padding bit for cid %d set (base %d nr %d)", what, cid, md.base, md.nr)
				}
				continue
			}
			if got != md.set[cid-md.base] {
				t.Fatalf("%s: cid %d = %v, model %v", what, cid, got, !got)
			}
		}
	}
	for i, v := range f.slack {
		if m.Word(i) != v {
			t.Fatalf("%s: slack word %d changed", what, i)
		}
	}
}

func (f *fixture) randCid(r *rand.Rand) uint32 {
	// Mostly in or near the range, sometimes far away.
	if r.IntN(8) == 0 {
		return r.Uint32N(1 << 12)
	}
	lo := int64(f.md.base) - 70
	return uint32(max(0, lo+int64(r.IntN(int(f.md.nr)+140))))
}

func TestNrWordsAndSize(t *testing.T) {
	cases := []struct {
		nr    uint32
		words uint32
	}{
		{0, 1}, {1, 2}, {63, 2}, {64, 2}, {65, 3}, {128, 3}, {512, 9}, {8192, 129},
		// The u64 cast keeps the +63 from wrapping: (2^32-1+63)/64+1 = 2^26+1.
		{^uint32(0), 1<<26 + 1},
	}
	for _, c := range cases {
		if got := NrWords(c.nr); got != c.words {
			t.Errorf("NrWords(%d) = %d, want %d", c.nr, got, c.words)
		}
	}
	if got := Size(64); got != 16+8*2 {
		t.Errorf("Size(64) = %d, want 32", got)
	}
	if NrWords(8192) != MaxWords {
		t.Errorf("MaxWords %d does not cover 8192 cids", MaxWords)
	}
}

// TestLayout checks the header fields land at the struct's offsets in
// little-endian (the offsets themselves are checked against clang in
// layout_test.go).
func TestLayout(t *testing.T) {
	m := NewCap(0x01020304, 100, 200)
	b := m.Bytes()
	if len(b) != 16+8*5 {
		t.Fatalf("len %d, want %d", len(b), 16+8*5)
	}
	if binary.LittleEndian.Uint32(b[0:]) != 0x01020304 || binary.LittleEndian.Uint32(b[4:]) != 100 ||
		binary.LittleEndian.Uint32(b[8:]) != 5 {
		t.Fatalf("header bytes % x", b[:16])
	}
	m2 := New(70, 10) // cids 70..79 live in word 0 at bits 6..15
	m2.Set(70)
	m2.Set(79)
	if got := binary.LittleEndian.Uint64(m2.Bytes()[16:]); got != 1<<6|1<<15 {
		t.Fatalf("bits[0] = %#x", got)
	}
}

func TestSingleMaskOpsAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		f := newFixture(r, 300, 300)
		md := &f.md
		f.check(t, "init")
		for range 20 {
			cid := f.randCid(r)
			switch r.IntN(5) {
			case 0:
				f.m.Set(cid)
				if md.has(cid) {
					md.set[cid-md.base] = true
				}
			case 1:
				f.m.Clear(cid)
				if md.has(cid) {
					md.set[cid-md.base] = false
				}
			case 2:
				want := md.test(cid)
				if got := f.m.TestAndSet(cid); got != want {
					t.Fatalf("iter %d TestAndSet(%d) = %v", iter, cid, got)
				}
				if md.has(cid) {
					md.set[cid-md.base] = true
				}
			case 3:
				want := md.test(cid)
				if got := f.m.TestAndClear(cid); got != want {
					t.Fatalf("iter %d TestAndClear(%d) = %v", iter, cid, got)
				}
				if md.has(cid) {
					md.set[cid-md.base] = false
				}
			case 4:
				if got := f.m.Test(cid); got != md.test(cid) {
					t.Fatalf("iter %d Test(%d) = %v", iter, cid, got)
				}
			}
		}
		f.check(t, "set/clear")

		// Queries.
		var want []uint32
		for i, s := range md.set {
			if s {
				want = append(want, md.base+uint32(i))
			}
		}
		if got := slices.Collect(f.m.Cids()); !slices.Equal(got, want) {
			t.Fatalf("iter %d Cids = %v, want %v", iter, got, want)
		}
		if got := f.m.Weight(); got != uint32(len(want)) {
			t.Fatalf("iter %d Weight = %d, want %d", iter, got, len(want))
		}
		if got := f.m.Empty(); got != (len(want) == 0) {
			t.Fatalf("iter %d Empty = %v", iter, got)
		}
		end := md.base + md.nr
		modelNext := func(from uint32) uint32 {
			for _, c := range want {
				if c >= from {
					return c
				}
			}
			return end
		}
		for range 10 {
			from := f.randCid(r)
			if got, w := f.m.NextSet(from), modelNext(from); got != w {
				t.Fatalf("iter %d NextSet(%d) = %d, want %d", iter, from, got, w)
			}
			// Wrap: the forward result, else the first set cid below start.
			w := modelNext(from)
			if w == end && from > md.base {
				if c := modelNext(md.base); c < from {
					w = c
				}
			}
			if got := f.m.NextSetWrap(from); got != w {
				t.Fatalf("iter %d NextSetWrap(%d) = %d, want %d", iter, from, got, w)
			}
		}
		if got := f.m.FirstSet(); got != modelNext(md.base) {
			t.Fatalf("iter %d FirstSet = %d", iter, got)
		}

		// Whole-range mutations.
		switch r.IntN(3) {
		case 0:
			f.m.Fill()
			for i := range md.set {
				md.set[i] = true
			}
			f.check(t, "fill")
			if f.m.Weight() != md.nr {
				t.Fatalf("iter %d Weight after Fill = %d, want %d", iter, f.m.Weight(), md.nr)
			}
		case 1:
			f.m.ClearAll()
			clear(md.set)
			f.check(t, "clearall")
			if !f.m.Empty() {
				t.Fatalf("iter %d not Empty after ClearAll", iter)
			}
		}
	}
}

// applyModel2 applies a two-mask op to the models: a is changed only inside
// both ranges.
func applyModel2(a, b *model, op op2) bool {
	for c := max(a.base, b.base); c < min(a.base+a.nr, b.base+b.nr); c++ {
		av, bv := &a.set[c-a.base], b.set[c-b.base]
		switch op {
		case opAnd:
			*av = *av && bv
		case opOr:
			*av = *av || bv
		case opCopy:
			*av = bv
		case opAndNot:
			*av = *av && !bv
		case opIntersects:
			if *av && bv {
				return true
			}
		}
	}
	return false
}

func modelSubset(sub, super *model) bool {
	for i, s := range sub.set {
		if s && !super.test(sub.base+uint32(i)) {
			return false
		}
	}
	return true
}

func TestTwoMaskOpsAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	names := map[op2]string{opAnd: "And", opOr: "Or", opCopy: "Copy", opAndNot: "AndNot"}
	for iter := range 6000 {
		a, b := newFixture(r, 400, 400), newFixture(r, 400, 400)
		switch r.IntN(4) {
		case 0: // same base
			b = newFixtureAt(r, a.md.base, 400)
		case 1: // same alignment within the word grid
			b = newFixtureAt(r, a.md.base%64+64*r.Uint32N(6), 400)
		}
		if got, want := a.m.Intersects(b.m), applyModel2(&a.md, &b.md, opIntersects); got != want {
			t.Fatalf("iter %d Intersects = %v, want %v (a %d+%d b %d+%d)", iter, got, want,
				a.md.base, a.md.nr, b.md.base, b.md.nr)
		}
		if got, want := a.m.SubsetOf(b.m), modelSubset(&a.md, &b.md); got != want {
			t.Fatalf("iter %d SubsetOf = %v, want %v", iter, got, want)
		}
		if got, want := b.m.SubsetOf(a.m), modelSubset(&b.md, &a.md); got != want {
			t.Fatalf("iter %d SubsetOf(rev) = %v, want %v", iter, got, want)
		}
		// NextAndSet against the model.
		aEnd := a.md.base + a.md.nr
		lo, hi := max(a.md.base, b.md.base), min(aEnd, b.md.base+b.md.nr)
		nextAnd := func(from uint32) uint32 {
			for c := max(from, lo); c < hi; c++ {
				if a.md.test(c) && b.md.test(c) {
					return c
				}
			}
			return aEnd
		}
		for range 5 {
			from := a.randCid(r)
			if got, w := NextAndSet(a.m, b.m, from), nextAnd(from); got != w {
				t.Fatalf("iter %d NextAndSet(%d) = %d, want %d", iter, from, got, w)
			}
			w := nextAnd(from)
			if w == aEnd && from > a.md.base {
				if c := nextAnd(a.md.base); c < from {
					w = c
				}
			}
			if got := NextAndSetWrap(a.m, b.m, from); got != w {
				t.Fatalf("iter %d NextAndSetWrap(%d) = %d, want %d", iter, from, got, w)
			}
		}
		op := op2(r.IntN(4))
		bBefore := slices.Clone(b.m.Bytes())
		switch op {
		case opAnd:
			a.m.And(b.m)
		case opOr:
			a.m.Or(b.m)
		case opCopy:
			a.m.Copy(b.m)
		case opAndNot:
			a.m.AndNot(b.m)
		}
		applyModel2(&a.md, &b.md, op)
		a.check(t, names[op])
		if !slices.Equal(bBefore, b.m.Bytes()) {
			t.Fatalf("iter %d %s modified its source", iter, names[op])
		}
		// Equal: a copy of a into a same-shaped mask is equal; flipping a
		// bit makes it differ.
		c := NewCap(a.md.base, a.md.nr, a.md.nr+r.Uint32N(64))
		c.Copy(a.m)
		if !c.Equal(a.m) || !a.m.Equal(c) {
			t.Fatalf("iter %d copy not Equal", iter)
		}
		if a.md.nr > 0 {
			cid := a.md.base + r.Uint32N(a.md.nr)
			if c.Test(cid) {
				c.Clear(cid)
			} else {
				c.Set(cid)
			}
			if c.Equal(a.m) {
				t.Fatalf("iter %d Equal after flipping cid %d", iter, cid)
			}
		}
	}
}

func TestSelfOps(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		f := newFixture(r, 200, 200)
		w := f.m.Weight()
		f.m.Or(f.m)
		f.m.And(f.m)
		f.check(t, "self or/and")
		if !f.m.SubsetOf(f.m) || f.m.Intersects(f.m) != (w > 0) {
			t.Fatal("self predicates")
		}
		f.m.AndNot(f.m)
		clear(f.md.set)
		f.check(t, "self andnot")
	}
}

func TestInitReframe(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for iter := range 2000 {
		alloc := r.Uint32N(300)
		m := NewCap(r.Uint32N(500), 0, alloc)
		for i := range m.StorageWords() {
			m.SetWord(i, r.Uint64())
		}
		base, nr := r.Uint32N(500), r.Uint32N(alloc+1)
		if err := m.Reframe(base, nr); err != nil {
			t.Fatalf("iter %d Reframe(%d,%d) alloc %d: %v", iter, base, nr, alloc, err)
		}
		if m.Base() != base || m.NrCids() != nr {
			t.Fatalf("iter %d range not moved", iter)
		}
		if nr > 0 {
			// Padding must be zero; the first and last active words are zeroed.
			if m.Word(0)&((1<<(base&63))-1) != 0 {
				t.Fatalf("iter %d head padding dirty after Reframe", iter)
			}
			last := m.UsedWords() - 1
			if m.Word(0) != 0 || m.Word(last) != 0 {
				t.Fatalf("iter %d first/last word not zeroed", iter)
			}
		}
		// Too long for the storage: rejected, header unchanged.
		big := alloc + 64 + r.Uint32N(100)
		if NrWords(big) > m.AllocWords() {
			if err := m.Reframe(0, big); err == nil || m.NrCids() != nr {
				t.Fatalf("iter %d Reframe beyond alloc_words accepted", iter)
			}
		}
		// Init zeroes the whole storage.
		if err := m.InitCap(base, nr, alloc); err != nil {
			t.Fatal(err)
		}
		for i := range m.StorageWords() {
			if m.Word(i) != 0 {
				t.Fatalf("iter %d word %d not zeroed by Init", iter, i)
			}
		}
	}
	// Init clamps nr_cids to the capacity, as __scx_cmask_init() does.
	m := NewCap(0, 0, 100)
	if err := m.InitCap(5, 200, 100); err != nil || m.NrCids() != 100 {
		t.Fatalf("InitCap clamp: nr %d err %v", m.NrCids(), err)
	}
	if err := m.Init(0, 200); err == nil {
		t.Fatal("Init beyond the view's storage accepted")
	}
	if err := m.Reframe(0, 0); err != nil || m.NrCids() != 0 || !m.Empty() || m.Weight() != 0 {
		t.Fatalf("empty reframe: %v", err)
	}
}

// A header that claims more than the view holds must never make an
// operation read or write outside the view.
func TestHostileHeader(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 5000 {
		a, b := New(r.Uint32N(300), r.Uint32N(300)), New(r.Uint32N(300), r.Uint32N(300))
		for _, m := range []Mask{a, b} {
			le.PutUint32(m.b[OffBase:], r.Uint32())
			le.PutUint32(m.b[OffNrCids:], r.Uint32()>>r.IntN(32))
			le.PutUint32(m.b[OffAllocWords:], r.Uint32()>>r.IntN(32))
		}
		cid := r.Uint32()
		a.Set(cid)
		a.Test(cid)
		a.TestAndSet(cid)
		a.Clear(cid)
		a.Fill()
		a.ClearAll()
		a.Zero()
		a.Empty()
		a.Weight()
		a.NextSet(cid)
		a.NextSetWrap(cid)
		a.And(b)
		a.Or(b)
		a.Copy(b)
		a.AndNot(b)
		a.SubsetOf(b)
		a.Intersects(b)
		a.Equal(b)
		NextAndSet(a, b, cid)
		NextAndSetWrap(a, b, cid)
		_ = a.Reframe(r.Uint32(), r.Uint32()>>r.IntN(32))
		a.LoadWindow(b, b.Base(), b.NrCids(), r.Uint32(), r.Uint32())
		for range a.Cids() {
		}
		_ = a.Check()
	}
}

func TestCheck(t *testing.T) {
	m := NewCap(10, 100, 200)
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		base, nr, aw uint32
	}{
		{"wraps", ^uint32(0) - 5, 10, 5},
		{"nr beyond alloc_words", 0, 300, 5},
		{"alloc_words beyond view", 0, 10, 6},
	}
	for _, c := range cases {
		m.setHeader(c.base, c.nr, c.aw)
		if m.Check() == nil {
			t.Errorf("%s: Check accepted", c.name)
		}
	}
	if _, err := View(make([]byte, 15)); err == nil {
		t.Error("View of 15 bytes accepted")
	}
}

func TestLoadWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for iter := range 3000 {
		src := newFixture(r, 600, 600)
		lo := r.Uint32N(700)
		hi := lo + r.Uint32N(600)
		outCap := r.Uint32N(600)
		out := NewCap(0, 0, outCap)
		n, ok := out.LoadWindow(src.m, src.md.base, src.md.nr, lo, hi)
		iBase, iEnd := max(src.md.base, lo), min(src.md.base+src.md.nr, hi)
		if iBase >= iEnd {
			if !ok || n != 0 || out.Base() != lo || out.NrCids() != 0 {
				t.Fatalf("iter %d empty window: n %d ok %v range (%d,%d)", iter, n, ok, out.Base(), out.NrCids())
			}
			continue
		}
		needed := (iEnd-1)/64 - iBase/64 + 1
		if needed > NrWords(outCap) {
			if ok || n != needed || out.NrCids() != 0 || out.Base() != lo {
				t.Fatalf("iter %d overflow not reported: n %d ok %v", iter, n, ok)
			}
			continue
		}
		if !ok || out.Base() != iBase || out.NrCids() != iEnd-iBase {
			t.Fatalf("iter %d window (%d,%d) ok %v, want (%d,%d)", iter, out.Base(), out.NrCids(), ok, iBase, iEnd-iBase)
		}
		f := &fixture{m: out, md: model{base: iBase, nr: iEnd - iBase}}
		for c := iBase; c < iEnd; c++ {
			f.md.set = append(f.md.set, src.md.test(c))
		}
		f.check(t, "window")
	}
}
