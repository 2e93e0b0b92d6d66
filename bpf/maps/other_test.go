package maps

import (
	"bytes"
	"encoding/binary"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

func TestTaskStorage(t *testing.T) {
	mem := vm.NewMemory()
	rel := &recReleaser{}
	RegistryOf(mem).SetReleaser(rel)
	s1 := newMap(t, mem, Spec{Name: "ts1", Type: TypeTaskStorage, KeySize: 4, ValueSize: 16, Flags: FlagNoPrealloc, Value: kptrValue()}, 1).(*LocalStorage)
	s2 := newMap(t, mem, Spec{Name: "ts2", Type: TypeTaskStorage, KeySize: 4, ValueSize: 8, Flags: FlagNoPrealloc}, 1).(*LocalStorage)
	cg := newMap(t, mem, Spec{Name: "cg", Type: TypeCgrpStorage, KeySize: 4, ValueSize: 8, Flags: FlagNoPrealloc}, 1).(*LocalStorage)
	const taskA, taskB = 0x1000, 0x2000

	if s1.ValueAddr(taskA) != 0 {
		t.Fatal("storage before create")
	}
	a, err := s1.Create(taskA, nil)
	if err != nil || a == 0 {
		t.Fatal(err)
	}
	_, err = s1.Create(taskA, nil)
	wantErr(t, "create twice", err, syscall.EEXIST)
	b, _ := s1.Create(taskB, bytes.Repeat([]byte{3}, 16))
	if a == b {
		t.Fatal("owners share storage")
	}
	vb, _ := mem.Slice(b, 16, true)
	if vb[0] != 3 || vb[8] != 0 {
		t.Fatalf("initial value %x (special field must stay zero)", vb)
	}
	s2.Create(taskA, u64(77))
	cg.Create(taskA, u64(99)) // same address as a cgroup: separate namespace
	out := make([]byte, 16)
	steps := []struct {
		name string
		err  error
		want error
	}{
		{"owner lookup", s1.OwnerLookup(taskB, out, 0), nil},
		{"owner lookup missing", s1.OwnerLookup(0x3000, out, 0), syscall.ENOENT},
		{"owner update exist missing", s1.OwnerUpdate(0x3000, out, Exist), syscall.ENOENT},
		{"owner update noexist existing", s1.OwnerUpdate(taskB, out, NoExist), syscall.EEXIST},
		{"owner update bad flags", s1.OwnerUpdate(taskB, out, 5), syscall.EINVAL},
		{"fd-keyed lookup", s1.Lookup(u32(3), out, 0), syscall.EBADF},
		{"next key", s1.NextKey(nil, out), ENOTSUPP},
		{"owner delete missing", s2.OwnerDelete(taskB), syscall.ENOENT},
	}
	for _, s := range steps {
		wantErr(t, s.name, s.err, s.want)
	}
	if out[0] != 3 {
		t.Fatalf("lookup %x", out)
	}
	va, _ := mem.Slice(a, 16, true)
	va[8] = 1 // taskA's kptr holds an object
	// Task exit: every task storage of taskA goes, cgroup storage stays.
	RegistryOf(mem).DropOwner(TypeTaskStorage, taskA)
	if s1.ValueAddr(taskA) != 0 || s2.ValueAddr(taskA) != 0 || cg.ValueAddr(taskA) == 0 {
		t.Fatal("DropOwner")
	}
	if len(rel.got) != 1 {
		t.Fatalf("kptr of dropped task not freed: %v", rel.got)
	}
	if s1.ValueAddr(taskB) != b || s1.Len() != 1 {
		t.Fatal("other task affected")
	}
	// Create after drop gets fresh zeroed storage.
	a2, _ := s1.Create(taskA, nil)
	v2, _ := mem.Slice(a2, 16, false)
	if !bytes.Equal(v2, make([]byte, 16)) {
		t.Fatalf("recreated storage not zeroed: %x", v2)
	}
	wantErr(t, "delete", s1.OwnerDelete(taskB), nil)
	if s1.ValueAddr(taskB) != 0 {
		t.Fatal("delete")
	}
}

func TestQueueStack(t *testing.T) {
	for _, typ := range []uint32{TypeQueue, TypeStack} {
		mem := vm.NewMemory()
		m := newMap(t, mem, Spec{Type: typ, ValueSize: 4, MaxEntries: 3}, 1)
		q := m.(QueueMap)
		for i := range uint32(3) {
			wantErr(t, "push", q.PushElem(u32(i+1), Any), nil)
		}
		wantErr(t, "push full", q.PushElem(u32(9), Any), syscall.E2BIG)
		wantErr(t, "push noexist", q.PushElem(u32(9), NoExist), syscall.EINVAL)
		wantErr(t, "push bad", q.PushElem(u32(9), 4), syscall.EINVAL)
		wantErr(t, "push exist overwrites oldest", q.PushElem(u32(4), Exist), nil)
		v := make([]byte, 4)
		var got []byte
		wantErr(t, "peek", q.PeekElem(v), nil)
		peeked := v[0]
		for q.PopElem(v) == nil {
			got = append(got, v[0])
		}
		want := []byte{2, 3, 4}
		if typ == TypeStack {
			want = []byte{4, 3, 2}
		}
		if !bytes.Equal(got, want) || peeked != want[0] {
			t.Fatalf("type %d popped %v peeked %d, want %v", typ, got, peeked, want)
		}
		v[0] = 0xff
		wantErr(t, "pop empty", q.PopElem(v), syscall.ENOENT)
		if v[0] != 0 {
			t.Fatal("pop of empty did not zero the value")
		}
		// Syscall forms.
		wantErr(t, "update pushes", m.Update(nil, u32(5), Any), nil)
		wantErr(t, "lookup peeks", m.Lookup(nil, v, 0), nil)
		wantErr(t, "lookup and delete flags", m.LookupAndDelete(nil, v, Lock), syscall.EINVAL)
		wantErr(t, "lookup and delete pops", m.LookupAndDelete(nil, v, 0), nil)
		wantErr(t, "delete", m.Delete(nil), syscall.EINVAL)
		wantErr(t, "next key", m.NextKey(nil, v), syscall.EINVAL)
		if m.LookupElem(0, nil) != 0 {
			t.Fatal("lookup elem")
		}
	}
}

func TestRingBuf(t *testing.T) {
	mem := vm.NewMemory()
	m := newMap(t, mem, Spec{Type: TypeRingBuf, MaxEntries: 4096}, 1)
	rb := m.(*RingBuf)
	wakeups := 0
	rb.Notify = func() { wakeups++ }
	a := rb.Reserve(100)
	b := rb.Reserve(16)
	if a == 0 || b == 0 || b-a != 112 {
		t.Fatalf("reserve %#x %#x", a, b)
	}
	if got, ok := RegistryOf(mem).RingBufAt(a); !ok || got != rb {
		t.Fatal("RingBufAt")
	}
	buf, err := mem.Slice(b, 16, true)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "second")
	wantErr(t, "submit b", rb.Commit(b, 0, false), nil)
	// a is still busy: nothing can be consumed yet.
	if n := rb.Consume(func([]byte) {}); n != 0 {
		t.Fatalf("consumed %d past a busy record", n)
	}
	wantErr(t, "discard a", rb.Commit(a, 1, true), nil)
	wantErr(t, "double submit", rb.Commit(a, 0, false), ErrBadSample)
	if wakeups != 1 {
		t.Fatalf("wakeups %d (NO_WAKEUP must not notify)", wakeups)
	}
	wantErr(t, "output", rb.Output([]byte("third"), 0), nil)
	wantErr(t, "output flags", rb.Output([]byte("x"), 4), syscall.EINVAL)
	if q := rb.Query(RingAvailData); q != 112+24+16 {
		t.Fatalf("avail %d", q)
	}
	var got []string
	rb.Consume(func(s []byte) { got = append(got, string(bytes.TrimRight(s, "\x00"))) })
	if len(got) != 2 || got[0] != "second" || got[1] != "third" {
		t.Fatalf("consumed %q", got)
	}
	if rb.Query(RingAvailData) != 0 || rb.Query(RingRingSize) != 4096 || rb.Query(RingConsPos) != rb.Query(RingProdPos) {
		t.Fatal("query after consume")
	}
	// Fill: a record larger than the ring fails, the ring fills up, and
	// records that cross the end stay contiguous.
	if rb.Reserve(4096) != 0 {
		t.Fatal("record larger than the ring reserved")
	}
	var n int
	for rb.Reserve(1000) != 0 {
		n++
	}
	if n != 4 {
		t.Fatalf("reserved %d records of 1000 in 4096 bytes", n)
	}
	wantErr(t, "output fits", rb.Output(make([]byte, 8), 0), nil)
	wantErr(t, "output full", rb.Output(make([]byte, 100), 0), syscall.EAGAIN)
	wantErr(t, "lookup", m.Lookup(nil, nil, 0), ENOTSUPP)
}

func TestRingBufWrap(t *testing.T) {
	mem := vm.NewMemory()
	rb := newMap(t, mem, Spec{Type: TypeRingBuf, MaxEntries: 4096}, 1).(*RingBuf)
	for round := range 20 {
		data := bytes.Repeat([]byte{byte(round)}, 600+round)
		a := rb.Reserve(uint64(len(data)))
		if a == 0 {
			t.Fatalf("round %d: reserve failed", round)
		}
		buf, err := mem.Slice(a, len(data), true)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		copy(buf, data)
		rb.Commit(a, 0, false)
		var got []byte
		rb.Consume(func(s []byte) { got = append(got, s...) })
		if !bytes.Equal(got, data) {
			t.Fatalf("round %d: got %d bytes", round, len(got))
		}
	}
}

func TestUserRingBuf(t *testing.T) {
	mem := vm.NewMemory()
	rb := newMap(t, mem, Spec{Type: TypeUserRingBuf, MaxEntries: 4096}, 1).(*RingBuf)
	wantErr(t, "write", rb.Write([]byte("one")), nil)
	wantErr(t, "write discarded", rb.WriteDiscarded([]byte("skip")), nil)
	wantErr(t, "write", rb.Write([]byte("two!")), nil)
	wantErr(t, "write", rb.Write([]byte("three")), nil)
	wantErr(t, "too big", rb.Write(make([]byte, 4096)), syscall.E2BIG)
	if rb.Reserve(8) != 0 {
		t.Fatal("program reserve on a user ring buffer")
	}
	var got []string
	n, err := rb.Drain(0, func(d uint64) (uint64, error) {
		raw, err := mem.Slice(d, 16, false)
		if err != nil {
			return 0, err
		}
		data := binary.LittleEndian.Uint64(raw)
		sz := binary.LittleEndian.Uint32(raw[8:])
		if sz&DynptrRdonly == 0 || sz>>DynptrTypeShift&7 != DynptrTypeLocal {
			t.Fatalf("dynptr size word %#x", sz)
		}
		s, err := mem.Slice(data, int(sz&DynptrSizeMask), false)
		if err != nil {
			return 0, err
		}
		got = append(got, string(s))
		return uint64(len(got) / 2), nil // stop after the second sample
	})
	if err != nil || n != 2 || len(got) != 2 || got[0] != "one" || got[1] != "two!" {
		t.Fatalf("drain n=%d got=%q err=%v", n, got, err)
	}
	n, _ = rb.Drain(0, func(uint64) (uint64, error) { return 0, nil })
	if n != 1 {
		t.Fatalf("second drain %d", n)
	}
	n, _ = rb.Drain(8, nil)
	if n != -int64(syscall.EINVAL) {
		t.Fatalf("bad flags: %d", n)
	}
	// Fill and wrap.
	for i := range 100 {
		s := bytes.Repeat([]byte{byte(i)}, 700)
		if err := rb.Write(s); err != nil {
			wantErr(t, "full", err, syscall.EAGAIN)
			rb.Drain(0, func(d uint64) (uint64, error) {
				raw, _ := mem.Slice(d, 16, false)
				b, err := mem.Slice(binary.LittleEndian.Uint64(raw), 700, false)
				if err != nil || b[699] != b[0] {
					t.Fatalf("wrapped sample corrupt: %v", err)
				}
				return 0, nil
			})
			wantErr(t, "write after drain", rb.Write(s), nil)
		}
	}
}

type fakeEvent struct{ out [][]byte }

func (f *fakeEvent) Read(cpu int) (uint64, uint64, uint64, error) {
	return uint64(cpu) + 100, 2, 1, nil
}
func (f *fakeEvent) Output(cpu int, d []byte) error {
	f.out = append(f.out, bytes.Clone(d))
	return nil
}

func TestPerfEventArray(t *testing.T) {
	m := newMap(t, vm.NewMemory(), Spec{Type: TypePerfEventArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, 2)
	p := m.(*PerfEventArray)
	ev := &fakeEvent{}
	wantErr(t, "set", p.SetEvent(1, ev), nil)
	wantErr(t, "set out of range", p.SetEvent(2, ev), syscall.E2BIG)
	if p.Event(1) != ev || p.Event(0) != nil || p.Event(5) != nil {
		t.Fatal("Event")
	}
	wantErr(t, "update fd", m.Update(u32(0), u32(3), Any), syscall.EBADF)
	wantErr(t, "update flags", m.Update(u32(0), u32(3), NoExist), syscall.EINVAL)
	wantErr(t, "delete empty", m.Delete(u32(0)), syscall.ENOENT)
	wantErr(t, "delete", m.Delete(u32(1)), nil)
	wantErr(t, "delete range", m.Delete(u32(2)), syscall.E2BIG)
}

func TestMapOfMaps(t *testing.T) {
	mem := vm.NewMemory()
	tmpl := &Spec{Type: TypeHash, KeySize: 4, ValueSize: 8, MaxEntries: 16}
	for _, typ := range []uint32{TypeArrayOfMaps, TypeHashOfMaps} {
		outer := newMap(t, mem, Spec{Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: tmpl}, 1)
		mm := outer.(*MapOfMaps)
		in1 := newMap(t, mem, *tmpl, 1)
		in2 := newMap(t, mem, *tmpl, 1)
		bad := newMap(t, mem, Spec{Type: TypeHash, KeySize: 4, ValueSize: 4, MaxEntries: 16}, 1)
		wantErr(t, "set", mm.SetInner(u32(0), in1, Any), nil)
		wantErr(t, "set mismatched", mm.SetInner(u32(1), bad, Any), syscall.EINVAL)
		wantErr(t, "update by id", outer.Update(u32(1), u32(in2.ID()), Any), nil)
		wantErr(t, "update unknown id", outer.Update(u32(1), u32(9999), Any), syscall.EBADF)
		if in1.Refs() != 2 || in2.Refs() != 2 {
			t.Fatalf("inner refs %d %d", in1.Refs(), in2.Refs())
		}
		if outer.LookupElem(0, u32(0)) != in1.Addr() || outer.LookupElem(0, u32(1)) != in2.Addr() {
			t.Fatal("program lookup must return the inner map address")
		}
		id := make([]byte, 4)
		wantErr(t, "lookup", outer.Lookup(u32(1), id, 0), nil)
		if binary.LittleEndian.Uint32(id) != in2.ID() {
			t.Fatal("user lookup must return the inner id")
		}
		if typ == TypeArrayOfMaps {
			wantErr(t, "set out of range", mm.SetInner(u32(2), in1, Any), syscall.E2BIG)
			wantErr(t, "set flags", mm.SetInner(u32(0), in1, Exist), syscall.EINVAL)
		} else {
			wantErr(t, "set noexist", mm.SetInner(u32(0), in2, NoExist), syscall.EEXIST)
			wantErr(t, "set full", mm.SetInner(u32(7), in2, Any), syscall.E2BIG)
			next := make([]byte, 4)
			wantErr(t, "next", outer.NextKey(nil, next), nil)
			if next[0] != 0 {
				t.Fatal("first key")
			}
		}
		// Replacing drops the old inner map's reference.
		wantErr(t, "replace", mm.SetInner(u32(0), in2, Any), nil)
		if in1.Refs() != 1 || in2.Refs() != 3 {
			t.Fatalf("refs after replace %d %d", in1.Refs(), in2.Refs())
		}
		wantErr(t, "delete", outer.Delete(u32(0)), nil)
		wantErr(t, "delete again", outer.Delete(u32(0)), syscall.ENOENT)
		outer.Put()
		if in2.Refs() != 1 {
			t.Fatalf("outer release kept inner refs: %d", in2.Refs())
		}
		in1.Put()
		in2.Put()
		bad.Put()
	}
}
