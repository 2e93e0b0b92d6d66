package helpers

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/maps"
)

func TestMapLookupIncrement(t *testing.T) {
	v := newEnv(t, 2)
	m := v.newMap(maps.Spec{Name: "arr", Type: maps.TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	p := v.load("inc", fmt.Sprintf(`
		stw [%%r10-4], 1
		lddw %%r1, %#x
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jeq %%r0, 0, fail
		ldxdw %%r1, [%%r0]
		add %%r1, 5
		stxdw [%%r0], %%r1
		mov %%r0, 0
		exit
	fail:
		mov %%r0, 1
		exit`, m.Addr()))
	for range 3 {
		if r := v.run(p, 0); r != 0 {
			t.Fatalf("lookup failed: %d", r)
		}
	}
	out := make([]byte, 8)
	m.Lookup([]byte{1, 0, 0, 0}, out, 0)
	if binary.LittleEndian.Uint64(out) != 15 {
		t.Fatalf("value %d", binary.LittleEndian.Uint64(out))
	}
}

func TestMapUpdateDeleteErrno(t *testing.T) {
	v := newEnv(t, 2)
	h := v.newMap(maps.Spec{Name: "h", Type: maps.TypeHash, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	ro := v.newMap(maps.Spec{Name: ".rodata", Type: maps.TypeArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: maps.FlagRdonlyProg})
	key, kb := v.buf(4)
	val, vb := v.buf(8)
	steps := []struct {
		name  string
		id    int32
		k     uint32
		flags uint64
		want  uint64
	}{
		{"update exist missing", FuncMapUpdateElem, 1, maps.Exist, e(syscall.ENOENT)},
		{"update noexist", FuncMapUpdateElem, 1, maps.NoExist, 0},
		{"update noexist again", FuncMapUpdateElem, 1, maps.NoExist, e(syscall.EEXIST)},
		{"update any", FuncMapUpdateElem, 2, maps.Any, 0},
		{"update full", FuncMapUpdateElem, 3, maps.Any, e(syscall.E2BIG)},
		{"update bad flags", FuncMapUpdateElem, 1, 7, e(syscall.EINVAL)},
		{"update lock, no spin lock", FuncMapUpdateElem, 1, maps.Lock, e(syscall.EINVAL)},
		{"delete", FuncMapDeleteElem, 2, 0, 0},
		{"delete missing", FuncMapDeleteElem, 2, 0, e(syscall.ENOENT)},
	}
	for _, s := range steps {
		binary.LittleEndian.PutUint32(kb, s.k)
		binary.LittleEndian.PutUint64(vb, uint64(s.k)*100)
		var got uint64
		if s.id == FuncMapUpdateElem {
			got = v.call(0, s.id, h.Addr(), key, val, s.flags)
		} else {
			got = v.call(0, s.id, h.Addr(), key)
		}
		if got != s.want {
			t.Fatalf("%s: r0 = %d, want %d", s.name, int64(got), int64(s.want))
		}
	}
	binary.LittleEndian.PutUint32(kb, 1)
	a := v.call(0, FuncMapLookupElem, h.Addr(), key)
	b, _ := v.mem.Slice(a, 8, false)
	if a == 0 || binary.LittleEndian.Uint64(b) != 100 {
		t.Fatalf("lookup after update: %#x %v", a, b)
	}
	binary.LittleEndian.PutUint32(kb, 0)
	if err := v.callErr(0, FuncMapUpdateElem, ro.Addr(), key, val, 0); err == nil {
		t.Fatal("update of a BPF_F_RDONLY_PROG map did not stop the program")
	}
	if err := v.callErr(0, FuncMapLookupElem, 0x1234, key); err == nil {
		t.Fatal("lookup in a non-map did not stop the program")
	}
	if err := v.callErr(0, FuncMapLookupElem, h.Addr(), 0x10); err == nil {
		t.Fatal("bad key pointer did not stop the program")
	}
}

func TestPercpuHelpers(t *testing.T) {
	v := newEnv(t, 3)
	m := v.newMap(maps.Spec{Type: maps.TypePercpuArray, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	key, _ := v.buf(4)
	val, vb := v.buf(8)
	for cpu := range 3 {
		binary.LittleEndian.PutUint64(vb, uint64(10+cpu))
		if r := v.call(cpu, FuncMapUpdateElem, m.Addr(), key, val, 0); r != 0 {
			t.Fatal(r)
		}
	}
	for cpu := range 3 {
		a := v.call(0, FuncMapLookupPercpuElem, m.Addr(), key, uint64(cpu))
		b, _ := v.mem.Slice(a, 8, false)
		if binary.LittleEndian.Uint64(b) != uint64(10+cpu) {
			t.Fatalf("cpu %d: %v", cpu, b)
		}
		own := v.call(cpu, FuncMapLookupElem, m.Addr(), key)
		if own != a {
			t.Fatalf("cpu %d: lookup_elem %#x, lookup_percpu_elem %#x", cpu, own, a)
		}
	}
	if v.call(0, FuncMapLookupPercpuElem, m.Addr(), key, 3) != 0 {
		t.Fatal("cpu >= nr_cpu_ids resolved")
	}
}

func TestQueueHelpers(t *testing.T) {
	v := newEnv(t, 1)
	q := v.newMap(maps.Spec{Type: maps.TypeStack, ValueSize: 4, MaxEntries: 2})
	val, vb := v.buf(4)
	for i, want := range []uint64{0, 0, e(syscall.E2BIG)} {
		binary.LittleEndian.PutUint32(vb, uint32(i+1))
		if r := v.call(0, FuncMapPushElem, q.Addr(), val, 0); r != want {
			t.Fatalf("push %d: %d", i, int64(r))
		}
	}
	if r := v.call(0, FuncMapPushElem, q.Addr(), val, maps.Exist); r != 0 {
		t.Fatal("push exist")
	}
	for _, st := range []struct {
		id   int32
		want uint32
	}{{FuncMapPeekElem, 3}, {FuncMapPopElem, 3}, {FuncMapPopElem, 2}} {
		clear(vb)
		if r := v.call(0, st.id, q.Addr(), val); r != 0 || binary.LittleEndian.Uint32(vb) != st.want {
			t.Fatalf("%d: r0=%d value=%v want %d", st.id, int64(r), vb, st.want)
		}
	}
	vb[0] = 9
	if r := v.call(0, FuncMapPopElem, q.Addr(), val); r != e(syscall.ENOENT) || vb[0] != 0 {
		t.Fatalf("pop empty: %d %v", int64(r), vb)
	}
	h := v.newMap(maps.Spec{Type: maps.TypeHash, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	if err := v.callErr(0, FuncMapPushElem, h.Addr(), val, 0); err == nil {
		t.Fatal("push into a hash map did not stop the program")
	}
}

func TestForEachMapElem(t *testing.T) {
	v := newEnv(t, 1)
	h := v.newMap(maps.Spec{Type: maps.TypeHash, KeySize: 4, ValueSize: 8, MaxEntries: 16})
	for i := range uint32(6) {
		k := []byte{byte(i), 0, 0, 0}
		val := make([]byte, 8)
		binary.LittleEndian.PutUint64(val, uint64(i)*10)
		h.Update(k, val, 0)
	}
	ctx, cb := v.buf(16)
	// Sum values into ctx[0:8], keys into ctx[8:16]; stop at key 3.
	// Flags must be 0.
	wrap := v.load("foreach-flags", fmt.Sprintf(`
		mov %%r6, %%r1
		lddw %%r1, %#x
		lddw %%r2, CB(0)
		lddw %%r3, %#x
		mov %%r4, %%r6
		call 164
		exit`, h.Addr(), ctx), `
		mov %r0, 0
		exit`)
	if r := v.run(wrap, 0, 1); r != e(syscall.EINVAL) {
		t.Fatalf("flags: %d", int64(r))
	}
	p := v.load("foreach", fmt.Sprintf(`
		lddw %%r1, %#x
		lddw %%r2, CB(0)
		lddw %%r3, %#x
		mov %%r4, 0
		call 164
		exit`, h.Addr(), ctx), `
		ldxdw %r5, [%r3]
		ldxdw %r0, [%r4]
		add %r0, %r5
		stxdw [%r4], %r0
		ldxw %r5, [%r2]
		ldxdw %r0, [%r4+8]
		add %r0, %r5
		stxdw [%r4+8], %r0
		mov %r0, 0
		jne %r5, 3, +1
		mov %r0, 1
		exit`)
	if r := v.run(p, 0); r != 4 {
		t.Fatalf("visited %d, want 4", r)
	}
	if s, k := binary.LittleEndian.Uint64(cb), binary.LittleEndian.Uint64(cb[8:]); s != 60 || k != 6 {
		t.Fatalf("sum %d keys %d", s, k)
	}
}

// A program's map lookup through the helper allocates nothing.
func TestHelperLookupDoesNotAllocate(t *testing.T) {
	v := newEnv(t, 1)
	m := v.newMap(maps.Spec{Type: maps.TypeHash, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	m.Update([]byte{1, 0, 0, 0}, make([]byte, 8), 0)
	key, kb := v.buf(4)
	kb[0] = 1
	p := v.callProg(FuncMapLookupElem)
	ex := v.exec(0)
	n := testing.AllocsPerRun(200, func() {
		if r, err := ex.Run(p, m.Addr(), key); err != nil || r == 0 {
			t.Fatal(r, err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per helper lookup", n)
	}
}
