package helpers

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/maps"
)

func TestRingbufHelpers(t *testing.T) {
	v := newEnv(t, 1)
	m := v.newMap(maps.Spec{Name: "rb", Type: maps.TypeRingBuf, MaxEntries: 4096})
	rb := m.(*maps.RingBuf)
	// reserve(size) -> write size-byte pattern, submit or discard by r2.
	p := v.load("rb", fmt.Sprintf(`
		mov %%r7, %%r2
		mov %%r2, %%r1
		lddw %%r1, %#x
		mov %%r3, 0
		call 131
		jeq %%r0, 0, none
		stdw [%%r0], 0x41424344
		mov %%r1, %%r0
		mov %%r2, 0
		jeq %%r7, 1, discard
		call 132
		mov %%r0, 1
		exit
	discard:
		call 133
		mov %%r0, 2
		exit
	none:
		mov %%r0, 0
		exit`, m.Addr()))
	if got := v.run(p, 0, 8, 0); got != 1 {
		t.Fatalf("reserve+submit %d", got)
	}
	if got := v.run(p, 0, 8, 1); got != 2 {
		t.Fatalf("reserve+discard %d", got)
	}
	if got := v.run(p, 0, 5000, 0); got != 0 {
		t.Fatal("oversized reserve succeeded")
	}
	data, db := v.buf(4)
	copy(db, "out!")
	if r := v.call(0, FuncRingbufOutput, m.Addr(), data, 4, 0); r != 0 {
		t.Fatalf("output %d", int64(r))
	}
	if r := v.call(0, FuncRingbufOutput, m.Addr(), data, 4, 8); r != e(syscall.EINVAL) {
		t.Fatalf("output bad flags %d", int64(r))
	}
	if r := v.call(0, FuncRingbufReserve, m.Addr(), 8, 1); r != 0 {
		t.Fatal("reserve with flags")
	}
	if r := v.call(0, FuncRingbufQuery, m.Addr(), maps.RingAvailData); r != 16+16+16 {
		t.Fatalf("avail %d", r)
	}
	var got []string
	rb.Consume(func(s []byte) { got = append(got, string(s)) })
	if len(got) != 2 || got[0] != "DCBA\x00\x00\x00\x00" || got[1] != "out!" {
		t.Fatalf("consumed %q", got)
	}
	if err := v.callErr(0, FuncRingbufSubmit, data, 0); err == nil {
		t.Fatal("submit of a non-sample did not stop the program")
	}
	// Dynptr reserve/submit.
	dp, _ := v.buf(16)
	if r := v.call(0, FuncRingbufReserveDynptr, m.Addr(), 6, 0, dp); r != 0 {
		t.Fatalf("reserve_dynptr %d", int64(r))
	}
	src, sb := v.buf(8)
	copy(sb, "dynptr")
	if r := v.call(0, FuncDynptrWrite, dp, 0, src, 6, 0); r != 0 {
		t.Fatalf("dynptr_write %d", int64(r))
	}
	if r := v.call(0, FuncDynptrWrite, dp, 2, src, 6, 0); r != e(syscall.E2BIG) {
		t.Fatalf("dynptr_write past end %d", int64(r))
	}
	if a := v.call(0, FuncDynptrData, dp, 1, 4); a == 0 {
		t.Fatal("dynptr_data of a ringbuf dynptr")
	}
	v.call(0, FuncRingbufSubmitDynptr, dp, 0)
	got = nil
	rb.Consume(func(s []byte) { got = append(got, string(s)) })
	if len(got) != 1 || got[0] != "dynptr" {
		t.Fatalf("dynptr record %q", got)
	}
	if r := v.call(0, FuncRingbufReserveDynptr, m.Addr(), 6, 1, dp); r != e(syscall.EINVAL) {
		t.Fatalf("reserve_dynptr flags %d", int64(r))
	}
	if r := v.call(0, FuncRingbufReserveDynptr, m.Addr(), 5000, 0, dp); r != e(syscall.EAGAIN) {
		t.Fatalf("reserve_dynptr too big %d", int64(r))
	}
}

func TestUserRingbufDrain(t *testing.T) {
	v := newEnv(t, 1)
	m := v.newMap(maps.Spec{Name: "urb", Type: maps.TypeUserRingBuf, MaxEntries: 4096})
	rb := m.(*maps.RingBuf)
	ctx, cb := v.buf(16)
	// The callback reads the first 4 bytes of each sample with
	// bpf_dynptr_read and adds them to ctx[0]; it stops on the value 99.
	p := v.load("drain", fmt.Sprintf(`
		mov %%r4, %%r1
		lddw %%r1, %#x
		lddw %%r2, CB(0)
		lddw %%r3, %#x
		call 209
		exit`, m.Addr(), ctx), `
		mov %r6, %r2
		mov %r3, %r1
		mov %r1, %r10
		add %r1, -8
		stdw [%r10-8], 0
		mov %r2, 4
		mov %r4, 0
		mov %r5, 0
		call 201
		jne %r0, 0, bad
		ldxw %r1, [%r10-8]
		ldxdw %r2, [%r6]
		add %r2, %r1
		stxdw [%r6], %r2
		mov %r0, 0
		jne %r1, 99, +1
		mov %r0, 1
		exit
	bad:
		stdw [%r6+8], 1
		mov %r0, 1
		exit`)
	for _, x := range []uint32{1, 2, 99, 4} {
		s := make([]byte, 4)
		binary.LittleEndian.PutUint32(s, x)
		if err := rb.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	rb.WriteDiscarded([]byte("gone"))
	if n := v.run(p, 0, 0); n != 3 || binary.LittleEndian.Uint64(cb) != 102 || cb[8] != 0 {
		t.Fatalf("drain %d sum %d bad %d", n, binary.LittleEndian.Uint64(cb), cb[8])
	}
	if n := v.run(p, 0, 0); n != 1 || binary.LittleEndian.Uint64(cb) != 106 {
		t.Fatalf("second drain %d sum %d", n, binary.LittleEndian.Uint64(cb))
	}
	if n := v.run(p, 0, 0); n != 0 {
		t.Fatalf("empty drain %d", n)
	}
	if n := v.run(p, 0, 4); n != e(syscall.EINVAL) {
		t.Fatalf("drain flags %d", int64(n))
	}
}

func TestDynptrFromMem(t *testing.T) {
	v := newEnv(t, 1)
	data, db := v.buf(8)
	copy(db, "abcdefgh")
	dp, _ := v.buf(16)
	dst, ob := v.buf(8)
	if r := v.call(0, FuncDynptrFromMem, data, 8, 0, dp); r != 0 {
		t.Fatal(r)
	}
	cases := []struct {
		n, off, flags uint64
		want          uint64
		out           string
	}{
		{3, 2, 0, 0, "cde"}, {8, 0, 0, 0, "abcdefgh"}, {4, 5, 0, e(syscall.E2BIG), ""}, {1, 0, 1, e(syscall.EINVAL), ""},
	}
	for _, c := range cases {
		clear(ob)
		if r := v.call(0, FuncDynptrRead, dst, c.n, dp, c.off, c.flags); r != c.want || string(ob[:len(c.out)]) != c.out {
			t.Fatalf("dynptr_read(%d@%d) = %d %q", c.n, c.off, int64(r), ob)
		}
	}
	if r := v.call(0, FuncDynptrFromMem, data, 8, 1, dp); r != e(syscall.EINVAL) {
		t.Fatal("from_mem flags")
	}
	// A failed from_mem leaves a NULL dynptr: reads fail with -EINVAL.
	if r := v.call(0, FuncDynptrRead, dst, 1, dp, 0, 0); r != e(syscall.EINVAL) {
		t.Fatalf("read of a NULL dynptr %d", int64(r))
	}
}

type countEvent struct {
	outs [][]byte
	cpus []int
}

func (c *countEvent) Read(cpu int) (uint64, uint64, uint64, error) {
	return 1000 + uint64(cpu), 20, 10, nil
}

func (c *countEvent) Output(cpu int, d []byte) error {
	c.outs = append(c.outs, append([]byte(nil), d...))
	c.cpus = append(c.cpus, cpu)
	return nil
}

func TestPerfEventHelpers(t *testing.T) {
	v := newEnv(t, 2)
	m := v.newMap(maps.Spec{Type: maps.TypePerfEventArray, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	pa := m.(*maps.PerfEventArray)
	ev := &countEvent{}
	pa.SetEvent(1, ev)
	data, db := v.buf(4)
	copy(db, "perf")
	cur := uint64(0xffffffff)
	cases := []struct {
		cpu   int
		flags uint64
		want  uint64
	}{
		{1, cur, 0}, {0, 1, 0}, {0, cur, e(syscall.ENOENT)}, {0, 2, e(syscall.E2BIG)}, {0, 1 << 60, e(syscall.EINVAL)},
	}
	for _, c := range cases {
		if r := v.call(c.cpu, FuncPerfEventOutput, 0, m.Addr(), c.flags, data, 4); r != c.want {
			t.Fatalf("output cpu %d flags %#x: %d", c.cpu, c.flags, int64(r))
		}
	}
	if len(ev.outs) != 2 || string(ev.outs[0]) != "perf" || ev.cpus[0] != 1 {
		t.Fatalf("outputs %q %v", ev.outs, ev.cpus)
	}
	buf, bb := v.buf(24)
	if r := v.call(1, FuncPerfEventReadValue, m.Addr(), cur, buf, 24); r != 0 ||
		binary.LittleEndian.Uint64(bb) != 1001 || binary.LittleEndian.Uint64(bb[8:]) != 20 {
		t.Fatalf("read_value %d %v", int64(r), bb)
	}
	for i := range bb {
		bb[i] = 0xff
	}
	if r := v.call(0, FuncPerfEventReadValue, m.Addr(), 0, buf, 24); r != e(syscall.ENOENT) || bb[0] != 0 || bb[23] != 0 {
		t.Fatalf("read_value of an empty slot %d %v", int64(r), bb)
	}
	if r := v.call(0, FuncPerfEventReadValue, m.Addr(), 1, buf, 16); r != e(syscall.EINVAL) {
		t.Fatalf("read_value bad size %d", int64(r))
	}
	if r := v.call(0, FuncPerfEventRead, m.Addr(), 1); r != 1000 {
		t.Fatalf("perf_event_read %d", r)
	}
}
