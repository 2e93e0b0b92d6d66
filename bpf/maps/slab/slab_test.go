package slab

import (
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

func TestSlab(t *testing.T) {
	mem := vm.NewMemory()
	s := New(mem, "t", 20000, 5, vm.PermRW) // 3 slots per 64 KiB chunk
	if s.SlotSize() != 20000 {
		t.Fatalf("slot size %d", s.SlotSize())
	}
	var idx []int32
	for range 5 {
		i, ok := s.Alloc()
		if !ok {
			t.Fatal("alloc")
		}
		idx = append(idx, i)
	}
	if _, ok := s.Alloc(); ok || s.Used() != 5 {
		t.Fatal("limit not enforced")
	}
	// Addresses are distinct, writable and map back to their slot.
	seen := map[uint64]bool{}
	for _, i := range idx {
		a := s.Addr(i)
		if seen[a] {
			t.Fatal("duplicate address")
		}
		seen[a] = true
		b, err := mem.Slice(a+100, 8, true)
		if err != nil {
			t.Fatal(err)
		}
		b[0] = byte(i + 1)
		if got, off, ok := s.Index(a + 100); !ok || got != i || off != 100 {
			t.Fatalf("Index(%#x) = %d %d %v", a+100, got, off, ok)
		}
		if s.Bytes(i)[100] != byte(i+1) {
			t.Fatal("Bytes and memory disagree")
		}
	}
	if _, _, ok := s.Index(vm.RegionBase + 5<<40); ok {
		t.Fatal("foreign address resolved")
	}
	// A freed slot is reused, zeroed, at the same address.
	a := s.Addr(idx[3])
	s.Free(idx[3])
	i, ok := s.Alloc()
	if !ok || i != idx[3] || s.Addr(i) != a || s.Bytes(i)[100] != 0 {
		t.Fatal("reuse")
	}
	s.Release()
	if _, err := mem.Slice(a, 8, false); err == nil {
		t.Fatal("released chunk still mapped")
	}
}
