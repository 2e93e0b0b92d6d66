package maps

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

func TestArrayOps(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Name: "arr", Type: TypeArray, KeySize: 4, ValueSize: 12, MaxEntries: 3}, 2)
	a := m.(*Array)
	val := bytes.Repeat([]byte{7}, 12)
	out := make([]byte, 12)
	steps := []struct {
		name string
		op   func() error
		want error
	}{
		{"update any", func() error { return m.Update(u32(1), val, Any) }, nil},
		{"update exist", func() error { return m.Update(u32(1), val, Exist) }, nil},
		{"update noexist", func() error { return m.Update(u32(1), val, NoExist) }, syscall.EEXIST},
		{"update out of range", func() error { return m.Update(u32(3), val, Any) }, syscall.E2BIG},
		{"update bad flags", func() error { return m.Update(u32(1), val, 3) }, syscall.EINVAL},
		{"update lock without spin lock", func() error { return m.Update(u32(1), val, Lock) }, syscall.EINVAL},
		{"prog update lock without spin lock", func() error { return m.UpdateElem(0, u32(1), val, Lock) }, syscall.EINVAL},
		{"lookup", func() error { return m.Lookup(u32(1), out, 0) }, nil},
		{"lookup out of range", func() error { return m.Lookup(u32(5), out, 0) }, syscall.ENOENT},
		{"lookup bad flags", func() error { return m.Lookup(u32(1), out, 8) }, syscall.EINVAL},
		{"delete", func() error { return m.Delete(u32(1)) }, syscall.EINVAL},
		{"prog delete", func() error { return m.DeleteElem(u32(1)) }, syscall.EINVAL},
		{"lookup and delete", func() error { return m.LookupAndDelete(u32(1), out, 0) }, ENOTSUPP},
	}
	for _, s := range steps {
		wantErr(t, s.name, s.op(), s.want)
	}
	if err := m.Lookup(u32(1), out, 0); err != nil || !bytes.Equal(out, val) {
		t.Fatalf("lookup %v %v", out, err)
	}
	// Program view: the value address reads the same bytes.
	addr := m.LookupElem(1, u32(1))
	b, err := mem.Slice(addr, 12, true)
	if err != nil || !bytes.Equal(b, val) {
		t.Fatalf("program view %v %v", b, err)
	}
	b[0] = 42
	m.Lookup(u32(1), out, 0)
	if out[0] != 42 {
		t.Fatal("program store not visible to user lookup")
	}
	if m.LookupElem(0, u32(3)) != 0 {
		t.Fatal("lookup past max_entries returned an address")
	}
	if a.ValueAddr(0, 2)-a.ValueAddr(0, 1) != 16 {
		t.Fatal("elements not 8-byte rounded")
	}
	if _, err := a.DirectValueAddr(0); err == nil {
		t.Fatal("direct value access on a 3-element array")
	}
}

func TestArrayNextKey(t *testing.T) {
	m := newMap(t, vm.NewMemory(), Spec{Type: TypeArray, KeySize: 4, ValueSize: 4, MaxEntries: 3}, 1)
	next := make([]byte, 4)
	cases := []struct {
		key  []byte
		next uint32
		want error
	}{
		{nil, 0, nil}, {u32(0), 1, nil}, {u32(1), 2, nil}, {u32(2), 0, syscall.ENOENT}, {u32(77), 0, nil},
	}
	for _, c := range cases {
		err := m.NextKey(c.key, next)
		wantErr(t, "NextKey", err, c.want)
		if err == nil && le64(append(next, 0, 0, 0, 0)) != uint64(c.next) {
			t.Fatalf("NextKey(%v) = %v, want %d", c.key, next, c.next)
		}
	}
}

func TestPercpuArray(t *testing.T) {
	mem := vm.NewMemory()
	const ncpu = 3
	m := newMap(t, mem, Spec{Type: TypePercpuArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, ncpu)
	if ValueBufSize(m) != 8*ncpu {
		t.Fatalf("value buf size %d", ValueBufSize(m))
	}
	// Program update from CPU 1 touches only CPU 1's copy.
	if err := m.UpdateElem(1, u32(0), u32(0xaa), Any); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8*ncpu)
	if err := m.Lookup(u32(0), buf, 0); err != nil {
		t.Fatal(err)
	}
	for c := range ncpu {
		want := uint64(0)
		if c == 1 {
			want = 0xaa
		}
		if got := le64(buf[8*c:]); got != want {
			t.Fatalf("cpu %d: %#x want %#x", c, got, want)
		}
	}
	// User update writes every CPU's copy.
	in := make([]byte, 8*ncpu)
	for c := range ncpu {
		copy(in[8*c:], u32(uint32(10+c)))
	}
	if err := m.Update(u32(1), in, Any); err != nil {
		t.Fatal(err)
	}
	pm := m.(PercpuMap)
	for c := range ncpu {
		a := m.LookupElem(c, u32(1))
		if a != pm.LookupPercpuElem(u32(1), c) {
			t.Fatal("LookupElem and LookupPercpuElem disagree")
		}
		b, _ := mem.Slice(a, 4, false)
		if b[0] != byte(10+c) {
			t.Fatalf("cpu %d sees %d", c, b[0])
		}
	}
	if pm.LookupPercpuElem(u32(1), ncpu) != 0 || m.LookupElem(ncpu, u32(1)) != 0 {
		t.Fatal("cpu out of range resolved")
	}
	wantErr(t, "percpu update noexist", m.Update(u32(1), in, NoExist), syscall.EEXIST)
	wantErr(t, "percpu update lock", m.Update(u32(1), in, Lock), syscall.EINVAL)
}

func TestArrayRdonlyProgAndFreeze(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Name: ".rodata", Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1,
		Flags: FlagRdonlyProg | FlagMmapable}, 1)
	if err := m.Update(u32(0), u64(5), Any); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "freeze", m.Freeze(), nil)
	wantErr(t, "freeze twice", m.Freeze(), syscall.EBUSY)
	wantErr(t, "update frozen", m.Update(u32(0), u64(6), Any), syscall.EPERM)
	a := m.(*Array)
	addr, err := a.DirectValueAddr(4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Slice(addr, 4, true); err == nil {
		t.Fatal("rodata writable by programs")
	}
	if b, err := mem.Slice(addr-4, 8, false); err != nil || b[0] != 5 {
		t.Fatalf("rodata read %v %v", b, err)
	}
	_, err = a.DirectValueAddr(8)
	wantErr(t, "direct value past end", err, syscall.EINVAL)

	wo := newMap(t, mem, Spec{Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagWronly}, 1)
	wantErr(t, "lookup wronly", wo.Lookup(u32(0), make([]byte, 8), 0), syscall.EPERM)
	ro := newMap(t, mem, Spec{Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagRdonly}, 1)
	wantErr(t, "update rdonly", ro.Update(u32(0), u64(1), 0), syscall.EPERM)
}

func TestArrayForEach(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Type: TypeArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 1)
	it := m.(IterMap)
	var keys []uint32
	n, err := it.ForEach(0, func(k, v uint64) (bool, error) {
		b, err := mem.Slice(k, 4, false)
		if err != nil {
			return true, err
		}
		keys = append(keys, uint32(b[0]))
		if ka, _ := m.(KeyAddresser).KeyAddr(v); ka != k {
			t.Fatalf("KeyAddr(%#x) = %#x, want %#x", v, ka, k)
		}
		return len(keys) == 3, nil
	})
	if err != nil || n != 3 || len(keys) != 3 || keys[2] != 2 {
		t.Fatalf("ForEach n=%d keys=%v err=%v", n, keys, err)
	}
}
