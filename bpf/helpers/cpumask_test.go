package helpers

import (
	"encoding/binary"
	"slices"
	"syscall"
	"testing"
)

// maskBits returns the CPUs set in the first nr bits of the mask at a.
func (v *env) maskBits(a uint64, nr int) []int {
	b, err := v.mem.Slice(a, bitmapBytes(nr), false)
	if err != nil {
		v.t.Fatal(err)
	}
	var out []int
	for c := range nr {
		if b[c/8]&(1<<(c%8)) != 0 {
			out = append(out, c)
		}
	}
	return out
}

func TestCpumaskKfuncs(t *testing.T) {
	const nr = 70 // two longs, the last one partial
	v := newEnv(t, nr)
	k := func(name string, args ...uint64) uint64 { t.Helper(); return v.kcall(0, name, args...) }
	a := k("bpf_cpumask_create")
	b := k("bpf_cpumask_create")
	d := k("bpf_cpumask_create")
	if a == 0 || b == 0 || d == 0 || v.k.RT.Objects() != 3 {
		t.Fatal("create")
	}
	if k("bpf_cpumask_empty", a) != 1 || k("bpf_cpumask_first", a) != nr || k("bpf_cpumask_weight", a) != 0 {
		t.Fatal("new mask not empty")
	}
	for _, c := range []uint64{3, 64, 69, 70, 1000} {
		k("bpf_cpumask_set_cpu", c, a)
	}
	if got := v.maskBits(a, 128); !slices.Equal(got, []int{3, 64, 69}) {
		t.Fatalf("set_cpu ignores cpu >= nr_cpu_ids: %v", got)
	}
	checks := []struct {
		name string
		args []uint64
		want uint64
	}{
		{"bpf_cpumask_test_cpu", []uint64{64, a}, 1},
		{"bpf_cpumask_test_cpu", []uint64{4, a}, 0},
		{"bpf_cpumask_test_cpu", []uint64{700, a}, 0},
		{"bpf_cpumask_first", []uint64{a}, 3},
		{"bpf_cpumask_first_zero", []uint64{a}, 0},
		{"bpf_cpumask_weight", []uint64{a}, 3},
		{"bpf_cpumask_test_and_set_cpu", []uint64{5, a}, 0},
		{"bpf_cpumask_test_and_set_cpu", []uint64{5, a}, 1},
		{"bpf_cpumask_test_and_clear_cpu", []uint64{5, a}, 1},
		{"bpf_cpumask_test_and_clear_cpu", []uint64{5, a}, 0},
		{"bpf_cpumask_full", []uint64{a}, 0},
		{"bpf_cpumask_intersects", []uint64{a, b}, 0},
		{"bpf_cpumask_subset", []uint64{b, a}, 1},
		{"bpf_cpumask_subset", []uint64{a, b}, 0},
		{"bpf_cpumask_equal", []uint64{a, b}, 0},
	}
	for _, c := range checks {
		if got := k(c.name, c.args...); got != c.want {
			t.Fatalf("%s%v = %d, want %d", c.name, c.args, got, c.want)
		}
	}
	k("bpf_cpumask_set_cpu", 64, b)
	k("bpf_cpumask_set_cpu", 10, b)
	if k("bpf_cpumask_and", d, a, b) != 1 || !slices.Equal(v.maskBits(d, nr), []int{64}) {
		t.Fatalf("and: %v", v.maskBits(d, nr))
	}
	if k("bpf_cpumask_first_and", a, b) != 64 || k("bpf_cpumask_intersects", a, b) != 1 {
		t.Fatal("first_and/intersects")
	}
	k("bpf_cpumask_or", d, a, b)
	if got := v.maskBits(d, nr); !slices.Equal(got, []int{3, 10, 64, 69}) {
		t.Fatalf("or: %v", got)
	}
	k("bpf_cpumask_xor", d, a, b)
	if got := v.maskBits(d, nr); !slices.Equal(got, []int{3, 10, 69}) {
		t.Fatalf("xor: %v", got)
	}
	k("bpf_cpumask_clear_cpu", 10, b)
	k("bpf_cpumask_clear_cpu", 64, b)
	if k("bpf_cpumask_and", d, a, b) != 0 || k("bpf_cpumask_empty", d) != 1 {
		t.Fatal("and of disjoint masks")
	}
	k("bpf_cpumask_copy", d, a)
	if k("bpf_cpumask_equal", d, a) != 1 {
		t.Fatal("copy")
	}
	// setall fills whole longs; full and weight look at nr_cpu_ids bits.
	k("bpf_cpumask_setall", b)
	raw, _ := v.mem.Slice(b, 16, false)
	if binary.LittleEndian.Uint64(raw[8:]) != ^uint64(0) || k("bpf_cpumask_full", b) != 1 || k("bpf_cpumask_weight", b) != nr {
		t.Fatal("setall/full/weight")
	}
	// and clears the bits past nr_cpu_ids.
	k("bpf_cpumask_and", d, b, b)
	raw, _ = v.mem.Slice(d, 16, false)
	if binary.LittleEndian.Uint64(raw[8:]) != 1<<(nr-64)-1 {
		t.Fatalf("and kept bits past nr_cpu_ids: %#x", binary.LittleEndian.Uint64(raw[8:]))
	}
	if k("bpf_cpumask_first_zero", b) != nr {
		t.Fatal("first_zero of a full mask")
	}
	k("bpf_cpumask_clear", b)
	if k("bpf_cpumask_empty", b) != 1 {
		t.Fatal("clear")
	}
	// populate.
	src, sb := v.buf(16)
	sb[0], sb[8] = 0x81, 0x01
	if r := k("bpf_cpumask_populate", b, src, 16); r != 0 || !slices.Equal(v.maskBits(b, nr), []int{0, 7, 64}) {
		t.Fatalf("populate %d %v", int64(r), v.maskBits(b, nr))
	}
	if r := k("bpf_cpumask_populate", b, src, 8); r != e(syscall.EACCES) {
		t.Fatalf("populate short %d", int64(r))
	}
	if r := k("bpf_cpumask_populate", b, src+4, 16); r != e(syscall.EINVAL) {
		t.Fatalf("populate unaligned %d", int64(r))
	}
	// Reference counting: acquire/release, freed at zero.
	if k("bpf_cpumask_acquire", a) != a {
		t.Fatal("acquire")
	}
	k("bpf_cpumask_release", a)
	if v.k.RT.Objects() != 3 {
		t.Fatal("released too early")
	}
	for _, m := range []uint64{a, b, d} {
		k("bpf_cpumask_release", m)
	}
	if v.k.RT.Objects() != 0 {
		t.Fatalf("objects left %d", v.k.RT.Objects())
	}
	if err := v.runErr(v.kcallProg("bpf_cpumask_release"), 0, a); err == nil {
		t.Fatal("double release did not stop the program")
	}
}

func TestCpumaskDistribute(t *testing.T) {
	v := newEnv(t, 8)
	a := v.kcall(0, "bpf_cpumask_create")
	b := v.kcall(0, "bpf_cpumask_create")
	for _, c := range []uint64{0, 2, 5} {
		v.kcall(0, "bpf_cpumask_set_cpu", c, a)
	}
	var got []uint64
	for range 5 {
		got = append(got, v.kcall(0, "bpf_cpumask_any_distribute", a))
	}
	// The first pick skips 0 (prev starts at 0), then it rotates.
	if !slices.Equal(got, []uint64{2, 5, 0, 2, 5}) {
		t.Fatalf("any_distribute %v", got)
	}
	// Each CPU has its own rotation.
	if v.kcall(3, "bpf_cpumask_any_distribute", a) != 2 {
		t.Fatal("per-CPU state")
	}
	v.kcall(0, "bpf_cpumask_set_cpu", 5, b)
	v.kcall(0, "bpf_cpumask_set_cpu", 0, b)
	got = got[:0]
	for range 3 {
		got = append(got, v.kcall(0, "bpf_cpumask_any_and_distribute", a, b))
	}
	if !slices.Equal(got, []uint64{0, 5, 0}) {
		t.Fatalf("any_and_distribute %v", got)
	}
	empty := v.kcall(0, "bpf_cpumask_create")
	if v.kcall(0, "bpf_cpumask_any_distribute", empty) != 8 {
		t.Fatal("empty mask must give nr_cpu_ids")
	}
}

func TestCpumaskKptrInMap(t *testing.T) {
	// A map value's __kptr to a bpf_cpumask is released when the map drops
	// the value.
	v := newEnv(t, 4)
	m := v.newMap(mapsSpecWithKptr())
	slot := m.LookupElem(0, []byte{0, 0, 0, 0})
	mask := v.kcall(0, "bpf_cpumask_create")
	if old := v.call(0, FuncKptrXchg, slot+8, mask); old != 0 {
		t.Fatal("slot not empty")
	}
	if v.k.RT.Objects() != 1 {
		t.Fatal("mask")
	}
	m.Put()
	if v.k.RT.Objects() != 0 {
		t.Fatal("kptr not released with the map")
	}
}
