package helpers

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/maps"
)

// timerValue is struct { u64 counter; struct bpf_timer t; }.
func timerValue() btf.Type {
	u := &btf.Int{Name: "unsigned long long", Size: 8}
	tm := &btf.Struct{Name: "bpf_timer", Size: 16, Members: []btf.Member{{Name: "a", Type: u}, {Name: "b", Type: u, Offset: 64}}}
	return &btf.Struct{Name: "v", Size: 24, Members: []btf.Member{{Name: "counter", Type: u}, {Name: "t", Type: tm, Offset: 64}}}
}

// timerProg drives the timer of element 1 of m: run with r1 = op (1 init,
// 2 set_callback, 3 start in 100ns, 4 cancel, 5 init with a bad clock, 6
// start with bad flags). When the timer fires, the program's entry runs as
// the callback (r1 = map): it adds *key to the counter and re-arms the
// timer while the counter is below 3.
func timerProg(v *env, m maps.Map) string {
	return fmt.Sprintf(`
		mov %%r6, %%r1
		jgt %%r6, 15, callback
		stw [%%r10-4], 1
		lddw %%r1, %#[1]x
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jeq %%r0, 0, fail
		mov %%r1, %%r0
		add %%r1, 8
		jeq %%r6, 1, init
		jeq %%r6, 2, setcb
		jeq %%r6, 3, start
		jeq %%r6, 4, cancel
		jeq %%r6, 5, badclock
		jeq %%r6, 6, badflags
		ja fail
	init:
		lddw %%r2, %#[1]x
		mov %%r3, 1
		call 169
		exit
	badclock:
		lddw %%r2, %#[1]x
		mov %%r3, 2
		call 169
		exit
	setcb:
		lddw %%r2, ENTRY
		call 170
		exit
	start:
		mov %%r2, 100
		mov %%r3, 0
		call 171
		exit
	badflags:
		mov %%r2, 100
		mov %%r3, 4
		call 171
		exit
	cancel:
		call 172
		exit
	callback:
		ldxdw %%r4, [%%r3]
		ldxw %%r5, [%%r2]
		add %%r4, %%r5
		stxdw [%%r3], %%r4
		mov %%r0, 0
		jge %%r4, 3, +5
		mov %%r1, %%r3
		add %%r1, 8
		mov %%r2, 100
		mov %%r3, 0
		call 171
		exit
	fail:
		mov %%r0, -1
		exit`, m.Addr())
}

func TestTimers(t *testing.T) {
	v := newEnv(t, 2)
	m := v.newMap(maps.Spec{Name: "timers", Type: maps.TypeArray, KeySize: 4, ValueSize: 24, MaxEntries: 2, Value: timerValue()})
	p := v.load("timer", timerProg(v, m))
	counter := func() uint64 {
		b, _ := v.mem.Slice(m.LookupElem(0, []byte{1, 0, 0, 0}), 8, false)
		return binary.LittleEndian.Uint64(b)
	}
	steps := []struct {
		name string
		op   uint64
		want uint64
	}{
		{"start before init", 3, e(syscall.EINVAL)},
		{"set_callback before init", 2, e(syscall.EINVAL)},
		{"cancel before init", 4, e(syscall.EINVAL)},
		{"init bad clock", 5, e(syscall.EINVAL)},
		{"init", 1, 0},
		{"init again", 1, e(syscall.EBUSY)},
		{"start without callback", 3, e(syscall.EINVAL)},
		{"set_callback", 2, 0},
		{"start bad flags", 6, e(syscall.EINVAL)},
		{"start", 3, 0},
	}
	for _, s := range steps {
		if got := v.run(p, 1, s.op); got != s.want {
			t.Fatalf("%s: %d, want %d", s.name, int64(got), int64(s.want))
		}
	}
	if len(v.k.Armed) != 1 {
		t.Fatalf("armed %v", v.k.Armed)
	}
	for _, at := range v.k.Armed {
		if at.Expires != 100 || at.CPU != 1 || at.Pinned {
			t.Fatalf("armed %+v", at)
		}
	}
	if err := v.k.Advance(v.exec(1), 250); err != nil {
		t.Fatal(err)
	}
	if c := counter(); c != 2 || len(v.k.Armed) != 1 {
		t.Fatalf("after 250ns: counter %d armed %v", c, v.k.Armed)
	}
	if got := v.run(p, 0, 4); got != 1 {
		t.Fatalf("cancel of an armed timer: %d", got)
	}
	if got := v.run(p, 0, 4); got != 0 {
		t.Fatalf("cancel of a disarmed timer: %d", got)
	}
	if got := v.run(p, 0, 3); got != e(syscall.EINVAL) {
		t.Fatalf("start after cancel dropped the callback: %d", int64(got))
	}
	v.k.Advance(v.exec(0), 1000)
	if counter() != 2 {
		t.Fatal("cancelled timer fired")
	}
	// Re-arm and let it run to completion (the callback stops at 3).
	v.run(p, 0, 2)
	v.run(p, 0, 3)
	v.k.Advance(v.exec(0), 1000)
	if c := counter(); c != 3 || len(v.k.Armed) != 0 {
		t.Fatalf("counter %d armed %v", c, v.k.Armed)
	}
	// Overwriting the element frees its timer, as the kernel's
	// bpf_obj_free_fields does.
	v.run(p, 0, 3)
	if v.k.RT.Timers() != 1 || len(v.k.Armed) != 1 {
		t.Fatal("timer not armed")
	}
	if err := m.Update([]byte{1, 0, 0, 0}, make([]byte, 24), 0); err != nil {
		t.Fatal(err)
	}
	if v.k.RT.Timers() != 0 || len(v.k.Armed) != 0 {
		t.Fatalf("timer survived the update: %d %v", v.k.RT.Timers(), v.k.Armed)
	}
	if got := v.run(p, 0, 1); got != 0 {
		t.Fatalf("init after free: %d", int64(got))
	}
	m.Put()
	if v.k.RT.Timers() != 0 {
		t.Fatal("timer survived the map")
	}
}

// mapsSpecWithKptr is an array whose value is
// struct { long x; struct bpf_cpumask __kptr *m; }.
func mapsSpecWithKptr() maps.Spec {
	l := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	cm := &btf.Struct{Name: "bpf_cpumask", Size: 16}
	p := &btf.Pointer{Target: &btf.TypeTag{Value: "kptr", Type: cm}}
	v := &btf.Struct{Name: "kv", Size: 16, Members: []btf.Member{{Name: "x", Type: l}, {Name: "m", Type: p, Offset: 64}}}
	return maps.Spec{Name: "kptrs", Type: maps.TypeArray, KeySize: 4, ValueSize: 16, MaxEntries: 1, Value: v}
}
