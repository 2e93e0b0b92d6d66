package maps

import (
	"bytes"
	"fmt"
	"slices"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

func TestHashOps(t *testing.T) {
	for _, typ := range []uint32{TypeHash, TypeLRUHash, TypePercpuHash, TypeLRUPercpuHash} {
		t.Run(fmt.Sprint(typ), func(t *testing.T) {
			mem := vm.NewMemory()
			m := newMap(t, mem, Spec{Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 2}, 2)
			vb := make([]byte, ValueBufSize(m))
			lru := typ == TypeLRUHash || typ == TypeLRUPercpuHash
			full := error(syscall.E2BIG)
			if lru {
				full = nil // evicts instead
			}
			steps := []struct {
				name string
				op   func() error
				want error
			}{
				{"lookup missing", func() error { return m.Lookup(u32(1), vb, 0) }, syscall.ENOENT},
				{"update exist missing", func() error { return m.Update(u32(1), vb, Exist) }, syscall.ENOENT},
				{"update noexist", func() error { return m.Update(u32(1), vb, NoExist) }, nil},
				{"update noexist again", func() error { return m.Update(u32(1), vb, NoExist) }, syscall.EEXIST},
				{"update exist", func() error { return m.Update(u32(1), vb, Exist) }, nil},
				{"update any", func() error { return m.Update(u32(2), vb, Any) }, nil},
				{"update any existing when full", func() error { return m.Update(u32(2), vb, Any) }, nil},
				{"update new when full", func() error { return m.Update(u32(3), vb, Any) }, full},
				{"bad flags", func() error { return m.Update(u32(1), vb, 3) }, syscall.EINVAL},
				{"lock without spin lock", func() error { return m.Update(u32(1), vb, Lock) }, syscall.EINVAL},
				{"delete", func() error { return m.Delete(u32(2)) }, nil},
				{"delete again", func() error { return m.Delete(u32(2)) }, syscall.ENOENT},
				{"prog delete missing", func() error { return m.DeleteElem(u32(9)) }, syscall.ENOENT},
				{"lookup and delete bad flags", func() error { return m.LookupAndDelete(u32(1), vb, 1) }, syscall.EINVAL},
				{"lookup bad flags", func() error { return m.Lookup(u32(1), vb, 2) }, syscall.EINVAL},
				{"short key", func() error { return m.Update([]byte{1}, vb, Any) }, syscall.EINVAL},
			}
			for _, s := range steps {
				wantErr(t, s.name, s.op(), s.want)
			}
		})
	}
}

func TestHashValuesAndOrder(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Type: TypeHash, KeySize: 3, ValueSize: 5, MaxEntries: 100}, 1)
	keys := [][]byte{[]byte("ccc"), []byte("aaa"), []byte("bbb"), []byte("ddd")}
	for i, k := range keys {
		if err := m.Update(k, bytes.Repeat([]byte{byte(i + 1)}, 5), NoExist); err != nil {
			t.Fatal(err)
		}
	}
	addr := m.LookupElem(0, []byte("aaa"))
	wantErr(t, "delete bbb", m.Delete([]byte("bbb")), nil)
	// Re-adding puts the key last; existing values keep their address.
	wantErr(t, "re-add bbb", m.Update([]byte("bbb"), make([]byte, 5), Any), nil)
	wantErr(t, "overwrite aaa", m.Update([]byte("aaa"), bytes.Repeat([]byte{9}, 5), Any), nil)
	if m.LookupElem(0, []byte("aaa")) != addr {
		t.Fatal("update moved the value")
	}
	b, _ := mem.Slice(addr, 5, false)
	if b[0] != 9 {
		t.Fatalf("value %v", b)
	}
	// The key sits right before the value (bpf_timer_cb's key computation).
	k, _ := mem.Slice(addr-8, 3, false)
	if string(k) != "aaa" {
		t.Fatalf("key before value: %q", k)
	}
	var got []string
	next := make([]byte, 3)
	var cur []byte
	for {
		if err := m.NextKey(cur, next); err != nil {
			wantErr(t, "end", err, syscall.ENOENT)
			break
		}
		got = append(got, string(next))
		cur = slices.Clone(next)
	}
	if want := []string{"ccc", "aaa", "ddd", "bbb"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	// A missing key restarts from the first key.
	wantErr(t, "next of missing", m.NextKey([]byte("zzz"), next), nil)
	if string(next) != "ccc" {
		t.Fatalf("next of missing = %q", next)
	}
	out := make([]byte, 5)
	wantErr(t, "lookup and delete", m.LookupAndDelete([]byte("ddd"), out, 0), nil)
	if out[0] != 4 || m.LookupElem(0, []byte("ddd")) != 0 {
		t.Fatalf("lookup and delete: %v", out)
	}
}

func TestHashForEachDelete(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Type: TypeHash, KeySize: 4, ValueSize: 4, MaxEntries: 100}, 1)
	for i := range uint32(10) {
		m.Update(u32(i), u32(i*10), Any)
	}
	var seen []uint32
	n, err := m.(IterMap).ForEach(0, func(k, v uint64) (bool, error) {
		kb, _ := mem.Slice(k, 4, false)
		key := uint32(le64(append(slices.Clone(kb), 0, 0, 0, 0)))
		seen = append(seen, key)
		// Delete the next key and the current one; add a new one.
		m.DeleteElem(u32(key + 1))
		m.DeleteElem(u32(key))
		m.UpdateElem(0, u32(key+100), u32(0), Any)
		return false, nil
	})
	if err != nil || n != 5 || !slices.Equal(seen, []uint32{0, 2, 4, 6, 8}) {
		t.Fatalf("n=%d seen=%v err=%v", n, seen, err)
	}
	if m.(*Hash).Len() != 5 {
		t.Fatalf("len %d", m.(*Hash).Len())
	}
}

func TestHashChurnCompaction(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Type: TypeHash, KeySize: 4, ValueSize: 4, MaxEntries: 8}, 1)
	h := m.(*Hash)
	for i := range uint32(10000) {
		wantErr(t, "insert", m.Update(u32(i), u32(i), NoExist), nil)
		if i >= 4 {
			wantErr(t, "delete", m.Delete(u32(i-4)), nil)
		}
	}
	if len(h.order) > 64 || h.slab.Used() != 4 {
		t.Fatalf("order %d used %d", len(h.order), h.slab.Used())
	}
	next := make([]byte, 4)
	wantErr(t, "first", m.NextKey(nil, next), nil)
	if le64(append(next, 0, 0, 0, 0)) != 9996 {
		t.Fatalf("first key %v", next)
	}
}

func TestLRUEvictionOrder(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Type: TypeLRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 3}, 1)
	for _, k := range []uint32{1, 2, 3} {
		m.UpdateElem(0, u32(k), u32(k), Any)
	}
	m.LookupElem(0, u32(1))                  // 1 becomes most recent: LRU order 2,3,1
	m.Lookup(u32(2), make([]byte, 4), 0)     // user lookups do not count
	m.UpdateElem(0, u32(3), u32(33), Exist)  // update counts: 2,1,3
	m.UpdateElem(0, u32(4), u32(4), Any)     // evicts 2
	m.UpdateElem(0, u32(5), u32(5), NoExist) // evicts 1
	present := func(k uint32) bool { return m.Lookup(u32(k), make([]byte, 4), 0) == nil }
	for k, want := range map[uint32]bool{1: false, 2: false, 3: true, 4: true, 5: true} {
		if present(k) != want {
			t.Fatalf("key %d present=%v want %v", k, !want, want)
		}
	}
	// A failed NOEXIST insert evicts nothing.
	wantErr(t, "noexist", m.UpdateElem(0, u32(3), u32(0), NoExist), syscall.EEXIST)
	if !present(4) {
		t.Fatal("failed insert evicted")
	}
}

func TestLRUPerCPULists(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Type: TypeLRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 3, Flags: FlagNoCommonLRU}, 2)
	if m.Spec().MaxEntries != 4 {
		t.Fatalf("max_entries %d, want rounded up to 4", m.Spec().MaxEntries)
	}
	// CPU 0 and CPU 1 each hold 2; inserting a third on CPU 1 evicts CPU 1's oldest.
	m.UpdateElem(0, u32(10), u32(0), Any)
	m.UpdateElem(0, u32(11), u32(0), Any)
	m.UpdateElem(1, u32(20), u32(0), Any)
	m.UpdateElem(1, u32(21), u32(0), Any)
	m.UpdateElem(1, u32(22), u32(0), Any)
	present := func(k uint32) bool { return m.Lookup(u32(k), make([]byte, 4), 0) == nil }
	if !present(10) || !present(11) || present(20) || !present(21) || !present(22) {
		t.Fatal("per-CPU LRU evicted from the wrong list")
	}
}

func TestPercpuHash(t *testing.T) {
	mem := vm.NewMemory()
	const ncpu = 4
	m := newMap(t, mem, Spec{Type: TypePercpuHash, KeySize: 4, ValueSize: 4, MaxEntries: 4}, ncpu)
	// A program insert on CPU 2 zeroes the other CPUs' copies.
	m.UpdateElem(2, u32(1), u32(7), Any)
	buf := make([]byte, 8*ncpu)
	m.Lookup(u32(1), buf, 0)
	for c := range ncpu {
		want := uint64(0)
		if c == 2 {
			want = 7
		}
		if le64(buf[8*c:]) != want {
			t.Fatalf("cpu %d: %d", c, le64(buf[8*c:]))
		}
	}
	// A program update on CPU 3 leaves CPU 2's copy.
	m.UpdateElem(3, u32(1), u32(8), Exist)
	m.Lookup(u32(1), buf, 0)
	if le64(buf[16:]) != 7 || le64(buf[24:]) != 8 {
		t.Fatalf("copies %v", buf)
	}
	pm := m.(PercpuMap)
	a := pm.LookupPercpuElem(u32(1), 3)
	if a == 0 || a != m.LookupElem(3, u32(1)) {
		t.Fatal("percpu lookup")
	}
	if pm.LookupPercpuElem(u32(1), ncpu) != 0 {
		t.Fatal("cpu out of range")
	}
	for c := range ncpu {
		copy(buf[8*c:], u32(uint32(100+c)))
	}
	m.Update(u32(1), buf, Any)
	for c := range ncpu {
		b, _ := mem.Slice(m.LookupElem(c, u32(1)), 4, false)
		if b[0] != byte(100+c) {
			t.Fatalf("cpu %d: %d", c, b[0])
		}
	}
}

type recReleaser struct{ got []string }

func (r *recReleaser) FreeField(m Map, f Field, addr uint64) {
	r.got = append(r.got, fmt.Sprintf("%s@%d", f.Kind, addr%64))
}

func TestSpinLockValues(t *testing.T) {
	for _, typ := range []uint32{TypeArray, TypeHash} {
		mem := vm.NewMemory()
		m := newMap(t, mem, Spec{Type: typ, KeySize: 4, ValueSize: 16, MaxEntries: 4, Value: spinLockValue()}, 1)
		fs := m.Fields()
		if len(fs) != 1 || fs[0].Kind != FieldSpinLock || fs[0].Offset != 4 || fs[0].Size != 4 {
			t.Fatalf("fields %+v", fs)
		}
		in := bytes.Repeat([]byte{0xee}, 16)
		wantErr(t, "update lock", m.Update(u32(0), in, Lock), nil)
		addr := m.LookupElem(0, u32(0))
		v, _ := mem.Slice(addr, 16, true)
		if !bytes.Equal(v[4:8], []byte{0, 0, 0, 0}) || v[0] != 0xee || v[15] != 0xee {
			t.Fatalf("lock field copied: %x", v)
		}
		v[4] = 1 // a program holds the lock
		out := make([]byte, 16)
		wantErr(t, "lookup lock", m.Lookup(u32(0), out, Lock), nil)
		if out[4] != 0 || out[0] != 0xee {
			t.Fatalf("lookup exposed the lock: %x", out)
		}
		wantErr(t, "plain update", m.Update(u32(0), in, Any), nil)
		if v[4] != 1 {
			t.Fatal("update overwrote the lock")
		}
		wantErr(t, "lock|exist", m.Update(u32(0), in, Lock|Exist), nil)
		if typ == TypeHash {
			wantErr(t, "lock|exist missing", m.Update(u32(3), in, Lock|Exist), syscall.ENOENT)
			wantErr(t, "lock|noexist existing", m.Update(u32(0), in, Lock|NoExist), syscall.EEXIST)
		}
		wantErr(t, "freeze with special fields", m.Freeze(), ENOTSUPP)
	}
}

func TestFreeFieldsOnUpdateDeleteRelease(t *testing.T) {
	mem := vm.NewMemory()
	rel := &recReleaser{}
	RegistryOf(mem).SetReleaser(rel)
	h := newMap(t, mem, Spec{Type: TypeHash, KeySize: 4, ValueSize: 24, MaxEntries: 4, Value: timerValue()}, 1)
	if fs := h.Fields(); len(fs) != 1 || fs[0].Kind != FieldTimer || fs[0].Offset != 8 || fs[0].Size != 16 {
		t.Fatalf("fields %+v", fs)
	}
	h.Update(u32(1), make([]byte, 24), Any)
	arm := func(k uint32) {
		v, _ := mem.Slice(h.LookupElem(0, u32(k)), 24, true)
		v[8] = 1 // an initialized timer
	}
	arm(1)
	// A user update neither copies nor keeps the timer: the old one is freed.
	in := bytes.Repeat([]byte{5}, 24)
	h.Update(u32(1), in, Any)
	v, _ := mem.Slice(h.LookupElem(0, u32(1)), 24, false)
	if len(rel.got) != 1 || v[8] != 0 || v[0] != 5 {
		t.Fatalf("after update: released %v value %x", rel.got, v)
	}
	arm(1)
	h.Delete(u32(1))
	if len(rel.got) != 2 {
		t.Fatalf("delete released %v", rel.got)
	}
	h.Update(u32(2), make([]byte, 24), Any)
	h.Update(u32(3), make([]byte, 24), Any)
	arm(3)
	h.Put()
	if len(rel.got) != 3 {
		t.Fatalf("release freed %v", rel.got)
	}
}
