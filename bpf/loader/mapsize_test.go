package loader

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/vm"
)

func openResize(t *testing.T) *Spec {
	t.Helper()
	s, err := Open(readObj(t, "resize.bpf.o"), (&testKernel{}).options())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadSpec(t *testing.T, s *Spec) *Object {
	t.Helper()
	obj, err := s.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(obj.Close)
	return obj
}

func globalOf(s *Spec, name string) *Global {
	for _, g := range s.Globals() {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// TestResizableArray resizes RESIZABLE_ARRAY sections before load as scx
// user space does: the last variable's array grows with the section
// (DATASEC and variable type), the initial value is kept and zero-filled,
// and programs can use every element. Unresized, the same program faults
// past the one-element array.
func TestResizableArray(t *testing.T) {
	const n = 16
	for _, resize := range []bool{true, false} {
		s := openResize(t)
		if resize {
			if err := s.SetMapValueSize(".data.slots", 8*n); err != nil {
				t.Fatal(err)
			}
			if err := s.SetMapValueSize(".rodata.cpu_map", 4*n); err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]uint32{"slots": 8 * n, "cpu_map": 4 * n} {
				g := globalOf(s, name)
				arr, ok := btf.UnderlyingType(g.Type).(*btf.Array)
				if g.Size != want || !ok || arr.Nelems != n {
					t.Fatalf("%s: size %d, type %v; want %d bytes of %d elements", name, g.Size, g.Type, want, n)
				}
			}
			cm := make([]byte, 4*n)
			for i := range n {
				binary.LittleEndian.PutUint32(cm[4*i:], uint32(100*i))
			}
			if err := s.SetGlobal("cpu_map", cm); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetGlobal("nr_slots", uint32(n)); err != nil {
			t.Fatal(err)
		}
		obj := loadSpec(t, s)
		_, err := vm.NewExec(obj.Memory).Run(obj.Program("fill").VM, 0)
		if !resize {
			if err == nil {
				t.Error("fill ran past a one-element array")
			}
			continue
		}
		if err != nil {
			t.Fatalf("fill: %v", err)
		}
		if m := obj.Map(".data.slots"); m.Spec.ValueSize != 8*n {
			t.Errorf(".data.slots created with value size %d", m.Spec.ValueSize)
		}
		b, err := obj.ReadGlobal("slots")
		if err != nil {
			t.Fatal(err)
		}
		var sum uint64
		for i := range n {
			want := uint64(i*i + 100*i)
			if i == 0 {
				want += 7 // the initial value
			}
			if got := binary.LittleEndian.Uint64(b[8*i:]); got != want {
				t.Errorf("slots[%d] = %d, want %d", i, got, want)
			}
			sum += want
		}
		if got, _ := obj.ReadGlobal("sum"); binary.LittleEndian.Uint64(got) != sum {
			t.Errorf("sum %d, want %d", binary.LittleEndian.Uint64(got), sum)
		}
	}
}

// TestSetMapValueSize covers bpf_map__set_value_size()'s rules for global
// data sections whose BTF cannot follow (the section loses its BTF, keeps
// the variables that fit and its initial bytes) and for SEC(".maps")
// maps (the value type goes when it no longer has the size).
func TestSetMapValueSize(t *testing.T) {
	tests := []struct {
		name     string
		m        string
		size     uint32
		globals  map[string]uint32 // variable -> size still there
		gone     []string          // variables dropped
		btfValue bool              // the created map keeps a BTF value type
	}{
		{"grow aligned", ".data.slots", 24, map[string]uint32{"slots": 24}, nil, true},
		{"shrink to nothing", ".data.slots", 0, map[string]uint32{"slots": 0}, nil, true},
		{"misaligned", ".data.slots", 12, map[string]uint32{"slots": 8}, nil, false},
		{"last not array, grow", ".data.mixed", 24, map[string]uint32{"first": 4, "last": 8}, nil, false},
		{"last not array, shrink", ".data.mixed", 8, map[string]uint32{"first": 4}, []string{"last"}, false},
		{"btf map, same size", "vals", 8, nil, nil, true},
		{"btf map, other size", "vals", 16, nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openResize(t)
			before := globalOf(s, "first")
			if err := s.SetMapValueSize(tc.m, tc.size); err != nil {
				t.Fatal(err)
			}
			if got, err := s.MapValueSize(tc.m); err != nil || got != tc.size {
				t.Fatalf("MapValueSize %d %v, want %d", got, err, tc.size)
			}
			for name, size := range tc.globals {
				if g := globalOf(s, name); g == nil || g.Size != size {
					t.Errorf("global %s: %+v, want size %d", name, g, size)
				}
			}
			for _, name := range tc.gone {
				if globalOf(s, name) != nil {
					t.Errorf("global %s still listed past the section's end", name)
				}
				if err := s.SetGlobal(name, uint64(1)); err == nil {
					t.Errorf("SetGlobal(%s) succeeded past the section's end", name)
				}
			}
			if tc.size == 0 {
				return // an array map of zero-sized values is refused at creation
			}
			obj := loadSpec(t, s)
			m := obj.Map(tc.m)
			if m.Spec.ValueSize != tc.size || (m.Spec.Value != nil) != tc.btfValue {
				t.Errorf("created with value size %d, BTF value %v; want %d, BTF %v", m.Spec.ValueSize, m.Spec.Value, tc.size, tc.btfValue)
			}
			if tc.m == ".data.mixed" {
				if b, err := obj.ReadGlobal("first"); err != nil || binary.LittleEndian.Uint32(b) != 3 {
					t.Errorf("first = %v %v, want its initial 3", b, err)
				}
				if globalOf(s, "first") != before {
					t.Error("an untouched global was replaced")
				}
			}
		})
	}
}

// TestSetMapMaxEntries: max_entries of SEC(".maps") maps, ring buffers
// rounded up as libbpf does; data sections and unknown maps refused.
func TestSetMapMaxEntries(t *testing.T) {
	tests := []struct {
		m    string
		n    uint32
		want uint32
		err  syscall.Errno
	}{
		{"vals", 10, 10, 0},
		{"rb", 5000, 8192, 0},
		{"rb", 3 * 4096, 16384, 0},
		{"rb", 8192, 8192, 0},
		{".data.slots", 2, 0, syscall.EINVAL},
		{"nope", 2, 0, syscall.ENOENT},
	}
	for _, tc := range tests {
		s := openResize(t)
		err := s.SetMapMaxEntries(tc.m, tc.n)
		if tc.err != 0 {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: %v, want %v", tc.m, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.m, err)
		}
		obj := loadSpec(t, s)
		if got := obj.Map(tc.m).Spec.MaxEntries; got != tc.want {
			t.Errorf("%s max_entries %d: created with %d, want %d", tc.m, tc.n, got, tc.want)
		}
	}
	if err := openResize(t).SetMapValueSize("nope", 8); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("resizing an unknown map: %v", err)
	}
}

func TestAdjustRingbufSize(t *testing.T) {
	for _, tc := range [][2]uint32{{0, 0}, {1, 4096}, {4096, 4096}, {4097, 8192}, {12288, 16384}, {1 << 31, 1 << 31}, {1<<31 + 1, 1<<31 + 1}} {
		if got := adjustRingbufSize(tc[0]); got != tc[1] {
			t.Errorf("adjustRingbufSize(%d) = %d, want %d", tc[0], got, tc[1])
		}
	}
}

// TestStructOpsMember reads struct_ops data members before load.
func TestStructOpsMember(t *testing.T) {
	s, err := Open(readObj(t, "basic.bpf.o"), (&testKernel{}).options())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ops, member string
		want        uint64
	}{{"", "timeout_ms", 5000}, {"basic_ops", "flags", 4}, {"", "dispatch_max_batch", 0}} {
		if got, err := s.StructOpsMember(tc.ops, tc.member); err != nil || got != tc.want {
			t.Errorf("%q.%s = %d %v, want %d", tc.ops, tc.member, got, err, tc.want)
		}
	}
	for _, bad := range [][2]string{{"", "name"}, {"", "select_cpu"}, {"", "nope"}, {"other_ops", "flags"}} {
		if _, err := s.StructOpsMember(bad[0], bad[1]); err == nil {
			t.Errorf("%q.%s: no error", bad[0], bad[1])
		}
	}
}
