package maps

import (
	"errors"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/vm"
)

func newMap(t *testing.T, mem *vm.Memory, s Spec, ncpu int) Map {
	t.Helper()
	m, err := New(mem, &s, ncpu)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return m
}

func u32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func u64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

// spinLockValue is struct { int a; struct bpf_spin_lock l; long b; }.
func spinLockValue() btf.Type {
	i := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	l := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: i}}}
	return &btf.Struct{Name: "v", Size: 16, Members: []btf.Member{
		{Name: "a", Type: i, Offset: 0},
		{Name: "l", Type: lock, Offset: 32},
		{Name: "b", Type: l, Offset: 64},
	}}
}

func timerValue() btf.Type {
	u := &btf.Int{Name: "unsigned long long", Size: 8}
	timer := &btf.Struct{Name: "bpf_timer", Size: 16, Members: []btf.Member{
		{Name: "a", Type: u}, {Name: "b", Type: u, Offset: 64}}}
	return &btf.Struct{Name: "tv", Size: 24, Members: []btf.Member{
		{Name: "x", Type: u}, {Name: "t", Type: timer, Offset: 64}}}
}

// kptrValue is struct { long x; struct bpf_cpumask __kptr *m; }.
func kptrValue() btf.Type {
	l := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	cm := &btf.Struct{Name: "bpf_cpumask", Size: 8}
	p := &btf.Pointer{Target: &btf.TypeTag{Value: "kptr", Type: cm}}
	return &btf.Struct{Name: "kv", Size: 16, Members: []btf.Member{{Name: "x", Type: l}, {Name: "m", Type: p, Offset: 64}}}
}

func TestCreateChecks(t *testing.T) {
	const P = 4096
	inner := &Spec{Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}
	cases := []struct {
		name string
		spec Spec
		want error
	}{
		{"array ok", Spec{Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 10}, nil},
		{"array key 8", Spec{Type: TypeArray, KeySize: 8, ValueSize: 8, MaxEntries: 10}, syscall.EINVAL},
		{"array no entries", Spec{Type: TypeArray, KeySize: 4, ValueSize: 8}, syscall.EINVAL},
		{"array value 0", Spec{Type: TypeArray, KeySize: 4, MaxEntries: 1}, syscall.EINVAL},
		{"array bad flag", Spec{Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagNoPrealloc}, syscall.EINVAL},
		{"array mmapable", Spec{Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagMmapable}, nil},
		{"array rdonly+wronly prog", Spec{Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagRdonlyProg | FlagWronlyProg}, syscall.EINVAL},
		{"array huge value", Spec{Type: TypeArray, KeySize: 4, ValueSize: 5 << 20, MaxEntries: 1}, syscall.E2BIG},
		{"percpu array mmapable", Spec{Type: TypePercpuArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagMmapable}, syscall.EINVAL},
		{"percpu array numa", Spec{Type: TypePercpuArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagNumaNode}, syscall.EINVAL},
		{"percpu array value 33K", Spec{Type: TypePercpuArray, KeySize: 4, ValueSize: 33 << 10, MaxEntries: 1}, syscall.E2BIG},
		{"array preserve elems", Spec{Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagPreserveElems}, syscall.EINVAL},
		{"hash ok", Spec{Type: TypeHash, KeySize: 3, ValueSize: 5, MaxEntries: 7}, nil},
		{"hash key 0", Spec{Type: TypeHash, ValueSize: 5, MaxEntries: 7}, syscall.EINVAL},
		{"hash no common lru", Spec{Type: TypeHash, KeySize: 4, ValueSize: 4, MaxEntries: 7, Flags: FlagNoCommonLRU}, syscall.EINVAL},
		{"lru no prealloc", Spec{Type: TypeLRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 7, Flags: FlagNoPrealloc}, ENOTSUPP},
		{"percpu hash numa", Spec{Type: TypePercpuHash, KeySize: 4, ValueSize: 4, MaxEntries: 7, Flags: FlagNumaNode}, syscall.EINVAL},
		{"hash huge", Spec{Type: TypeHash, KeySize: 4, ValueSize: 4 << 20, MaxEntries: 7}, syscall.E2BIG},
		{"hash too many", Spec{Type: TypeHash, KeySize: 4, ValueSize: 4, MaxEntries: 1<<31 + 1}, syscall.E2BIG},
		{"hash mmapable", Spec{Type: TypeHash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: FlagMmapable}, syscall.EINVAL},
		{"queue ok", Spec{Type: TypeQueue, ValueSize: 4, MaxEntries: 3}, nil},
		{"queue key", Spec{Type: TypeQueue, KeySize: 4, ValueSize: 4, MaxEntries: 3}, syscall.EINVAL},
		{"stack no entries", Spec{Type: TypeStack, ValueSize: 4}, syscall.EINVAL},
		{"ringbuf ok", Spec{Type: TypeRingBuf, MaxEntries: P}, nil},
		{"ringbuf not pow2", Spec{Type: TypeRingBuf, MaxEntries: 3 * P}, syscall.EINVAL},
		{"ringbuf not page", Spec{Type: TypeRingBuf, MaxEntries: 1024}, syscall.EINVAL},
		{"ringbuf key", Spec{Type: TypeRingBuf, KeySize: 4, MaxEntries: P}, syscall.EINVAL},
		{"user ringbuf ok", Spec{Type: TypeUserRingBuf, MaxEntries: 2 * P}, nil},
		{"task storage ok", Spec{Type: TypeTaskStorage, KeySize: 4, ValueSize: 16, Flags: FlagNoPrealloc}, nil},
		{"task storage prealloc", Spec{Type: TypeTaskStorage, KeySize: 4, ValueSize: 16}, syscall.EINVAL},
		{"task storage entries", Spec{Type: TypeTaskStorage, KeySize: 4, ValueSize: 16, MaxEntries: 1, Flags: FlagNoPrealloc}, syscall.EINVAL},
		{"cgrp storage big", Spec{Type: TypeCgrpStorage, KeySize: 4, ValueSize: 1 << 16, Flags: FlagNoPrealloc}, syscall.E2BIG},
		{"perf array ok", Spec{Type: TypePerfEventArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, nil},
		{"perf array value 8", Spec{Type: TypePerfEventArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}, syscall.EINVAL},
		{"array of maps ok", Spec{Type: TypeArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, Inner: inner}, nil},
		{"array of maps no inner", Spec{Type: TypeArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4}, syscall.EBADF},
		{"hash of maps nested", Spec{Type: TypeHashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4,
			Inner: &Spec{Type: TypeHashOfMaps}}, syscall.EINVAL},
		{"hash of maps storage inner", Spec{Type: TypeHashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4,
			Inner: &Spec{Type: TypeTaskStorage}}, ENOTSUPP},
		{"spin lock in percpu array", Spec{Type: TypePercpuArray, KeySize: 4, ValueSize: 16, MaxEntries: 1, Value: spinLockValue()}, syscall.EOPNOTSUPP},
		{"timer in percpu hash", Spec{Type: TypePercpuHash, KeySize: 4, ValueSize: 24, MaxEntries: 1, Value: timerValue()}, syscall.EOPNOTSUPP},
		{"timer in task storage", Spec{Type: TypeTaskStorage, KeySize: 4, ValueSize: 24, Flags: FlagNoPrealloc, Value: timerValue()}, syscall.EOPNOTSUPP},
		{"kptr in percpu array", Spec{Type: TypePercpuArray, KeySize: 4, ValueSize: 16, MaxEntries: 1, Value: kptrValue()}, nil},
		{"timer in array", Spec{Type: TypeArray, KeySize: 4, ValueSize: 24, MaxEntries: 1, Value: timerValue()}, nil},
		{"unknown type", Spec{Type: 99, KeySize: 4, ValueSize: 4, MaxEntries: 1}, syscall.EINVAL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := vm.NewMemory()
			m, err := New(mem, &c.spec, 2)
			wantErr(t, "New", err, c.want)
			if err == nil {
				if got, ok := RegistryOf(mem).Lookup(m.Addr()); !ok || got != m {
					t.Fatalf("registry does not resolve %#x", m.Addr())
				}
				m.Put()
				if _, ok := RegistryOf(mem).Lookup(m.Addr()); ok {
					t.Fatalf("released map still registered")
				}
			}
		})
	}
}

func TestRefsRelease(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Name: "a", Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 2}, 1)
	a := m.(*Array)
	v := a.ValueAddr(0, 1)
	if _, err := mem.Slice(v, 8, true); err != nil {
		t.Fatal(err)
	}
	m.Get()
	if m.Refs() != 2 {
		t.Fatalf("refs %d", m.Refs())
	}
	m.Put()
	if _, err := mem.Slice(v, 8, true); err != nil {
		t.Fatalf("released early: %v", err)
	}
	m.Put()
	if m.Refs() != 0 {
		t.Fatalf("refs %d", m.Refs())
	}
	if _, err := mem.Slice(v, 8, false); err == nil {
		t.Fatal("value region still mapped after release")
	}
	if _, err := mem.Slice(m.Addr(), 8, false); err == nil {
		t.Fatal("header still mapped after release")
	}
	m.Put() // extra puts are ignored
}

func TestIDsAndHeader(t *testing.T) {
	mem := vm.NewMemory()
	a := newMap(t, mem, Spec{Name: "a", Type: TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 2}, 1)
	b := newMap(t, mem, Spec{Name: "b", Type: TypeHash, KeySize: 4, ValueSize: 8, MaxEntries: 9}, 1)
	if a.ID() == b.ID() || a.Addr() == b.Addr() {
		t.Fatal("ids/addresses not unique")
	}
	r := RegistryOf(mem)
	if m, _ := r.ByID(b.ID()); m != b {
		t.Fatal("ByID")
	}
	ms := r.Maps()
	if len(ms) != 2 || ms[0] != a || ms[1] != b {
		t.Fatalf("Maps order %v", ms)
	}
	hdr, err := mem.Slice(b.Addr(), 16, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := le64(append(hdr[12:16:16], 0, 0, 0, 0)); got != 9 {
		t.Fatalf("header max_entries %d", got)
	}
	if _, err := mem.Slice(b.Addr(), 4, true); err == nil {
		t.Fatal("header writable")
	}
}

func TestParseFields(t *testing.T) {
	i := &btf.Int{Name: "int", Size: 4}
	lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: i}}}
	kv := kptrValue().(*btf.Struct)
	// struct { int a; struct kv inner[2]; struct bpf_spin_lock l; } with
	// inner at 8 (16 bytes each), l at 40; plus a typedef'd untrusted kptr.
	untrusted := &btf.Typedef{Name: "uptr_t", Type: &btf.Pointer{Target: &btf.TypeTag{Value: "kptr_untrusted", Type: &btf.Struct{Name: "task_struct"}}}}
	v := &btf.Struct{Name: "outer", Size: 56, Members: []btf.Member{
		{Name: "a", Type: i},
		{Name: "inner", Type: &btf.Array{Type: kv, Nelems: 2}, Offset: 64},
		{Name: "l", Type: &btf.Volatile{Type: lock}, Offset: 320},
		{Name: "u", Type: untrusted, Offset: 384},
	}}
	got := parseFields(v)
	want := []struct {
		k   FieldKind
		off uint32
	}{{FieldKptrRef, 16}, {FieldKptrRef, 32}, {FieldSpinLock, 40}, {FieldKptrUnref, 48}}
	if len(got) != len(want) {
		t.Fatalf("fields %+v", got)
	}
	for j, w := range want {
		if got[j].Kind != w.k || got[j].Offset != w.off {
			t.Fatalf("field %d = %v@%d, want %v@%d", j, got[j].Kind, got[j].Offset, w.k, w.off)
		}
	}
	if s, ok := got[0].Target.(*btf.Struct); !ok || s.Name != "bpf_cpumask" {
		t.Fatalf("kptr target %v", got[0].Target)
	}
	segs := copySegments(56, got)
	wantSegs := []segment{{0, 16}, {24, 32}, {44, 48}}
	if len(segs) != len(wantSegs) {
		t.Fatalf("segments %v", segs)
	}
	for j := range segs {
		if segs[j] != wantSegs[j] {
			t.Fatalf("segments %v, want %v", segs, wantSegs)
		}
	}
}
