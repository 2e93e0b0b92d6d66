package maps

import (
	"slices"
	"syscall"

	"github.com/scxsim/scxsim/bpf/maps/slab"
	"github.com/scxsim/scxsim/bpf/vm"
)

// LocalStorage is BPF_MAP_TYPE_TASK_STORAGE and BPF_MAP_TYPE_CGRP_STORAGE:
// one value per owner object (a task_struct or cgroup), keyed here by the
// owner's VM address, which is what programs pass to
// bpf_task_storage_get() / bpf_cgrp_storage_get(). Mirrors
// bpf_local_storage.c. Values are slab slots, stable while they live.
//
// User space addresses the kernel's storage by pidfd or cgroup fd; scxsim
// has no file descriptors, so the Go API takes the owner address instead
// (OwnerLookup, OwnerUpdate, OwnerDelete) and the fd-keyed syscall forms
// answer EBADF.
type LocalStorage struct {
	*Base
	slab   *slab.Slab
	owners map[uint64]int32
}

const localStorageCreateMask = FlagNoPrealloc | FlagClone

func newLocalStorage(mem *vm.Memory, spec *Spec, ncpu int) (Map, error) {
	// bpf_local_storage_map_alloc_check()
	if spec.Flags&^localStorageCreateMask != 0 || spec.Flags&FlagNoPrealloc == 0 || spec.MaxEntries != 0 ||
		spec.KeySize != 4 || spec.ValueSize == 0 {
		return nil, syscall.EINVAL
	}
	if spec.ValueSize > LocalStorageMaxValueSize {
		return nil, syscall.E2BIG
	}
	s := &LocalStorage{Base: &Base{}, owners: map[uint64]int32{}}
	if err := s.prepare(spec); err != nil {
		return nil, err
	}
	s.init(mem, spec, s, ncpu)
	s.slab = slab.New(mem, "map "+spec.Name+" storage", int(spec.ValueSize), 0, vm.PermRW)
	s.reg.storages = append(s.reg.storages, s)
	s.onRelease = s.release
	return s, nil
}

func (s *LocalStorage) release() {
	for _, o := range s.Owners() {
		s.drop(o)
	}
	s.slab.Release()
	i := slices.Index(s.reg.storages, s)
	if i >= 0 {
		s.reg.storages = slices.Delete(s.reg.storages, i, i+1)
	}
}

// Len is the number of owners with storage in this map.
func (s *LocalStorage) Len() int { return len(s.owners) }

// Owners returns the owners holding storage, sorted by address.
func (s *LocalStorage) Owners() []uint64 {
	out := make([]uint64, 0, len(s.owners))
	for o := range s.owners {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// ValueAddr returns the VM address of owner's value, 0 if it has none.
func (s *LocalStorage) ValueAddr(owner uint64) uint64 {
	if idx, ok := s.owners[owner]; ok {
		return s.slab.Addr(idx)
	}
	return 0
}

// Value returns the bytes of owner's value, nil if it has none.
func (s *LocalStorage) Value(owner uint64) []byte {
	if idx, ok := s.owners[owner]; ok {
		return s.slab.Bytes(idx)[:s.spec.ValueSize]
	}
	return nil
}

// update mirrors bpf_local_storage_update(): it creates or replaces
// owner's value according to flags (BPF_ANY/NOEXIST/EXIST, BPF_F_LOCK). A
// nil value creates a zeroed value. It returns the value's address.
func (s *LocalStorage) update(owner uint64, value []byte, flags uint64) (uint64, error) {
	if flags&^Lock > Exist || flags&Lock != 0 && !s.HasField(FieldSpinLock) {
		return 0, syscall.EINVAL
	}
	if value != nil && len(value) < int(s.spec.ValueSize) {
		return 0, syscall.EINVAL
	}
	idx, ok := s.owners[owner]
	if err := checkFlags(ok, flags); err != nil {
		return 0, err
	}
	if ok {
		v := s.slab.Bytes(idx)[:s.spec.ValueSize]
		if value != nil {
			s.copyValue(v, value)
		} else {
			clear(v)
		}
		if flags&Lock == 0 {
			// A replacing update frees the old element's fields.
			s.freeFields(v, s.slab.Addr(idx))
		}
		return s.slab.Addr(idx), nil
	}
	idx, ok = s.slab.Alloc()
	if !ok {
		return 0, syscall.ENOMEM
	}
	if value != nil {
		s.copyValue(s.slab.Bytes(idx), value)
	}
	s.owners[owner] = idx
	return s.slab.Addr(idx), nil
}

// Create is the allocation path of bpf_task_storage_get() with
// BPF_LOCAL_STORAGE_GET_F_CREATE: it adds owner's value (initialized from
// value, zero if nil) with BPF_NOEXIST semantics.
func (s *LocalStorage) Create(owner uint64, value []byte) (uint64, error) {
	return s.update(owner, value, NoExist)
}

// OwnerLookup copies owner's value out (ENOENT if none).
func (s *LocalStorage) OwnerLookup(owner uint64, value []byte, flags uint64) error {
	if err := s.sysRead(flags); err != nil {
		return err
	}
	idx, ok := s.owners[owner]
	if !ok {
		return syscall.ENOENT
	}
	if len(value) < int(s.spec.ValueSize) {
		return syscall.EINVAL
	}
	s.copyOut(value, s.slab.Bytes(idx))
	return nil
}

// OwnerUpdate stores owner's value from user space.
func (s *LocalStorage) OwnerUpdate(owner uint64, value []byte, flags uint64) error {
	if err := s.sysWrite(flags); err != nil {
		return err
	}
	if value == nil {
		return syscall.EINVAL
	}
	_, err := s.update(owner, value, flags)
	return err
}

// OwnerDelete mirrors task_storage_delete(): ENOENT if owner has no value.
func (s *LocalStorage) OwnerDelete(owner uint64) error {
	if _, ok := s.owners[owner]; !ok {
		return syscall.ENOENT
	}
	s.drop(owner)
	return nil
}

func (s *LocalStorage) drop(owner uint64) {
	idx, ok := s.owners[owner]
	if !ok {
		return
	}
	s.freeFields(s.slab.Bytes(idx), s.slab.Addr(idx))
	delete(s.owners, owner)
	s.slab.Free(idx)
}

// Lookup, Update and Delete take a pidfd/cgroup fd key, which scxsim does
// not have: EBADF.
func (s *LocalStorage) Lookup(key, value []byte, flags uint64) error {
	if err := s.sysRead(flags); err != nil {
		return err
	}
	return syscall.EBADF
}

// Update answers EBADF (see Lookup).
func (s *LocalStorage) Update(key, value []byte, flags uint64) error {
	if err := s.sysWrite(flags); err != nil {
		return err
	}
	return syscall.EBADF
}

// Delete answers EBADF (see Lookup).
func (s *LocalStorage) Delete(key []byte) error {
	if err := s.sysWrite(0); err != nil {
		return err
	}
	return syscall.EBADF
}

// DropOwner frees every value owner has in the local storage maps of type
// typ (TypeTaskStorage or TypeCgrpStorage) of the registry, as
// bpf_task_storage_free() does when a task is freed and
// bpf_cgrp_storage_free() when a cgroup is.
func (r *Registry) DropOwner(typ uint32, owner uint64) {
	for _, s := range r.storages {
		if s.spec.Type == typ {
			s.drop(owner)
		}
	}
}
