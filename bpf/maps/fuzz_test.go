package maps

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

// FuzzHashModel runs random operations on a hash map and on a plain model
// (a Go map plus an insertion-order list) and requires the same errors,
// values and iteration order.
func FuzzHashModel(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 1, 2, 3, 0, 4})
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0, 9, 3, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const max = 6
		m, err := New(vm.NewMemory(), &Spec{Type: TypeHash, KeySize: 4, ValueSize: 8, MaxEntries: max}, 1)
		if err != nil {
			t.Fatal(err)
		}
		model := map[uint32]uint64{}
		var order []uint32
		val := make([]byte, 8)
		for i := 0; i+1 < len(ops); i += 2 {
			op, k := ops[i]%5, uint32(ops[i+1]%12)
			key := binary.LittleEndian.AppendUint32(nil, k)
			_, exists := model[k]
			var want, got error
			switch op {
			case 0, 1, 2: // update with ANY / NOEXIST / EXIST
				flags := uint64(op)
				switch {
				case exists && flags == NoExist:
					want = syscall.EEXIST
				case !exists && flags == Exist:
					want = syscall.ENOENT
				case !exists && len(model) == max:
					want = syscall.E2BIG
				}
				v := uint64(i)*1000 + uint64(k)
				binary.LittleEndian.PutUint64(val, v)
				got = m.Update(key, val, flags)
				if want == nil {
					if !exists {
						order = append(order, k)
					}
					model[k] = v
				}
			case 3:
				if !exists {
					want = syscall.ENOENT
				}
				got = m.Delete(key)
				if want == nil {
					delete(model, k)
					order = slices.DeleteFunc(order, func(x uint32) bool { return x == k })
				}
			case 4:
				if !exists {
					want = syscall.ENOENT
				}
				got = m.Lookup(key, val, 0)
				if want == nil && binary.LittleEndian.Uint64(val) != model[k] {
					t.Fatalf("op %d: lookup %d = %d, want %d", i, k, binary.LittleEndian.Uint64(val), model[k])
				}
			}
			if !errors.Is(got, want) && !(got == nil && want == nil) {
				t.Fatalf("op %d (%d on %d): got %v, want %v", i, op, k, got, want)
			}
		}
		var keys []uint32
		var cur []byte
		next := make([]byte, 4)
		for m.NextKey(cur, next) == nil {
			keys = append(keys, binary.LittleEndian.Uint32(next))
			cur = bytes.Clone(next)
		}
		if !slices.Equal(keys, order) {
			t.Fatalf("iteration %v, want insertion order %v", keys, order)
		}
	})
}
