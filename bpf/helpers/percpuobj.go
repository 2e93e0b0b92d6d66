package helpers

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/scxsim/scxsim/bpf/vm"
)

// percpuObjMaxSize is BPF_GLOBAL_PERCPU_MA_MAX_SIZE: the largest type
// bpf_percpu_obj_new() may allocate.
const percpuObjMaxSize = 512

// refcountSaturated is REFCOUNT_SATURATED, where a refcount_t overflowing
// or underflowing is parked.
const refcountSaturated int32 = math.MinInt32 / 2

// Mirrors bpf_percpu_obj_new_impl(local_type_id__k, meta__ign): a zeroed
// copy of the object for every possible CPU (bpf_global_percpu_ma), NULL if
// none can be allocated. r1 is the size or the local type id as for
// bpf_obj_new_impl. The value returned is the per-CPU pointer that
// bpf_per_cpu_ptr() and bpf_this_cpu_ptr() resolve to a CPU's copy.
func percpuObjNew(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	const name = "bpf_percpu_obj_new_impl"
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	size, _, err := rt.objLayout(e, name, r1)
	if err != nil {
		return 0, err
	}
	if size > percpuObjMaxSize {
		return 0, fmt.Errorf("%s: bpf_percpu_obj_new type size (%d) is greater than %d", name, size, percpuObjMaxSize)
	}
	if size == 0 {
		return 0, nil
	}
	stride := uint32(size+7) &^ 7
	a := rt.objAlloc(stride * uint32(max(rt.kernel.NrCPUIDs(), 1)))
	if a != 0 {
		rt.percpu[a] = stride
	}
	return a, nil
}

// Mirrors bpf_percpu_obj_drop_impl(p__alloc, meta__ign): frees every CPU's
// copy.
func percpuObjDrop(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if !rt.isPercpu(r1) {
		return 0, fmt.Errorf("bpf_percpu_obj_drop_impl: %#x is not a per-CPU object", r1)
	}
	rt.percpuFree(r1)
	return 0, nil
}

// Mirrors bpf_refcount_acquire_impl(p__refcounted_kptr, meta__ign): a new
// reference to a refcounted object, NULL if its count already dropped to
// zero (refcount_inc_not_zero()).
func refcountAcquire(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	const name = "bpf_refcount_acquire_impl"
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	o, ok := rt.objs[r1]
	if !ok || rt.isPercpu(r1) {
		return 0, fmt.Errorf("%s: %#x is not an allocated object", name, r1)
	}
	if o.refOff < 0 {
		return 0, fmt.Errorf("%s: the object at %#x has no struct bpf_refcount", name, r1)
	}
	b, err := rt.Mem.Slice(r1+uint64(o.refOff), 4, true)
	if err != nil {
		return 0, fault(name, r1+uint64(o.refOff), 4)
	}
	old := int32(binary.LittleEndian.Uint32(b))
	if old == 0 {
		return 0, nil
	}
	next := old + 1
	if old < 0 || next < 0 {
		next = refcountSaturated
	}
	binary.LittleEndian.PutUint32(b, uint32(next))
	return r1, nil
}

// objDropRef drops one reference to an object from bpf_obj_new and frees
// it with the last one, as __bpf_obj_drop_impl() does: an object without a
// bpf_refcount has exactly one. An underflow saturates the count and frees
// nothing (refcount_dec_and_test()).
func (rt *Runtime) objDropRef(addr uint64) {
	o, ok := rt.objs[addr]
	if !ok {
		return
	}
	if o.refOff >= 0 {
		b, err := rt.Mem.Slice(addr+uint64(o.refOff), 4, true)
		if err != nil {
			return
		}
		old := int32(binary.LittleEndian.Uint32(b))
		switch {
		case old == 1:
			binary.LittleEndian.PutUint32(b, 0)
		case old <= 0:
			binary.LittleEndian.PutUint32(b, 0xc000_0000) // REFCOUNT_SATURATED
			return
		default:
			binary.LittleEndian.PutUint32(b, uint32(old-1))
			return
		}
	}
	rt.objFree(addr)
}

func (rt *Runtime) isPercpu(addr uint64) bool {
	_, ok := rt.percpu[addr]
	return ok
}

func (rt *Runtime) percpuFree(addr uint64) {
	delete(rt.percpu, addr)
	rt.objFree(addr)
}

// percpuCopy resolves cpu's copy of the per-CPU object at ptr (0 for a CPU
// out of range); false if ptr is not a per-CPU object.
func (rt *Runtime) percpuCopy(ptr uint64, cpu int) (uint64, bool) {
	stride, ok := rt.percpu[ptr]
	if !ok {
		return 0, false
	}
	if cpu < 0 || cpu >= rt.kernel.NrCPUIDs() {
		return 0, true
	}
	return ptr + uint64(cpu)*uint64(stride), true
}
