package helpers

import (
	"encoding/binary"
	"fmt"

	"github.com/scxsim/scxsim/bpf/vm"
)

// bpf_obj_new_impl(local_type_id__k, meta__ign) returns a zeroed object,
// NULL if it cannot be allocated. The kernel's verifier rewrites the call
// so that r1 holds the object's size (fixup_kfunc_call() loads
// obj_new_size into R1) and r2 its btf_struct_meta: with Runtime.ObjSize
// unset, r1 is taken as that size (the loader rewrote the call); with it
// set, r1 is the program-local BTF type id, ObjSize gives the size and
// ObjRefcountOff the struct bpf_refcount, which starts at one
// (bpf_obj_init()).
func objNew(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	size, refOff, err := rt.objLayout(e, "bpf_obj_new_impl", r1)
	if err != nil {
		return 0, err
	}
	if size > 1<<30 {
		return 0, nil
	}
	a := rt.objAlloc(uint32(size))
	if a == 0 || refOff < 0 {
		return a, nil
	}
	if uint64(refOff)+4 > size {
		rt.objFree(a)
		return 0, fmt.Errorf("bpf_obj_new_impl: bpf_refcount at offset %d outside the %d-byte object", refOff, size)
	}
	o := rt.objs[a]
	o.refOff = int32(refOff)
	rt.objs[a] = o
	if b, err := rt.Mem.Slice(a+uint64(refOff), 4, true); err == nil {
		binary.LittleEndian.PutUint32(b, 1)
	}
	return a, nil
}

// objLayout is the size and bpf_refcount offset (-1: none) of the object
// bpf_obj_new_impl or bpf_percpu_obj_new_impl allocates for r1.
func (rt *Runtime) objLayout(e *vm.Exec, name string, r1 uint64) (uint64, int, error) {
	if rt.ObjSize == nil {
		return r1, -1, nil
	}
	n, ok := rt.ObjSize(e.Prog(), uint32(r1))
	if !ok {
		return 0, -1, fmt.Errorf("%s: unknown local type id %d", name, r1)
	}
	refOff := -1
	if rt.ObjRefcountOff != nil {
		refOff = rt.ObjRefcountOff(e.Prog(), uint32(r1))
	}
	return uint64(n), refOff, nil
}

// Mirrors bpf_obj_drop_impl(p__alloc, meta__ign): a refcounted object is
// freed when its last reference goes (__bpf_obj_drop_impl()).
func objDrop(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if _, ok := rt.objs[r1]; !ok || rt.isPercpu(r1) {
		return 0, fmt.Errorf("bpf_obj_drop_impl: %#x is not an allocated object", r1)
	}
	rt.objDropRef(r1)
	return 0, nil
}

// Mirrors bpf_task_acquire(p): p with a new reference, NULL if its usage
// count already reached zero.
func taskAcquire(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if r1 == 0 || !k.TaskAcquire(r1) {
		return 0, nil
	}
	return r1, nil
}

func taskRelease(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if r1 != 0 {
		k.TaskRelease(r1)
	}
	return 0, nil
}

// Mirrors bpf_task_from_pid(pid).
func taskFromPid(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	return k.TaskFromPid(int32(r1)), nil
}

// Mirrors bpf_cgroup_acquire(cgrp): NULL if the cgroup is dying.
func cgroupAcquire(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if r1 == 0 || !k.CgroupAcquire(r1) {
		return 0, nil
	}
	return r1, nil
}

func cgroupRelease(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if r1 != 0 {
		k.CgroupRelease(r1)
	}
	return 0, nil
}

// Mirrors bpf_cgroup_from_id(cgid).
func cgroupFromID(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	return k.CgroupFromID(r1), nil
}

// Mirrors bpf_cgroup_ancestor(cgrp, level).
func cgroupAncestor(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if r1 == 0 || int32(r2) < 0 {
		return 0, nil
	}
	return k.CgroupAncestor(r1, int32(r2)), nil
}
