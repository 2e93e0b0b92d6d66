package maps

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// maxRegion bounds one value region (the VM addresses 4 GiB per region;
// scxsim refuses more than 1 GiB with ENOMEM to stay a reasonable process).
const maxRegion = 1 << 30

// Array is BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: max_entries
// preallocated values, one contiguous region (per CPU for the per-CPU type)
// indexed by a u32 key. Global data sections (.data, .bss, .rodata, ...) are
// arrays with one element.
type Array struct {
	*Base
	elem   uint32
	percpu bool
	data   [][]byte // per CPU (one entry if not per-CPU)
	ids    []vm.RegionID
	bases  []uint64
	keys   uint64 // region of the u32 keys 0..max-1, mapped on demand
	keysID vm.RegionID
}

const arrayCreateMask = FlagNumaNode | FlagMmapable | flagAccessMask | FlagPreserveElems | FlagInnerMap

// arrayAllocCheck mirrors array_map_alloc_check().
func arrayAllocCheck(s *Spec) error {
	percpu := s.Type == TypePercpuArray
	if s.MaxEntries == 0 || s.KeySize != 4 || s.ValueSize == 0 || s.Flags&^arrayCreateMask != 0 ||
		(percpu && s.Flags&FlagNumaNode != 0) {
		return syscall.EINVAL
	}
	if s.Type != TypeArray && s.Flags&(FlagMmapable|FlagInnerMap) != 0 {
		return syscall.EINVAL
	}
	if s.Type != TypePerfEventArray && s.Flags&FlagPreserveElems != 0 {
		return syscall.EINVAL
	}
	if s.ValueSize > kmallocMaxSize {
		return syscall.E2BIG
	}
	if percpu && round8(s.ValueSize) > pcpuMinUnitSize {
		return syscall.E2BIG
	}
	return nil
}

func progPerm(flags uint32) vm.Perm {
	switch {
	case flags&FlagRdonlyProg != 0:
		return vm.PermRead
	case flags&FlagWronlyProg != 0:
		return vm.PermWrite
	}
	return vm.PermRW
}

func newArray(mem *vm.Memory, spec *Spec, ncpu int) (Map, error) {
	if err := arrayAllocCheck(spec); err != nil {
		return nil, err
	}
	a := &Array{Base: &Base{}, elem: round8(spec.ValueSize), percpu: spec.Type == TypePercpuArray}
	if err := a.prepare(spec); err != nil {
		return nil, err
	}
	if uint64(spec.MaxEntries)*uint64(a.elem) > maxRegion {
		return nil, syscall.ENOMEM
	}
	n := 1
	if a.percpu {
		n = ncpu
	}
	a.init(mem, spec, a, ncpu)
	perm := progPerm(spec.Flags)
	for cpu := range n {
		d := make([]byte, int(spec.MaxEntries)*int(a.elem))
		name := "map " + spec.Name + " values"
		if a.percpu {
			name = fmt.Sprintf("map %s values cpu%d", spec.Name, cpu)
		}
		id, base := mem.Map(name, d, perm)
		a.data = append(a.data, d)
		a.ids = append(a.ids, id)
		a.bases = append(a.bases, base)
	}
	a.onRelease = a.release
	return a, nil
}

func (a *Array) release() {
	if a.hasFreeable() {
		for c, d := range a.data {
			for i := uint32(0); i < a.spec.MaxEntries; i++ {
				off := i * a.elem
				a.freeFields(d[off:off+a.elem], a.bases[c]+uint64(off))
			}
		}
	}
	for _, id := range a.ids {
		a.mem.Unmap(id)
	}
	if a.keys != 0 {
		a.mem.Unmap(a.keysID)
	}
	a.data = nil
}

func (a *Array) cpuIndex(cpu int) (int, bool) {
	if !a.percpu {
		return 0, true
	}
	return cpu, cpu >= 0 && cpu < len(a.data)
}

// Data is the value memory of cpu's copy (cpu is ignored unless per-CPU):
// max_entries values, each rounded up to 8 bytes. The loader uses it to
// initialize global data and the kernel layer to read globals.
func (a *Array) Data(cpu int) []byte {
	c, ok := a.cpuIndex(cpu)
	if !ok {
		return nil
	}
	return a.data[c]
}

// ValueAddr is the VM address of value index of cpu's copy, 0 if out of range.
func (a *Array) ValueAddr(cpu int, index uint32) uint64 {
	c, ok := a.cpuIndex(cpu)
	if !ok || index >= a.spec.MaxEntries {
		return 0
	}
	return a.bases[c] + uint64(index)*uint64(a.elem)
}

// DirectValueAddr mirrors array_map_direct_value_addr(): the address of
// byte off of the only value, for ld_imm64 BPF_PSEUDO_MAP_VALUE.
func (a *Array) DirectValueAddr(off uint32) (uint64, error) {
	if a.spec.MaxEntries != 1 || a.percpu {
		return 0, syscall.EOPNOTSUPP
	}
	if off >= a.spec.ValueSize {
		return 0, syscall.EINVAL
	}
	return a.bases[0] + uint64(off), nil
}

func (a *Array) index(key []byte) uint32 {
	if len(key) < 4 {
		return ^uint32(0)
	}
	return binary.LittleEndian.Uint32(key)
}

// LookupElem mirrors array_map_lookup_elem() (this CPU's copy if per-CPU).
func (a *Array) LookupElem(cpu int, key []byte) uint64 {
	return a.ValueAddr(cpu, a.index(key))
}

// LookupPercpuElem mirrors percpu_array_map_lookup_percpu_elem().
func (a *Array) LookupPercpuElem(key []byte, cpu int) uint64 {
	if !a.percpu {
		return 0
	}
	return a.ValueAddr(cpu, a.index(key))
}

// UpdateElem mirrors array_map_update_elem().
func (a *Array) UpdateElem(cpu int, key, value []byte, flags uint64) error {
	idx := a.index(key)
	if flags&^Lock > Exist {
		return syscall.EINVAL
	}
	if idx >= a.spec.MaxEntries {
		return syscall.E2BIG
	}
	if flags&NoExist != 0 {
		return syscall.EEXIST
	}
	if flags&Lock != 0 && !a.HasField(FieldSpinLock) {
		return syscall.EINVAL
	}
	c, ok := a.cpuIndex(cpu)
	if !ok {
		return syscall.EINVAL
	}
	off := idx * a.elem
	val := a.data[c][off : off+a.elem]
	a.copyValue(val, value)
	a.freeFields(val, a.bases[c]+uint64(off))
	return nil
}

// DeleteElem mirrors array_map_delete_elem(): array elements cannot be deleted.
func (a *Array) DeleteElem(key []byte) error { return syscall.EINVAL }

// Lookup copies a value out (all CPUs' copies for the per-CPU type).
func (a *Array) Lookup(key, value []byte, flags uint64) error {
	if err := a.sysRead(flags); err != nil {
		return err
	}
	if err := a.checkKV(key, value, ValueBufSize(a)); err != nil {
		return err
	}
	idx := a.index(key)
	if idx >= a.spec.MaxEntries {
		return syscall.ENOENT
	}
	off := idx * a.elem
	if !a.percpu {
		a.copyOut(value, a.data[0][off:off+a.elem])
		return nil
	}
	for c, d := range a.data {
		dst := value[c*int(a.elem) : (c+1)*int(a.elem)]
		copy(dst, d[off:off+a.elem])
		for _, f := range a.fields {
			clear(dst[f.Offset : f.Offset+f.Size])
		}
	}
	return nil
}

// Update stores a value (every CPU's copy for the per-CPU type, as
// bpf_percpu_array_update()).
func (a *Array) Update(key, value []byte, flags uint64) error {
	if err := a.sysWrite(flags); err != nil {
		return err
	}
	if err := a.checkKV(key, value, ValueBufSize(a)); err != nil {
		return err
	}
	if !a.percpu {
		return a.UpdateElem(0, key, value, flags)
	}
	idx := a.index(key)
	if flags > Exist {
		return syscall.EINVAL
	}
	if idx >= a.spec.MaxEntries {
		return syscall.E2BIG
	}
	if flags == NoExist {
		return syscall.EEXIST
	}
	off := idx * a.elem
	for c, d := range a.data {
		val := d[off : off+a.elem]
		a.copyValue(val, value[c*int(a.elem):])
		a.freeFields(val, a.bases[c]+uint64(off))
	}
	return nil
}

// Delete returns EINVAL, as for programs.
func (a *Array) Delete(key []byte) error {
	if err := a.sysWrite(0); err != nil {
		return err
	}
	return syscall.EINVAL
}

// NextKey mirrors array_map_get_next_key().
func (a *Array) NextKey(key, next []byte) error {
	return arrayNextKey(&a.spec, key, next)
}

func arrayNextKey(s *Spec, key, next []byte) error {
	if s.Flags&FlagWronly != 0 {
		return syscall.EPERM
	}
	if len(next) < 4 {
		return syscall.EINVAL
	}
	idx := ^uint32(0)
	if key != nil {
		if len(key) < 4 {
			return syscall.EINVAL
		}
		idx = binary.LittleEndian.Uint32(key)
	}
	if idx >= s.MaxEntries {
		binary.LittleEndian.PutUint32(next, 0)
		return nil
	}
	if idx == s.MaxEntries-1 {
		return syscall.ENOENT
	}
	binary.LittleEndian.PutUint32(next, idx+1)
	return nil
}

// keyAddr returns the VM address of a u32 holding index (the key pointer
// callbacks receive), mapping the key region on first use.
func (a *Array) keyAddr(index uint32) uint64 {
	if a.keys == 0 {
		k := make([]byte, 4*int(a.spec.MaxEntries))
		for i := range a.spec.MaxEntries {
			binary.LittleEndian.PutUint32(k[4*i:], i)
		}
		a.keysID, a.keys = a.mem.Map("map "+a.spec.Name+" keys", k, vm.PermRead)
	}
	return a.keys + 4*uint64(index)
}

// ForEach mirrors bpf_for_each_array_elem().
func (a *Array) ForEach(cpu int, fn func(key, value uint64) (bool, error)) (int, error) {
	c, ok := a.cpuIndex(cpu)
	if !ok {
		return 0, nil
	}
	n := 0
	for i := range a.spec.MaxEntries {
		n++
		stop, err := fn(a.keyAddr(i), a.bases[c]+uint64(i)*uint64(a.elem))
		if err != nil || stop {
			return n, err
		}
	}
	return n, nil
}

// KeyAddr returns the key address for the value at valueAddr (timer
// callbacks compute the index the same way bpf_timer_cb() does).
func (a *Array) KeyAddr(valueAddr uint64) (uint64, bool) {
	for c, b := range a.bases {
		if valueAddr >= b && valueAddr < b+uint64(len(a.data[c])) {
			return a.keyAddr(uint32((valueAddr - b) / uint64(a.elem))), true
		}
	}
	return 0, false
}
