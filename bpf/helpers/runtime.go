package helpers

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/maps/slab"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Options configure a Runtime.
type Options struct {
	// Seed seeds bpf_get_prandom_u32 (each CPU's state derives from it).
	Seed uint64
	// CpumaskSize is sizeof(struct cpumask) in the kernel's BTF; 0 means
	// BITS_TO_LONGS(nr_cpu_ids) * 8. A struct bpf_cpumask is the mask
	// followed by a refcount_t.
	CpumaskSize int
}

// Runtime is the helpers' state for one address space: the map registry,
// BPF timers, objects allocated by bpf_obj_new and bpf_cpumask_create,
// per-CPU prandom and cpumask_any_distribute state. It is also the maps'
// FieldReleaser: dropping a map value cancels its timers and releases the
// objects its kptrs hold.
type Runtime struct {
	Mem  *vm.Memory
	Maps *maps.Registry

	// ObjSize, if set, gives the size of the program-local type
	// local_type_id of p, for bpf_obj_new_impl calls the loader did not
	// rewrite the verifier's way (see objNew).
	ObjSize func(p *vm.Program, localTypeID uint32) (uint32, bool)
	// ObjRefcountOff, if set with ObjSize, gives the offset of the struct
	// bpf_refcount member of program-local type localTypeID, -1 if it has
	// none: the part of the verifier's btf_struct_meta record that
	// bpf_obj_new, bpf_obj_drop and bpf_refcount_acquire use.
	ObjRefcountOff func(p *vm.Program, localTypeID uint32) int

	kernel Kernel
	opts   Options

	rnd        []rndState
	distribute []int

	classes [objClasses]*slab.Slab
	big     map[uint64]bigObj
	objs    map[uint64]objInfo
	percpu  map[uint64]uint32 // bpf_percpu_obj_new objects: stride of the per-CPU copies

	timers    map[uint64]*timer
	nextTimer uint64
	running   []uint64 // timer ids whose callbacks are running (innermost last)
}

// NewRuntime creates the helper state for mem, with k the kernel whose
// hooks (timers, task and cgroup references) it calls outside program runs,
// and installs itself as the releaser of special map fields in
// maps.RegistryOf(mem).
func NewRuntime(mem *vm.Memory, k Kernel, opts Options) *Runtime {
	rt := &Runtime{Mem: mem, Maps: maps.RegistryOf(mem), kernel: k, opts: opts,
		big: map[uint64]bigObj{}, objs: map[uint64]objInfo{}, percpu: map[uint64]uint32{}, timers: map[uint64]*timer{}}
	rt.Maps.SetReleaser(rt)
	return rt
}

// cpumaskBytes is sizeof(struct cpumask) as used for bpf_cpumask objects.
func (rt *Runtime) cpumaskBytes() int {
	if rt.opts.CpumaskSize > 0 {
		return rt.opts.CpumaskSize
	}
	return bitmapBytes(rt.kernel.NrCPUIDs())
}

// bitmapBytes is bitmap_size(n): BITS_TO_LONGS(n) longs.
func bitmapBytes(n int) int { return (n + 63) / 64 * 8 }

// FreeField implements maps.FieldReleaser (bpf_obj_free_fields()): a timer
// is cancelled and freed, a referenced kptr's object released.
func (rt *Runtime) FreeField(m maps.Map, f maps.Field, addr uint64) {
	b, err := rt.Mem.Slice(addr, int(f.Size), false)
	if err != nil || len(b) < 8 {
		return
	}
	v := binary.LittleEndian.Uint64(b)
	switch f.Kind {
	case maps.FieldTimer:
		rt.freeTimer(v)
	case maps.FieldKptrRef, maps.FieldKptrPercpu:
		rt.releaseKptr(f.Target, v)
	}
}

// releaseKptr drops the reference a __kptr field holds on obj, by the
// pointee type: the kernel's dtor for kernel objects, bpf_obj_drop for
// program-allocated ones.
func (rt *Runtime) releaseKptr(target btf.Type, obj uint64) {
	if obj == 0 {
		return
	}
	name := ""
	if s, ok := btf.UnderlyingType(target).(*btf.Struct); ok {
		name = s.Name
	}
	switch name {
	case "task_struct":
		rt.kernel.TaskRelease(obj)
	case "cgroup":
		rt.kernel.CgroupRelease(obj)
	case "bpf_cpumask":
		rt.cpumaskPut(obj)
	default:
		if _, ok := rt.percpu[obj]; ok {
			rt.percpuFree(obj)
			return
		}
		rt.objDropRef(obj)
	}
}

// rndState is the kernel's struct rnd_state (prandom, lib/random32.c).
type rndState struct{ s1, s2, s3, s4 uint32 }

func seedBump(x, m uint32) uint32 {
	if x < m {
		return x + m
	}
	return x
}

// seed mirrors prandom_seed_state() followed by a warm-up.
func (s *rndState) seed(seed uint64) {
	i := uint32((seed >> 32) ^ (seed << 10) ^ seed)
	s.s1, s.s2, s.s3, s.s4 = seedBump(i, 2), seedBump(i, 8), seedBump(i, 16), seedBump(i, 128)
	for range 10 {
		s.next()
	}
}

// next mirrors prandom_u32_state() (Tausworthe LFSR113).
func (s *rndState) next() uint32 {
	taus := func(v, a, b, c, d uint32) uint32 { return ((v & c) << d) ^ (((v << a) ^ v) >> b) }
	s.s1 = taus(s.s1, 6, 13, 4294967294, 18)
	s.s2 = taus(s.s2, 2, 27, 4294967288, 2)
	s.s3 = taus(s.s3, 13, 21, 4294967280, 7)
	s.s4 = taus(s.s4, 3, 12, 4294967168, 13)
	return s.s1 ^ s.s2 ^ s.s3 ^ s.s4
}

// Prandom returns the next bpf_get_prandom_u32 value of cpu's state.
func (rt *Runtime) Prandom(cpu int) uint32 {
	if cpu < 0 {
		cpu = 0
	}
	for len(rt.rnd) <= cpu {
		var s rndState
		s.seed(rt.opts.Seed + uint64(len(rt.rnd))*0x9e3779b97f4a7c15)
		rt.rnd = append(rt.rnd, s)
	}
	return rt.rnd[cpu].next()
}

// Object allocation for bpf_obj_new and bpf_cpumask_create: size classes of
// 16 bytes to 4 KiB in slabs, larger objects in a region of their own.
const objClasses = 9 // 16 << 0 .. 16 << 8

type objInfo struct {
	class  int8 // -1: big
	idx    int32
	size   uint32
	refOff int32 // offset of the object's struct bpf_refcount, -1 if none
}

type bigObj struct{ id vm.RegionID }

// objAlloc returns the address of size zeroed bytes, 0 if size is 0 or
// beyond the 4 GiB a region can hold.
func (rt *Runtime) objAlloc(size uint32) uint64 {
	if size == 0 {
		return 0
	}
	for c := range objClasses {
		cs := uint32(16) << c
		if size > cs {
			continue
		}
		if rt.classes[c] == nil {
			rt.classes[c] = slab.New(rt.Mem, fmt.Sprintf("bpf objects %d", cs), int(cs), 0, vm.PermRW)
		}
		idx, ok := rt.classes[c].Alloc()
		if !ok {
			return 0 // address space exhausted: the allocation fails (NULL)
		}
		a := rt.classes[c].Addr(idx)
		rt.objs[a] = objInfo{class: int8(c), idx: idx, size: size, refOff: -1}
		return a
	}
	if size > 1<<30 {
		return 0
	}
	id, a := rt.Mem.Map("bpf object", make([]byte, size), vm.PermRW)
	if a == 0 {
		return 0 // address space exhausted: the allocation fails (NULL)
	}
	rt.big[a] = bigObj{id: id}
	rt.objs[a] = objInfo{class: -1, size: size, refOff: -1}
	return a
}

// objFree frees an object from objAlloc; false if addr is not one.
func (rt *Runtime) objFree(addr uint64) bool {
	o, ok := rt.objs[addr]
	if !ok {
		return false
	}
	delete(rt.objs, addr)
	if o.class < 0 {
		rt.Mem.Unmap(rt.big[addr].id)
		delete(rt.big, addr)
		return true
	}
	rt.classes[o.class].Free(o.idx)
	return true
}

// Objects is the number of live objects allocated by programs
// (bpf_obj_new, bpf_cpumask_create), for leak checks.
func (rt *Runtime) Objects() int { return len(rt.objs) }
