package helpers

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// TestPercpuObj allocates per-CPU objects: every possible CPU gets its own
// zeroed copy, reached through bpf_per_cpu_ptr()/bpf_this_cpu_ptr(), and
// dropping frees them all.
func TestPercpuObj(t *testing.T) {
	const ncpu = 3
	v := newEnv(t, ncpu)
	for _, size := range []uint64{4, 12, 512} {
		p := v.kcall(0, "bpf_percpu_obj_new_impl", size, 0)
		if p == 0 {
			t.Fatalf("size %d: NULL", size)
		}
		var copies []uint64
		for cpu := range ncpu {
			a := v.call(0, FuncPerCPUPtr, p, uint64(cpu))
			if this := v.call(cpu, FuncThisCPUPtr, p); this != a {
				t.Errorf("size %d cpu %d: this_cpu_ptr %#x, per_cpu_ptr %#x", size, cpu, this, a)
			}
			b, err := v.mem.Slice(a, int(size), true)
			if err != nil {
				t.Fatalf("size %d cpu %d: copy at %#x: %v", size, cpu, a, err)
			}
			for i := range b {
				if b[i] != 0 {
					t.Fatalf("size %d cpu %d: copy not zeroed", size, cpu)
				}
				b[i] = byte(cpu + 1)
			}
			copies = append(copies, a)
		}
		// Writing one CPU's copy left the others alone.
		for cpu, a := range copies {
			b, _ := v.mem.Slice(a, int(size), false)
			for i := range b {
				if b[i] != byte(cpu+1) {
					t.Fatalf("size %d: cpu %d's copy overwritten by another CPU's", size, cpu)
				}
			}
		}
		if v.call(0, FuncPerCPUPtr, p, ncpu) != 0 {
			t.Errorf("size %d: per_cpu_ptr past nr_cpu_ids not NULL", size)
		}
		v.kcall(0, "bpf_percpu_obj_drop_impl", p, 0)
		if v.k.RT.Objects() != 0 {
			t.Fatalf("size %d: %d objects after drop", size, v.k.RT.Objects())
		}
	}
	if v.kcall(0, "bpf_percpu_obj_new_impl", 0, 0) != 0 {
		t.Error("zero-sized per-CPU object")
	}
	if err := v.runErr(v.kcallProg("bpf_percpu_obj_new_impl"), 0, 513, 0); err == nil {
		t.Error("a 513-byte per-CPU object did not stop the program")
	}
	// The two allocators do not mix.
	plain := v.kcall(0, "bpf_obj_new_impl", 8, 0)
	pc := v.kcall(0, "bpf_percpu_obj_new_impl", 8, 0)
	if err := v.runErr(v.kcallProg("bpf_percpu_obj_drop_impl"), 0, plain, 0); err == nil {
		t.Error("percpu_obj_drop of a bpf_obj_new object did not stop the program")
	}
	if err := v.runErr(v.kcallProg("bpf_obj_drop_impl"), 0, pc, 0); err == nil {
		t.Error("obj_drop of a per-CPU object did not stop the program")
	}
	// A __percpu_kptr left in a map value is freed with it.
	slot, sb := v.buf(8)
	binary.LittleEndian.PutUint64(sb, pc)
	v.k.RT.FreeField(nil, maps.Field{Kind: maps.FieldKptrPercpu, Size: 8, Target: &btf.Struct{Name: "val"}}, slot)
	if v.k.RT.Objects() != 1 {
		t.Errorf("%d objects after freeing the per-CPU kptr field, want the plain one", v.k.RT.Objects())
	}
}

// TestRefcountAcquire follows a refcounted object (ObjSize and
// ObjRefcountOff set, as the BPF adapter does): bpf_obj_new starts the
// count at one, each bpf_refcount_acquire adds one, the object is freed
// with its last bpf_obj_drop, and a map's referenced kptr holds one too.
func TestRefcountAcquire(t *testing.T) {
	v := newEnv(t, 1)
	const node, plain = 3, 4 // local type ids
	v.k.RT.ObjSize = func(p *vm.Program, id uint32) (uint32, bool) { return 24, id == node || id == plain }
	v.k.RT.ObjRefcountOff = func(p *vm.Program, id uint32) int {
		if id == node {
			return 8
		}
		return -1
	}
	count := func(a uint64) int32 {
		b, err := v.mem.Slice(a+8, 4, false)
		if err != nil {
			t.Fatalf("refcount of %#x: %v", a, err)
		}
		return int32(binary.LittleEndian.Uint32(b))
	}
	n := v.kcall(0, "bpf_obj_new_impl", node, 0)
	if n == 0 || count(n) != 1 {
		t.Fatalf("new: %#x, refcount %d", n, count(n))
	}
	for want := int32(2); want <= 3; want++ {
		if r := v.kcall(0, "bpf_refcount_acquire_impl", n, 0); r != n || count(n) != want {
			t.Fatalf("acquire: %#x refcount %d, want %#x and %d", r, count(n), n, want)
		}
	}
	v.kcall(0, "bpf_obj_drop_impl", n, 0)
	v.kcall(0, "bpf_obj_drop_impl", n, 0)
	if v.k.RT.Objects() != 1 || count(n) != 1 {
		t.Fatalf("after two drops: %d objects, refcount %d", v.k.RT.Objects(), count(n))
	}
	// The last reference lives in a map value's kptr field.
	slot, sb := v.buf(8)
	binary.LittleEndian.PutUint64(sb, n)
	v.k.RT.FreeField(nil, maps.Field{Kind: maps.FieldKptrRef, Size: 8, Target: &btf.Struct{Name: "node"}}, slot)
	if v.k.RT.Objects() != 0 {
		t.Fatalf("%d objects after the last reference went", v.k.RT.Objects())
	}
	// A count already at zero gives NULL.
	n = v.kcall(0, "bpf_obj_new_impl", node, 0)
	b, _ := v.mem.Slice(n+8, 4, true)
	binary.LittleEndian.PutUint32(b, 0)
	if r := v.kcall(0, "bpf_refcount_acquire_impl", n, 0); r != 0 {
		t.Errorf("acquire at zero: %#x, want NULL", r)
	}
	// Objects without a bpf_refcount, and non-objects, are refused.
	p := v.kcall(0, "bpf_obj_new_impl", plain, 0)
	for _, a := range []uint64{p, 0x1234} {
		if err := v.runErr(v.kcallProg("bpf_refcount_acquire_impl"), 0, a, 0); err == nil {
			t.Errorf("acquire of %#x did not stop the program", a)
		}
	}
	v.kcall(0, "bpf_obj_drop_impl", p, 0)
	if v.k.RT.Objects() != 1 {
		t.Errorf("%d objects, want the one at refcount zero", v.k.RT.Objects())
	}
}

// TestTaskUnderCgroup checks bpf_task_under_cgroup() against a task's
// cgroup ancestry.
func TestTaskUnderCgroup(t *testing.T) {
	v := newEnv(t, 1)
	root := v.k.NewCgroup(1, 0)
	a := v.k.NewCgroup(2, root)
	a1 := v.k.NewCgroup(3, a)
	b := v.k.NewCgroup(4, root)
	task := v.k.NewTask(10, "t")
	v.k.Tasks[task].Cgroup = a1
	tests := []struct {
		cgrp uint64
		want uint64
	}{{a1, 1}, {a, 1}, {root, 1}, {b, 0}}
	for _, tc := range tests {
		if got := v.kcall(0, "bpf_task_under_cgroup", task, tc.cgrp); got != tc.want {
			t.Errorf("under cgroup %#x: %d, want %d", tc.cgrp, got, tc.want)
		}
	}
	v.k.Tasks[task].Cgroup = b
	if got := v.kcall(0, "bpf_task_under_cgroup", task, a); got != 0 {
		t.Errorf("after the move, under the old parent: %d", got)
	}
	if got := v.kcall(0, "bpf_task_under_cgroup", task, b); got != 1 {
		t.Errorf("after the move, under the new cgroup: %d", got)
	}
	for _, args := range [][2]uint64{{0, a}, {task, 0}, {0x1234, a}} {
		if err := v.runErr(v.kcallProg("bpf_task_under_cgroup"), 0, args[0], args[1]); err == nil {
			t.Errorf("bpf_task_under_cgroup(%#x, %#x) did not stop the program", args[0], args[1])
		}
	}
}
