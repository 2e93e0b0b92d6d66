package cmask

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// Benchmarks at 4096 cids. Each cmask benchmark has references in the same
// run: the same operation on a plain []uint64 (the floor: native words, no
// byte view, no range masking) and a per-bit loop (what word operations
// avoid). The cmask operands are misaligned (bases 5 and 37) so the head and
// tail masking paths run.

const benchCids = 4096

func benchMasks() (Mask, Mask, []uint64, []uint64) {
	r := rand.New(rand.NewPCG(1, 1))
	a, b := New(5, benchCids), New(37, benchCids)
	wa, wb := make([]uint64, benchCids/64), make([]uint64, benchCids/64)
	for c := range uint32(benchCids) {
		if r.IntN(2) == 0 {
			a.Set(5 + c)
			wa[c/64] |= 1 << (c & 63)
		}
		if r.IntN(2) == 0 {
			b.Set(37 + c)
			wb[c/64] |= 1 << (c & 63)
		}
	}
	return a, b, wa, wb
}

func BenchmarkCmaskAnd(b *testing.B) {
	x, y, _, _ := benchMasks()
	for b.Loop() {
		x.And(y)
	}
}

func BenchmarkCmaskOr(b *testing.B) {
	x, y, _, _ := benchMasks()
	for b.Loop() {
		x.Or(y)
	}
}

func BenchmarkCmaskCopy(b *testing.B) {
	x, y, _, _ := benchMasks()
	for b.Loop() {
		x.Copy(y)
	}
}

func BenchmarkCmaskSubset(b *testing.B) {
	x, _, _, _ := benchMasks()
	y := New(0, benchCids+64)
	y.Fill()
	for b.Loop() {
		if !x.SubsetOf(y) {
			b.Fatal("not a subset")
		}
	}
}

func BenchmarkCmaskWeight(b *testing.B) {
	x, _, _, _ := benchMasks()
	for b.Loop() {
		x.Weight()
	}
}

func BenchmarkCmaskIterate(b *testing.B) {
	x, _, _, _ := benchMasks()
	for b.Loop() {
		n := 0
		for range x.Cids() {
			n++
		}
	}
}

func BenchmarkCmaskTestSet(b *testing.B) {
	x, _, _, _ := benchMasks()
	for b.Loop() {
		for c := uint32(5); c < 5+benchCids; c += 7 {
			if !x.Test(c) {
				x.Set(c)
			}
		}
	}
}

// Reference: the same AND on native []uint64 words.
func BenchmarkRefWordsAnd(b *testing.B) {
	_, _, x, y := benchMasks()
	for b.Loop() {
		for i := range x {
			x[i] &= y[i]
		}
	}
}

// Reference: popcount over native []uint64 words.
func BenchmarkRefWordsWeight(b *testing.B) {
	_, _, x, _ := benchMasks()
	for b.Loop() {
		n := 0
		for _, w := range x {
			n += bits.OnesCount64(w)
		}
		_ = n
	}
}

// Reference: the AND done one bit at a time, the cost word operations avoid.
func BenchmarkRefBitsAnd(b *testing.B) {
	_, _, x, y := benchMasks()
	for b.Loop() {
		for c := range uint32(benchCids) {
			if y[c/64]&(1<<(c&63)) == 0 {
				x[c/64] &^= 1 << (c & 63)
			}
		}
	}
}
