package helpers

import (
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

func storageMap(e *vm.Exec, name string, addr uint64, typ uint32) (Kernel, *maps.LocalStorage, error) {
	k, rt, err := kernelOf(e)
	if err != nil {
		return nil, nil, err
	}
	m, err := rt.mapAt(name, addr)
	if err != nil {
		return nil, nil, err
	}
	s, ok := m.(*maps.LocalStorage)
	if !ok || m.Spec().Type != typ {
		return nil, nil, fmt.Errorf("%s: map %s has the wrong type", name, m.Spec().Name)
	}
	return k, s, nil
}

// storageGet is the common part of bpf_task_storage_get and
// bpf_cgrp_storage_get(map, owner, value, flags): the owner's value, or
// with BPF_LOCAL_STORAGE_GET_F_CREATE a new one initialized from value
// (zeroed if value is NULL) when the owner can still take storage.
func storageGet(e *vm.Exec, name string, s *maps.LocalStorage, owner, value, flags uint64, alive func() bool) (uint64, error) {
	if flags&^maps.LocalStorageCreate != 0 || owner == 0 {
		return 0, nil
	}
	if a := s.ValueAddr(owner); a != 0 {
		return a, nil
	}
	if flags&maps.LocalStorageCreate == 0 || !alive() {
		return 0, nil
	}
	var init []byte
	if value != 0 {
		var err error
		if init, err = mem(e, name, value, int(s.Spec().ValueSize), false); err != nil {
			return 0, err
		}
	}
	a, err := s.Create(owner, init)
	if err != nil {
		return 0, nil
	}
	return a, nil
}

// Mirrors bpf_task_storage_get(map, task, value, flags).
func taskStorageGet(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	const name = "bpf_task_storage_get"
	k, s, err := storageMap(e, name, r1, maps.TypeTaskStorage)
	if err != nil {
		return 0, err
	}
	return storageGet(e, name, s, r2, r3, r4, func() bool {
		t, ok := k.Task(r2)
		return ok && t.Alive
	})
}

// Mirrors bpf_task_storage_delete(map, task): -EINVAL for NULL, -ENOENT
// when the task has no storage in map.
func taskStorageDelete(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	_, s, err := storageMap(e, "bpf_task_storage_delete", r1, maps.TypeTaskStorage)
	if err != nil {
		return 0, err
	}
	if r2 == 0 {
		return neg(syscall.EINVAL), nil
	}
	return errno(s.OwnerDelete(r2)), nil
}

// Mirrors bpf_cgrp_storage_get(map, cgroup, value, flags).
func cgrpStorageGet(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	const name = "bpf_cgrp_storage_get"
	k, s, err := storageMap(e, name, r1, maps.TypeCgrpStorage)
	if err != nil {
		return 0, err
	}
	return storageGet(e, name, s, r2, r3, r4, func() bool { return k.CgroupAlive(r2) })
}

// Mirrors bpf_cgrp_storage_delete(map, cgroup).
func cgrpStorageDelete(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	_, s, err := storageMap(e, "bpf_cgrp_storage_delete", r1, maps.TypeCgrpStorage)
	if err != nil {
		return 0, err
	}
	if r2 == 0 {
		return neg(syscall.EINVAL), nil
	}
	return errno(s.OwnerDelete(r2)), nil
}
