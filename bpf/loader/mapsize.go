package loader

import (
	"fmt"
	"slices"
	"syscall"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// findMapDef is the map called name (a SEC(".maps") variable's name or a
// global data section's name, e.g. ".data.uei_dump").
func (s *Spec) findMapDef(name string) (*mapDef, error) {
	for _, d := range s.maps {
		if d.name == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("map '%s' not found: %w", name, syscall.ENOENT)
}

// MapValueSize is the value size map name will be created with
// (bpf_map__value_size()).
func (s *Spec) MapValueSize(name string) (uint32, error) {
	d, err := s.findMapDef(name)
	if err != nil {
		return 0, err
	}
	return d.valueSize, nil
}

// MapMaxEntries is the max_entries map name will be created with
// (bpf_map__max_entries()).
func (s *Spec) MapMaxEntries(name string) (uint32, error) {
	d, err := s.findMapDef(name)
	if err != nil {
		return 0, err
	}
	return d.maxEntries, nil
}

// SetMapValueSize sets the value size of map name before Load. Mirrors
// bpf_map__set_value_size(): a SEC(".maps") map only takes the new size
// (its key and value BTF types are dropped when the value type no longer
// has that size, as libbpf's retry without BTF ends up creating it); a
// global data section (.data, .rodata, .bss and their .NAME variants)
// keeps its initial contents up to the new size, zero-filled beyond, and
// its DATASEC is adjusted as map_btf_datasec_resize() does: the last
// variable must be an array, whose length becomes (size - its offset) /
// element size. When that adjustment is impossible the section loses its
// BTF (as libbpf clears the map's BTF type ids, after a warning) and
// keeps only the variables that still fit. .kconfig cannot be resized.
func (s *Spec) SetMapValueSize(name string, size uint32) error {
	d, err := s.findMapDef(name)
	if err != nil {
		return err
	}
	switch d.kind {
	case kindBTF:
		d.valueSize = size
		if d.value != nil {
			if n, err := btf.Sizeof(d.value); err != nil || uint64(n) != uint64(size) {
				d.key, d.value = nil, nil
			}
		}
		return nil
	case kindKconfig:
		return fmt.Errorf("map '%s': the .kconfig map cannot be resized: %w", name, syscall.EOPNOTSUPP)
	}
	if d.typ != mapTypeArray {
		return fmt.Errorf("map '%s': only array maps with a memory-mapped region can be resized: %w", name, syscall.EOPNOTSUPP)
	}
	// bpf_map_mmap_resize(): the initial image keeps what fits.
	data := make([]byte, size)
	copy(data, d.data)
	d.data = data
	if err := s.resizeDatasec(d, size); err != nil && err != syscall.ENOENT {
		d.datasec = nil
	}
	d.valueSize = size
	s.dropGlobalsPast(d, size)
	return nil
}

// resizeDatasec mirrors map_btf_datasec_resize(): the DATASEC takes the
// new size and its last variable, which must be an array, a new array
// type of the length that fills it. ENOENT: the section has no BTF. The
// types and Globals an already loaded Object uses are replaced, not
// changed.
func (s *Spec) resizeDatasec(d *mapDef, size uint32) error {
	ds := d.datasec
	if ds == nil {
		return syscall.ENOENT
	}
	if len(ds.Vars) == 0 {
		return syscall.EINVAL // map value datasec is empty
	}
	last := ds.Vars[len(ds.Vars)-1]
	v, ok := last.Type.(*btf.Var)
	if !ok {
		return syscall.EINVAL
	}
	arr, ok := btf.UnderlyingType(v.Type).(*btf.Array)
	if !ok {
		return syscall.EINVAL // last var must be array
	}
	elem, err := btf.Sizeof(arr.Type)
	if err != nil || elem <= 0 {
		return syscall.EINVAL
	}
	if size < last.Offset || (size-last.Offset)%uint32(elem) != 0 {
		return syscall.EINVAL // requested size does not align
	}
	resized := &btf.Array{Index: arr.Index, Type: arr.Type, Nelems: (size - last.Offset) / uint32(elem)}
	nv := &btf.Var{Name: v.Name, Type: resized, Linkage: v.Linkage, Tags: slices.Clone(v.Tags)}
	nds := &btf.Datasec{Name: ds.Name, Size: size, Vars: slices.Clone(ds.Vars)}
	nds.Vars[len(nds.Vars)-1] = btf.VarSecinfo{Type: nv, Offset: last.Offset, Size: size - last.Offset}
	d.datasec = nds
	for i, g := range s.globals {
		if g.m == d && g.Name == v.Name && g.Offset == last.Offset {
			ng := *g
			ng.Size, ng.Type = size-last.Offset, resized
			s.replaceGlobal(i, &ng)
		}
	}
	return nil
}

// replaceGlobal puts ng in place of global i (in a new list, so that an
// Object loaded before keeps its own).
func (s *Spec) replaceGlobal(i int, ng *Global) {
	old := s.globals[i]
	s.globals = slices.Clone(s.globals)
	s.globals[i] = ng
	if s.globalBy[ng.Name] == old {
		s.globalBy[ng.Name] = ng
	}
}

// dropGlobalsPast forgets the variables of data map d that no longer lie
// within its size bytes.
func (s *Spec) dropGlobalsPast(d *mapDef, size uint32) {
	var kept []*Global
	for _, g := range s.globals {
		if g.m == d && uint64(g.Offset)+uint64(g.Size) > uint64(size) {
			if s.globalBy[g.Name] == g {
				delete(s.globalBy, g.Name)
			}
			continue
		}
		kept = append(kept, g)
	}
	s.globals = kept
}

// SetMapMaxEntries sets the max_entries of SEC(".maps") map name before
// Load. Mirrors bpf_map__set_max_entries(), which rounds a ring buffer's
// size up to a power-of-2 multiple of the page size. The global data
// sections stay single-element arrays here.
func (s *Spec) SetMapMaxEntries(name string, n uint32) error {
	d, err := s.findMapDef(name)
	if err != nil {
		return err
	}
	if d.kind != kindBTF {
		return fmt.Errorf("map '%s': a global data section has exactly one element: %w", name, syscall.EINVAL)
	}
	d.maxEntries = n
	if d.typ == maps.TypeRingBuf || d.typ == maps.TypeUserRingBuf {
		d.maxEntries = adjustRingbufSize(n)
	}
	return nil
}

// adjustRingbufSize mirrors libbpf's adjust_ringbuf_sz(): the smallest
// power-of-2 multiple of the page size above sz unless sz already is one;
// 0 stays 0 and a size no such multiple can hold is left for the kernel to
// refuse.
func adjustRingbufSize(sz uint32) uint32 {
	const page = uint32(vm.PageSize)
	if sz == 0 {
		return 0
	}
	if sz%page == 0 {
		if m := sz / page; m&(m-1) == 0 {
			return sz
		}
	}
	for mul := uint64(1); mul*uint64(page) <= 1<<32-1; mul <<= 1 {
		if mul*uint64(page) > uint64(sz) {
			return uint32(mul) * page
		}
	}
	return sz
}
