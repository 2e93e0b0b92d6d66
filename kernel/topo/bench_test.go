package topo

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/cmask"
)

// Benchmarks at 4096 cids (2x4x256x2, x86 numbering). The references in the
// same run are a bare slice index (the floor for an O(1) lookup) and a
// linear search of the cid->cpu table (what a table-less lookup would cost).

func benchTable(b *testing.B) *CidTable {
	m, err := Spec{2, 4, 256, 2}.Machine(X86)
	if err != nil {
		b.Fatal(err)
	}
	tbl, err := NewCidTable(m, 0)
	if err != nil {
		b.Fatal(err)
	}
	return tbl
}

func BenchmarkCidToCPU(b *testing.B) {
	tbl := benchTable(b)
	n := tbl.NrCids()
	sum := 0
	for i := 0; b.Loop(); i++ {
		cpu, _ := tbl.CidToCPU(i % n)
		sum += cpu
	}
	_ = sum
}

func BenchmarkCPUToCid(b *testing.B) {
	tbl := benchTable(b)
	n := tbl.NrCPUIDs()
	sum := 0
	for i := 0; b.Loop(); i++ {
		cid, _ := tbl.CPUToCid(i % n)
		sum += cid
	}
	_ = sum
}

func BenchmarkCidTopo(b *testing.B) {
	tbl := benchTable(b)
	n := tbl.NrCids()
	sum := int32(0)
	for i := 0; b.Loop(); i++ {
		sum += tbl.Topo(i % n).LLCIdx
	}
	_ = sum
}

func BenchmarkNewCidTable(b *testing.B) {
	m, _ := Spec{2, 4, 256, 2}.Machine(X86)
	for b.Loop() {
		if _, err := NewCidTable(m, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCpumaskToCmask(b *testing.B) {
	tbl := benchTable(b)
	cpus := NewCPUMask(tbl.NrCPUIDs())
	for c := 0; c < tbl.NrCPUIDs(); c += 3 {
		cpus.Set(c)
	}
	dst := cmask.New(0, uint32(tbl.NrCids()))
	for b.Loop() {
		tbl.CpumaskToCmask(cpus, dst)
	}
}

// Reference: the bare table index CidToCPU does after its range check.
func BenchmarkRefSliceIndex(b *testing.B) {
	tbl := benchTable(b)
	n := len(tbl.cidToCPU)
	sum := 0
	for i := 0; b.Loop(); i++ {
		sum += int(tbl.cidToCPU[i%n])
	}
	_ = sum
}

// Reference: finding a cpu's cid by scanning the cid->cpu table.
func BenchmarkRefLinearSearch(b *testing.B) {
	tbl := benchTable(b)
	n := tbl.NrCPUIDs()
	sum := 0
	for i := 0; b.Loop(); i++ {
		cpu := int32(i % n)
		for cid, c := range tbl.cidToCPU {
			if c == cpu {
				sum += cid
				break
			}
		}
	}
	_ = sum
}
