package vm

import (
	"encoding/binary"
	"fmt"
)

// Region is one mapped piece of memory a program may address.
type Region struct {
	Name string
	Data []byte
	Perm Perm
}

// Memory is an address space of regions. One Memory is shared by every
// program of a loaded object (they share maps and globals); each Exec has its
// own stack. The zero value is not usable; call NewMemory.
//
// Region ids are not reused while unused ids remain, so a stale pointer to
// an unmapped region faults instead of aliasing a newer region. Once all
// MaxRegions ids have been handed out, unmapped ids are reused, oldest
// first (as the kernel's allocators reuse freed memory); when none is free
// Map fails.
type Memory struct {
	regions []Region
	free    []RegionID // unmapped ids, in the order they were unmapped
}

// MaxRegions is how many regions fit between RegionBase and the top of the
// 64-bit address space (each has a 4 GiB window).
const MaxRegions = int((^uint64(0)-RegionBase)>>32) + 1

// NewMemory returns an empty address space.
func NewMemory() *Memory {
	// Region 0 is reserved so that RegionBase itself is never a valid address.
	return &Memory{regions: []Region{{Name: "reserved"}}}
}

// Map adds a region backed by data (not copied: the embedder and the program
// share it) and returns its id and start address. When the address space is
// exhausted it returns id 0 and address 0: the embedder reports the
// allocation failure (ENOMEM, or NULL to a program).
func (m *Memory) Map(name string, data []byte, perm Perm) (RegionID, uint64) {
	r := Region{Name: name, Data: data, Perm: perm}
	if len(m.regions) < MaxRegions {
		id := RegionID(len(m.regions))
		m.regions = append(m.regions, r)
		return id, RegionAddr(id, 0)
	}
	if len(m.free) == 0 {
		return 0, 0
	}
	id := m.free[0]
	m.free = m.free[1:]
	m.regions[id] = r
	return id, RegionAddr(id, 0)
}

// Remap replaces the backing bytes of a region (for example after growth).
func (m *Memory) Remap(id RegionID, data []byte) {
	if int(id) < len(m.regions) && id != 0 {
		m.regions[id].Data = data
	}
}

// Unmap removes a region; later accesses to it fault.
func (m *Memory) Unmap(id RegionID) {
	if int(id) < len(m.regions) && id != 0 && m.regions[id].Perm != 0 {
		m.regions[id] = Region{Name: m.regions[id].Name + " (unmapped)"}
		m.free = append(m.free, id)
	}
}

// Region returns the region with this id, or nil.
func (m *Memory) Region(id RegionID) *Region {
	if int(id) < len(m.regions) && id != 0 {
		return &m.regions[id]
	}
	return nil
}

// RegionAddr is the address of byte off of region id.
func RegionAddr(id RegionID, off uint32) uint64 {
	return RegionBase + uint64(id)<<32 + uint64(off)
}

// Slice returns the size bytes at addr if they lie inside one mapped region
// with the wanted permission. Helpers use it to read and write program
// memory; it never returns memory outside a region. Arena addresses are not
// resolved here (see Exec.Slice, which knows the running program's arena).
func (m *Memory) Slice(addr uint64, size int, write bool) ([]byte, error) {
	d := addr - RegionBase
	id := d >> 32
	if id == 0 || id >= uint64(len(m.regions)) || size < 0 {
		return nil, fmt.Errorf("invalid memory access at %#x (size %d)", addr, size)
	}
	r := &m.regions[id]
	off := uint64(uint32(d))
	want := PermRead
	if write {
		want = PermWrite
	}
	if r.Perm&want == 0 || off+uint64(size) > uint64(len(r.Data)) {
		return nil, fmt.Errorf("invalid memory access at %#x (size %d, region %s)", addr, size, r.Name)
	}
	return r.Data[off : off+uint64(size) : off+uint64(size)], nil
}

// ReadU64 is a convenience for the kernel side: the little-endian u64 at addr.
func (m *Memory) ReadU64(addr uint64) (uint64, error) {
	b, err := m.Slice(addr, 8, false)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// CString reads a NUL-terminated string of at most max bytes at addr.
func (m *Memory) CString(addr uint64, max int) (string, error) {
	d := addr - RegionBase
	id := d >> 32
	if id == 0 || id >= uint64(len(m.regions)) {
		return "", fmt.Errorf("invalid memory access at %#x", addr)
	}
	r := &m.regions[id]
	off := uint64(uint32(d))
	if r.Perm&PermRead == 0 || off >= uint64(len(r.Data)) {
		return "", fmt.Errorf("invalid memory access at %#x (region %s)", addr, r.Name)
	}
	b := r.Data[off:]
	if len(b) > max {
		b = b[:max]
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	return string(b), nil
}
