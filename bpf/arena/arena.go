// Package arena implements BPF_MAP_TYPE_ARENA (kernel/bpf/arena.c): a
// sparse, page-granular memory shared by BPF programs, user space and (after
// the kernel's direct-access work) the kernel itself, plus the sched_ext
// kernel's sub-allocator over arena pages (kernel/sched/ext/arena.c).
//
// One arena has two views of the same pages, as in the kernel:
//
//   - the user view: addresses in [UserBase, UserBase+max_entries*4096),
//     what user space (a libbpf skeleton's skel->arena) and BPF pointers in
//     address space 1 hold;
//   - the kernel view: the low 32 bits of a user address, an offset into the
//     arena's 4 GiB kernel window. scxsim puts that window at 0
//     (KernVMStart), so a kernel address is the offset itself; BPF programs
//     reach it after addr_space_cast to address space 0.
//
// Pages are populated on demand: by bpf_arena_alloc_pages, by a user-space
// touch (UserRead/UserWrite, like a fault on the mmap), and, for kernel-side
// accesses to unpopulated pages, by the arena's single scratch page.
package arena

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Map flags an arena accepts, from include/uapi/linux/bpf.h.
const (
	FlagMmapable    = maps.FlagMmapable // BPF_F_MMAPABLE, required
	FlagSegvOnFault = 1 << 17           // BPF_F_SEGV_ON_FAULT
	FlagNoUserConv  = 1 << 18           // BPF_F_NO_USER_CONV
)

func init() {
	maps.RegisterType(maps.TypeArena, func(mem *vm.Memory, spec *maps.Spec, _ int) (maps.Map, error) {
		a, err := New(mem, spec, Options{})
		if err != nil {
			return nil, err
		}
		return a, nil
	})
}

// Layout constants from kernel/bpf/arena.c.
const (
	PageSize   = vm.PageSize
	pageShift  = 12
	windowSize = 1 << 32 // SZ_4G
	// GuardSize is GUARD_SZ: the guard around the 4 GiB kernel window
	// covering any 16-bit instruction offset.
	GuardSize = 1 << 16
	// KernVMStart is kern_vm_start in scxsim: the kernel window starts at
	// 0, so a kernel-view address equals its 32-bit arena offset.
	KernVMStart = 0
	// NumaNoNode is NUMA_NO_NODE.
	NumaNoNode = -1
)

// DefaultUserBase is where Mmap places an arena whose map_extra is 0, the
// address a first mmap(NULL) would pick: deterministic, and moved up to a
// 4 GiB boundary when the arena would otherwise cross one, as
// arena_get_unmapped_area() does.
const DefaultUserBase = 0x7f7d_2620_0000

// Options tune an arena beyond its map attributes.
type Options struct {
	// NumaNodes is nr_node_ids, for the node_id check of
	// bpf_arena_alloc_pages (default 1).
	NumaNodes int
}

// Live counts arenas not yet released and pages they own, across the
// process: leak tests measure them.
var (
	liveArenas atomic.Int64
	livePages  atomic.Int64
)

// Live returns the number of unreleased arenas and the pages they own.
func Live() (arenas, pages int64) { return liveArenas.Load(), livePages.Load() }

// views maps a VM view back to its arena, for kfuncs that find their arena
// through the running program (vm.Program.Arena).
var views sync.Map // *vm.Arena -> *Arena

// FromVM returns the arena behind a VM view, or nil.
func FromVM(v *vm.Arena) *Arena {
	if v == nil {
		return nil
	}
	a, _ := views.Load(v)
	ar, _ := a.(*Arena)
	return ar
}

// Arena is one BPF_MAP_TYPE_ARENA map. It is a maps.Map: the embedded
// maps.Base gives it its struct bpf_map * address (Addr), id, registry entry
// and references (Get, Put, Refs); the last Put releases every page.
type Arena struct {
	*maps.Base
	mu        sync.Mutex
	spec      maps.Spec
	view      vm.Arena // UserBase, Dir, Fault: what the VM reads
	userStart uint64   // user_vm_start (0 until Mmap or map_extra)
	userEnd   uint64   // user_vm_end
	rt        rangeTree
	scratch   *[PageSize]byte
	outside   map[uint64]bool // window pages beyond the arena holding scratch
	numaNodes int
	released  bool
	mmapped   bool   // user space mapped it (Mmap)
	owned     int    // pages owned (scratch excluded)
	faults    uint64 // violations reported
}

// New creates an arena in mem, validating the attributes as
// arena_map_alloc() does and failing with its errno: EINVAL for a key or
// value size, zero max_entries, missing BPF_F_MMAPABLE, an unsupported flag
// or a map_extra that is not page aligned; E2BIG for more than 4 GiB of
// pages; ERANGE when the user range [map_extra, map_extra+size) crosses a
// 4 GiB boundary. The arena is registered in maps.RegistryOf(mem) and
// starts with one reference, the user-side handle (its fd). maps.New builds
// arenas through it too. Mirrors arena_map_alloc().
func New(mem *vm.Memory, spec *maps.Spec, opts Options) (*Arena, error) {
	if spec.Type != maps.TypeArena {
		return nil, syscall.EINVAL
	}
	if spec.KeySize != 0 || spec.ValueSize != 0 || spec.MaxEntries == 0 ||
		spec.Flags&FlagMmapable == 0 ||
		spec.Flags&^(FlagSegvOnFault|FlagMmapable|FlagNoUserConv) != 0 {
		return nil, syscall.EINVAL
	}
	if spec.MapExtra&(PageSize-1) != 0 {
		return nil, syscall.EINVAL
	}
	size := uint64(spec.MaxEntries) * PageSize
	if size > windowSize {
		return nil, syscall.E2BIG
	}
	if spec.MapExtra>>32 != (spec.MapExtra+size-1)>>32 {
		return nil, syscall.ERANGE
	}
	if opts.NumaNodes <= 0 {
		opts.NumaNodes = 1
	}
	a := &Arena{
		spec:      *spec,
		scratch:   new([PageSize]byte),
		numaNodes: opts.NumaNodes,
	}
	a.rt.set(0, spec.MaxEntries)
	a.userStart = spec.MapExtra
	if a.userStart != 0 {
		a.userEnd = a.userStart + size
	}
	a.setViewBase()
	a.view.Dir = vm.NewArenaDir(spec.MaxEntries)
	a.view.Fault = a.bpfFault
	a.Base = maps.NewBase(mem, spec, a, 1, a.release)
	views.Store(&a.view, a)
	liveArenas.Add(1)
	return a, nil
}

// SetNumaNodes sets nr_node_ids for the node_id check of
// bpf_arena_alloc_pages (the simulated machine's NUMA node count).
func (a *Arena) SetNumaNodes(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n > 0 {
		a.numaNodes = n
	}
}

// VM returns the view the VM executes against; the loader stores it in
// vm.Program.Arena of every program using this arena.
func (a *Arena) VM() *vm.Arena { return &a.view }

// UserBase is user_vm_start: the user address of page 0, 0 before Mmap
// when map_extra was 0. Mirrors bpf_arena_get_user_vm_start().
func (a *Arena) UserBase() uint64 { return a.userStart }

// UserEnd is user_vm_end.
func (a *Arena) UserEnd() uint64 { return a.userEnd }

// Mmap maps the arena for user space the way libbpf does at object load
// (mmap(map_extra, max_entries*4096, ..., map_extra ? MAP_FIXED : 0)) and
// fixes user_vm_start. With map_extra 0, addr 0 lets the kernel choose
// (DefaultUserBase) and a non-zero addr is taken as MAP_FIXED; with
// map_extra set, addr must be map_extra. length must be the arena size.
// Errors are
// the kernel's: E2BIG for a length over 4 GiB or the arena size, EINVAL for
// another length or, once user_vm_start is fixed (by map_extra or an
// earlier Mmap), any other address, 0 included.
// Mirrors arena_get_unmapped_area() + arena_map_mmap().
func (a *Arena) Mmap(addr, length uint64) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.released {
		return 0, syscall.EBADF
	}
	if length > windowSize {
		return 0, syscall.E2BIG
	}
	size := uint64(a.spec.MaxEntries) * PageSize
	if a.userStart != 0 {
		if length > a.userEnd-a.userStart {
			return 0, syscall.E2BIG
		}
		if length != a.userEnd-a.userStart {
			return 0, syscall.EINVAL
		}
		if addr != a.userStart {
			return 0, syscall.EINVAL
		}
		a.mmapped = true
		return a.userStart, nil
	}
	if length != size {
		// A shorter or longer user mapping would change user_vm_end;
		// scxsim keeps one mapping of the whole arena.
		return 0, syscall.EINVAL
	}
	if addr == 0 {
		addr = DefaultUserBase
		if addr>>32 != (addr+length-1)>>32 {
			addr = (addr + windowSize - 1) &^ (windowSize - 1)
		}
	} else if addr&(PageSize-1) != 0 || addr>>32 != (addr+length-1)>>32 {
		return 0, syscall.EINVAL
	}
	a.userStart, a.userEnd = addr, addr+length
	a.mmapped = true
	a.setViewBase()
	return addr, nil
}

// setViewBase publishes user_vm_start to the VM. With BPF_F_NO_USER_CONV
// the verifier turns addr_space_cast to address space 1 into a plain 32-bit
// move; the VM's cast ORs in the upper half of UserBase and indexes pages by
// its lower half only, so giving it just the lower half yields exactly that.
func (a *Arena) setViewBase() {
	a.view.UserBase = a.userStart
	if a.spec.Flags&FlagNoUserConv != 0 {
		a.view.UserBase = uint64(uint32(a.userStart))
	}
}

// pageCntMax is the number of pages user space can reach (0 before Mmap).
func (a *Arena) pageCntMax() int64 { return int64((a.userEnd - a.userStart) >> pageShift) }

// pgoff is the page index of a user or kernel address: only its low 32 bits
// count. Mirrors compute_pgoff().
func (a *Arena) pgoff(addr uint64) uint32 {
	return (uint32(addr) - uint32(a.userStart)) >> pageShift
}

// UserAddr converts a kernel-view address (arena offset) to the user view,
// as addr_space_cast from address space 0 to 1 does: NULL stays NULL.
func (a *Arena) UserAddr(kaddr uint64) uint64 { return CastUser(a.userStart, kaddr) }

// KernAddr converts a user-view address to the kernel view, as
// addr_space_cast from address space 1 to 0 does.
func (a *Arena) KernAddr(uaddr uint64) uint64 { return CastKern(uaddr) }

// CastKern is addr_space_cast(as1 -> as0) as the kernel's JITs emit it: a
// 32-bit move, keeping the low 32 bits (the offset in the kernel window).
func CastKern(v uint64) uint64 { return uint64(uint32(v)) }

// CastUser is addr_space_cast(as0 -> as1) as the x86-64 JIT emits it: the
// low 32 bits under the upper 32 bits of user_vm_start, except that a zero
// low half (NULL) stays 0.
func CastUser(userStart, v uint64) uint64 {
	lo := uint64(uint32(v))
	if lo == 0 {
		return 0
	}
	return userStart&^0xffffffff | lo
}

// GlobalsOffset is where libbpf places an object's __arena globals
// (.addr_space.1, dataSize bytes) in the arena: at the end, in whole pages
// (init_arena_map_data()); E2BIG when they do not fit. The loader copies
// the initial data there with UserWrite after Mmap, as libbpf's memcpy into
// the mapping does, which populates those pages.
func (a *Arena) GlobalsOffset(dataSize uint64) (uint64, error) {
	size := uint64(a.spec.MaxEntries) * PageSize
	alloc := (dataSize + PageSize - 1) &^ (PageSize - 1)
	if alloc > size {
		return 0, syscall.E2BIG
	}
	return size - alloc, nil
}

// ValueAddr is the ld_imm64 value of a direct reference to arena globals at
// offset off (BPF_PSEUDO_MAP_VALUE on an arena): user_vm_start + off, or
// ERANGE when off is not inside the arena.
// Mirrors arena_map_direct_value_addr() plus the verifier's addition of off.
func (a *Arena) ValueAddr(off uint32) (uint64, error) {
	if uint64(off) >= a.userEnd-a.userStart {
		return 0, syscall.ERANGE
	}
	return a.userStart + uint64(off), nil
}

// Populated returns the number of pages holding real memory (the scratch
// page not counted).
func (a *Arena) Populated() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.owned
}

// Unallocated returns how many pages the allocator could still hand out.
func (a *Arena) Unallocated() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rt.free()
}

// Violations returns the number of arena faults reported so far.
func (a *Arena) Violations() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.faults
}

// IsScratch reports whether the kernel view at kaddr is backed by the
// scratch page.
func (a *Arena) IsScratch(kaddr uint64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if kaddr >= windowSize || int64(a.pgoff(kaddr)) >= int64(a.spec.MaxEntries) {
		return a.outside[kaddr>>pageShift]
	}
	p := a.view.Page(a.pgoff(kaddr))
	return p != nil && p == a.scratch
}

// slot returns the page slot of kernel-view address kaddr, or out=true when
// kaddr is in the kernel window (or its upper guard) but outside the
// arena's pages.
func (a *Arena) slot(kaddr uint64) (slot **[PageSize]byte, out bool) {
	if kaddr >= windowSize {
		return nil, true
	}
	pg := a.pgoff(kaddr)
	if int64(pg) >= int64(a.spec.MaxEntries) {
		return nil, true
	}
	return a.pageSlot(pg), false
}

// pageSlot returns the page table entry of page pg (below max_entries),
// allocating its leaf: the table grows with the pages populated, as the
// kernel's page tables do.
func (a *Arena) pageSlot(pg uint32) **[PageSize]byte {
	l := a.view.Dir[pg>>vm.LeafShift]
	if l == nil {
		l = new(vm.ArenaLeaf)
		a.view.Dir[pg>>vm.LeafShift] = l
	}
	return &l[pg&(vm.LeafPages-1)]
}

// dropRange releases pages [pg, pg+cnt), skipping leaves never allocated.
func (a *Arena) dropRange(pg, cnt uint32) {
	for end := uint64(pg) + uint64(cnt); uint64(pg) < end; {
		l := a.view.Dir[pg>>vm.LeafShift]
		next := min(end, (uint64(pg)>>vm.LeafShift+1)<<vm.LeafShift)
		if l != nil {
			for ; uint64(pg) < next; pg++ {
				a.dropPage(&l[pg&(vm.LeafPages-1)])
			}
		}
		pg = uint32(next)
		if next == end {
			return
		}
	}
}

// release frees every page but the scratch page when the last reference
// goes. Mirrors arena_map_free().
func (a *Arena) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.released = true
	for _, l := range a.view.Dir {
		if l == nil {
			continue
		}
		for i, p := range l {
			if p != nil && p != a.scratch {
				a.owned--
				livePages.Add(-1)
			}
			l[i] = nil
		}
	}
	a.view.Dir = nil
	a.outside = nil
	a.scratch = nil
	a.rt = rangeTree{}
	views.Delete(&a.view)
	liveArenas.Add(-1)
}

// Released reports whether the last reference is gone.
func (a *Arena) Released() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.released
}

// String names the arena for messages.
func (a *Arena) String() string {
	return fmt.Sprintf("arena %q (%d pages at %#x)", a.spec.Name, a.spec.MaxEntries, a.userStart)
}
