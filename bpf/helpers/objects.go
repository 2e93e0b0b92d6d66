package helpers

import (
	"fmt"

	"github.com/scxsim/scxsim/bpf/vm"
)

// bpf_obj_new_impl(local_type_id__k, meta__ign) returns a zeroed object,
// NULL if it cannot be allocated. The kernel's verifier rewrites the call
// so that r1 holds the object's size (fixup_kfunc_call() loads
// obj_new_size into R1): with Runtime.ObjSize unset, r1 is taken as that
// size (the loader rewrote the call); with it set, r1 is the program-local
// BTF type id and ObjSize gives the size.
func objNew(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	size := r1
	if rt.ObjSize != nil {
		n, ok := rt.ObjSize(e.Prog(), uint32(r1))
		if !ok {
			return 0, fmt.Errorf("bpf_obj_new_impl: unknown local type id %d", r1)
		}
		size = uint64(n)
	}
	if size > 1<<30 {
		return 0, nil
	}
	return rt.objAlloc(uint32(size)), nil
}

// bpf_obj_drop_impl(p__alloc, meta__ign) frees an object from bpf_obj_new.
func objDrop(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if !rt.objFree(r1) {
		return 0, fmt.Errorf("bpf_obj_drop_impl: %#x is not an allocated object", r1)
	}
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
