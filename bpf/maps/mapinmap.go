package maps

import (
	"encoding/binary"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// MapOfMaps is BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS.
// Slots hold inner maps (each holding a reference); a program lookup
// returns the inner map's address, a user lookup its id. User updates pass
// the inner map's id where the kernel takes an fd. Mirrors map_in_map.c and
// the fd map parts of arraymap.c and hashtab.c. Hash slots iterate in
// insertion order.
type MapOfMaps struct {
	*Base
	isArray bool
	slots   []Map // array slots, or hash values by position
	keys    []string
	index   map[string]int32
	dead    int
}

func newMapOfMaps(mem *vm.Memory, spec *Spec, ncpu int) (Map, error) {
	in := spec.Inner
	if in == nil {
		return nil, syscall.EBADF
	}
	// bpf_map_meta_alloc()
	switch in.Type {
	case TypeArrayOfMaps, TypeHashOfMaps:
		return nil, syscall.EINVAL
	case TypeArray, TypePercpuArray, TypeHash, TypePercpuHash, TypeLRUHash, TypeLRUPercpuHash,
		TypeQueue, TypeStack, TypeRingBuf, TypeUserRingBuf, TypePerfEventArray:
	default:
		return nil, ENOTSUPP
	}
	m := &MapOfMaps{Base: &Base{}, isArray: spec.Type == TypeArrayOfMaps}
	if m.isArray {
		if err := fdArrayAllocCheck(spec); err != nil {
			return nil, err
		}
		m.slots = make([]Map, spec.MaxEntries)
	} else {
		if spec.ValueSize != 4 {
			return nil, syscall.EINVAL
		}
		if err := htabAllocCheck(spec); err != nil {
			return nil, err
		}
		m.index = map[string]int32{}
	}
	m.init(mem, spec, m, ncpu)
	m.onRelease = func() {
		for i, in := range m.slots {
			if in != nil {
				m.slots[i] = nil
				in.Put()
			}
		}
	}
	return m, nil
}

// metaEqual mirrors bpf_map_meta_equal() and array_map_meta_equal().
func metaEqual(t *Spec, m Map) bool {
	s := m.Spec()
	if t.Type != s.Type || t.KeySize != s.KeySize || t.ValueSize != s.ValueSize || t.Flags != s.Flags {
		return false
	}
	if (t.Type == TypeArray || t.Type == TypePercpuArray) && t.Flags&FlagInnerMap == 0 {
		return t.MaxEntries == s.MaxEntries
	}
	return true
}

func (m *MapOfMaps) slot(key []byte) int {
	if m.isArray {
		if len(key) < 4 {
			return -1
		}
		i := binary.LittleEndian.Uint32(key)
		if i >= m.spec.MaxEntries {
			return -1
		}
		return int(i)
	}
	if len(key) < int(m.spec.KeySize) {
		return -1
	}
	if i, ok := m.index[string(key[:m.spec.KeySize])]; ok {
		return int(i)
	}
	return -1
}

// Inner returns the map stored under key.
func (m *MapOfMaps) Inner(key []byte) (Map, bool) {
	i := m.slot(key)
	if i < 0 || m.slots[i] == nil {
		return nil, false
	}
	return m.slots[i], true
}

// LookupElem returns the inner map's address (struct bpf_map *), 0 if none.
func (m *MapOfMaps) LookupElem(cpu int, key []byte) uint64 {
	if in, ok := m.Inner(key); ok {
		return in.Addr()
	}
	return 0
}

// UpdateElem is not available to programs.
func (m *MapOfMaps) UpdateElem(cpu int, key, value []byte, flags uint64) error {
	return syscall.EINVAL
}

// DeleteElem is not available to programs.
func (m *MapOfMaps) DeleteElem(key []byte) error { return syscall.EINVAL }

// SetInner stores inner under key: for arrays flags must be BPF_ANY and an
// index out of range is E2BIG; for hashes the hash flags apply. An inner map
// that does not match the template is EINVAL.
func (m *MapOfMaps) SetInner(key []byte, inner Map, flags uint64) error {
	if err := m.sysWrite(flags); err != nil {
		return err
	}
	if m.isArray {
		if flags != Any {
			return syscall.EINVAL
		}
		if len(key) < 4 || binary.LittleEndian.Uint32(key) >= m.spec.MaxEntries {
			return syscall.E2BIG
		}
	} else if flags > Exist {
		return syscall.EINVAL
	}
	if inner == nil || inner.Refs() == 0 {
		return syscall.EBADF
	}
	if !metaEqual(m.spec.Inner, inner) {
		return syscall.EINVAL
	}
	i := m.slot(key)
	if !m.isArray {
		if err := checkFlags(i >= 0, flags); err != nil {
			return err
		}
		if i < 0 {
			if len(m.index) >= int(m.spec.MaxEntries) {
				return syscall.E2BIG
			}
			i = len(m.slots)
			k := string(key[:m.spec.KeySize])
			m.slots = append(m.slots, nil)
			m.keys = append(m.keys, k)
			m.index[k] = int32(i)
		}
	}
	inner.Get()
	if old := m.slots[i]; old != nil {
		old.Put()
	}
	m.slots[i] = inner
	return nil
}

// Update stores the inner map whose id is the u32 value.
func (m *MapOfMaps) Update(key, value []byte, flags uint64) error {
	if len(value) < 4 {
		return syscall.EINVAL
	}
	in, ok := m.reg.ByID(binary.LittleEndian.Uint32(value))
	if !ok {
		if err := m.sysWrite(flags); err != nil {
			return err
		}
		return syscall.EBADF
	}
	return m.SetInner(key, in, flags)
}

// Lookup stores the inner map's id into value (ENOENT if none).
func (m *MapOfMaps) Lookup(key, value []byte, flags uint64) error {
	if err := m.sysRead(flags); err != nil {
		return err
	}
	if len(value) < 4 {
		return syscall.EINVAL
	}
	in, ok := m.Inner(key)
	if !ok {
		return syscall.ENOENT
	}
	binary.LittleEndian.PutUint32(value, in.ID())
	return nil
}

// Delete removes the inner map under key: for arrays E2BIG out of range,
// ENOENT if empty; for hashes ENOENT if absent.
func (m *MapOfMaps) Delete(key []byte) error {
	if err := m.sysWrite(0); err != nil {
		return err
	}
	if m.isArray && (len(key) < 4 || binary.LittleEndian.Uint32(key) >= m.spec.MaxEntries) {
		return syscall.E2BIG
	}
	i := m.slot(key)
	if i < 0 || m.slots[i] == nil {
		return syscall.ENOENT
	}
	old := m.slots[i]
	m.slots[i] = nil
	if !m.isArray {
		delete(m.index, m.keys[i])
		m.dead++
		if m.dead >= 32 && m.dead >= len(m.slots)/2 {
			m.compact()
		}
	}
	old.Put()
	return nil
}

func (m *MapOfMaps) compact() {
	j := 0
	for i, s := range m.slots {
		if s != nil {
			m.slots[j], m.keys[j] = s, m.keys[i]
			m.index[m.keys[j]] = int32(j)
			j++
		}
	}
	clear(m.slots[j:])
	m.slots, m.keys, m.dead = m.slots[:j], m.keys[:j], 0
}

// NextKey walks indices (arrays) or insertion order (hashes).
func (m *MapOfMaps) NextKey(key, next []byte) error {
	if m.isArray {
		return arrayNextKey(&m.spec, key, next)
	}
	if len(next) < int(m.spec.KeySize) {
		return syscall.EINVAL
	}
	start := 0
	if key != nil {
		if i := m.slot(key); i >= 0 {
			start = i + 1
		}
	}
	for i := start; i < len(m.slots); i++ {
		if m.slots[i] != nil {
			copy(next, m.keys[i])
			return nil
		}
	}
	return syscall.ENOENT
}
