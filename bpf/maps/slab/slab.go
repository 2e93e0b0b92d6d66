// Package slab hands out fixed-size slots of VM memory at stable addresses.
//
// Map elements (hash values, local storage, helper-allocated objects) must
// keep their address while they live, because programs hold pointers to them.
// A Slab groups slots into chunks, each chunk one vm.Memory region, maps
// chunks only when needed and reuses freed slots (last freed, first reused),
// much as the kernel's preallocated element pools do: a stale pointer to a
// freed slot aliases whatever is allocated there next.
package slab

import (
	"fmt"

	"github.com/scxsim/scxsim/bpf/vm"
)

// chunkBytes is the target size of one chunk region.
const chunkBytes = 64 << 10

// Slab is a pool of equally sized slots. The zero value is not usable.
type Slab struct {
	mem      *vm.Memory
	name     string
	perm     vm.Perm
	slotSize int
	perChunk int
	max      int // slots at most (0: unlimited)
	chunks   []chunk
	free     []int32
	used     int
	next     int32 // slots handed out from fresh chunks so far
	regions  map[vm.RegionID]int32
}

type chunk struct {
	id   vm.RegionID
	base uint64
	data []byte
}

// New returns a slab of slots of slotSize bytes (rounded up to 8) in mem, at
// most max slots (0 for no limit). Regions are named name#N.
func New(mem *vm.Memory, name string, slotSize, max int, perm vm.Perm) *Slab {
	slotSize = (slotSize + 7) &^ 7
	if slotSize == 0 {
		slotSize = 8
	}
	per := chunkBytes / slotSize
	if per < 1 {
		per = 1
	}
	if max > 0 && per > max {
		per = max
	}
	return &Slab{mem: mem, name: name, perm: perm, slotSize: slotSize, perChunk: per, max: max,
		regions: map[vm.RegionID]int32{}}
}

// SlotSize is the size of one slot in bytes.
func (s *Slab) SlotSize() int { return s.slotSize }

// Used is the number of allocated slots.
func (s *Slab) Used() int { return s.used }

// Alloc returns a zeroed slot, or false when the slab is at its limit.
func (s *Slab) Alloc() (int32, bool) {
	if n := len(s.free); n > 0 {
		idx := s.free[n-1]
		s.free = s.free[:n-1]
		clear(s.Bytes(idx))
		s.used++
		return idx, true
	}
	if s.max > 0 && int(s.next) >= s.max {
		return -1, false
	}
	idx := s.next
	c := int(idx) / s.perChunk
	if c == len(s.chunks) {
		n := s.perChunk
		if s.max > 0 && (c+1)*s.perChunk > s.max {
			n = s.max - c*s.perChunk
		}
		data := make([]byte, n*s.slotSize)
		id, base := s.mem.Map(fmt.Sprintf("%s#%d", s.name, c), data, s.perm)
		if base == 0 {
			return -1, false // the address space is exhausted
		}
		s.chunks = append(s.chunks, chunk{id: id, base: base, data: data})
		s.regions[id] = int32(c)
	}
	s.next++
	s.used++
	return idx, true
}

// Free returns slot idx to the pool. Its bytes stay as they are until the
// slot is handed out again.
func (s *Slab) Free(idx int32) {
	s.free = append(s.free, idx)
	s.used--
}

// Bytes is the backing memory of slot idx.
func (s *Slab) Bytes(idx int32) []byte {
	c := &s.chunks[int(idx)/s.perChunk]
	off := (int(idx) % s.perChunk) * s.slotSize
	return c.data[off : off+s.slotSize : off+s.slotSize]
}

// Addr is the VM address of slot idx.
func (s *Slab) Addr(idx int32) uint64 {
	c := &s.chunks[int(idx)/s.perChunk]
	return c.base + uint64((int(idx)%s.perChunk)*s.slotSize)
}

// Index returns the slot containing addr and the offset of addr in it.
func (s *Slab) Index(addr uint64) (idx int32, off int, ok bool) {
	d := addr - vm.RegionBase
	c, found := s.regions[vm.RegionID(d>>32)]
	if !found || addr < vm.RegionBase {
		return -1, 0, false
	}
	o := int(uint32(d))
	if o >= len(s.chunks[c].data) {
		return -1, 0, false
	}
	return c*int32(s.perChunk) + int32(o/s.slotSize), o % s.slotSize, true
}

// Release unmaps every chunk; the slab must not be used afterwards.
func (s *Slab) Release() {
	for _, c := range s.chunks {
		s.mem.Unmap(c.id)
	}
	s.chunks, s.free, s.regions = nil, nil, nil
	s.used = 0
}
