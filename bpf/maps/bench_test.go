package maps

import (
	"encoding/binary"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

// The hash lookup a program does (key bytes -> value address) against the
// reference of a plain Go map lookup with the same string(key) conversion.
func BenchmarkHashLookupElem(b *testing.B) {
	m, _ := New(vm.NewMemory(), &Spec{Type: TypeHash, KeySize: 8, ValueSize: 16, MaxEntries: 4096}, 1)
	key := make([]byte, 8)
	val := make([]byte, 16)
	for i := range uint64(4096) {
		binary.LittleEndian.PutUint64(key, i*7919)
		m.Update(key, val, Any)
	}
	b.Run("maps", func(b *testing.B) {
		for i := range b.N {
			binary.LittleEndian.PutUint64(key, uint64(i%4096)*7919)
			if m.LookupElem(0, key) == 0 {
				b.Fatal("miss")
			}
		}
	})
	b.Run("reference-gomap", func(b *testing.B) {
		ref := map[string]uint64{}
		for i := range uint64(4096) {
			binary.LittleEndian.PutUint64(key, i*7919)
			ref[string(key)] = i
		}
		b.ResetTimer()
		for i := range b.N {
			binary.LittleEndian.PutUint64(key, uint64(i%4096)*7919)
			if _, ok := ref[string(key)]; !ok {
				b.Fatal("miss")
			}
		}
	})
}

func TestLookupDoesNotAllocate(t *testing.T) {
	mem := vm.NewMemory()
	h, _ := New(mem, &Spec{Type: TypeLRUHash, KeySize: 8, ValueSize: 16, MaxEntries: 64}, 1)
	a, _ := New(mem, &Spec{Type: TypePercpuArray, KeySize: 4, ValueSize: 16, MaxEntries: 64}, 4)
	key := make([]byte, 8)
	for i := range uint64(64) {
		binary.LittleEndian.PutUint64(key, i)
		h.UpdateElem(0, key, make([]byte, 16), Any)
	}
	n := testing.AllocsPerRun(100, func() {
		binary.LittleEndian.PutUint64(key, 17)
		h.LookupElem(0, key)
		a.LookupElem(2, key[:4])
		h.UpdateElem(0, key, key[:8:8], Exist)
	})
	if n != 0 {
		t.Fatalf("%v allocations per lookup/update", n)
	}
}
