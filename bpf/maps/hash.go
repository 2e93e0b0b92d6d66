package maps

import (
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/maps/slab"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Hash is BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH.
//
// Each element is one slab slot laid out as the kernel's struct htab_elem
// data: the key rounded up to 8 bytes, then the value (one 8-byte-rounded
// copy per CPU for per-CPU types). A value keeps its address while its
// element lives; updates of an existing element are done in place.
// Iteration (NextKey, ForEach) follows insertion order.
//
// LRU maps evict the least recently used element when a new one does not
// fit: an exact LRU over program lookups and updates (the kernel's is an
// approximation with per-CPU free lists, which can evict a little earlier).
// With BPF_F_NO_COMMON_LRU each CPU has its own list and an equal share of
// max_entries, elements belonging to the CPU that inserted them (user-space
// inserts count as CPU 0).
type Hash struct {
	*Base
	keyRound uint32
	elem     uint32
	percpu   bool
	lru      bool
	cpuLRU   bool
	copies   int
	slab     *slab.Slab
	index    map[string]int32
	pos      []int32 // slot -> position in order
	order    []int32 // insertion order, -1 = deleted
	dead     int     // tombstones in order
	iter     int     // active ForEach walks (no compaction meanwhile)

	// LRU lists: per list (one, or one per CPU) a head (most recent) and
	// tail, linked through prev/next; owner is a slot's list.
	prev, next []int32
	owner      []int32
	heads      []int32
	tails      []int32
	counts     []int
	capPerList int
}

const htabCreateMask = FlagNoPrealloc | FlagNoCommonLRU | FlagNumaNode | flagAccessMask | FlagZeroSeed

// htabAllocCheck mirrors htab_map_alloc_check().
func htabAllocCheck(s *Spec) error {
	lru := s.Type == TypeLRUHash || s.Type == TypeLRUPercpuHash
	percpu := s.Type == TypePercpuHash || s.Type == TypeLRUPercpuHash
	percpuLRU := s.Flags&FlagNoCommonLRU != 0
	prealloc := s.Flags&FlagNoPrealloc == 0
	if s.Flags&^htabCreateMask != 0 {
		return syscall.EINVAL
	}
	if !lru && percpuLRU {
		return syscall.EINVAL
	}
	if lru && !prealloc {
		return ENOTSUPP
	}
	if s.Flags&FlagNumaNode != 0 && (percpu || percpuLRU) {
		return syscall.EINVAL
	}
	if s.MaxEntries == 0 || s.KeySize == 0 || s.ValueSize == 0 {
		return syscall.EINVAL
	}
	if uint64(s.KeySize)+uint64(s.ValueSize) >= kmallocMaxSize-htabElemOverhead {
		return syscall.E2BIG
	}
	if percpu && round8(s.ValueSize) > pcpuMinUnitSize {
		return syscall.E2BIG
	}
	return nil
}

func newHash(mem *vm.Memory, spec *Spec, ncpu int) (Map, error) {
	if err := htabAllocCheck(spec); err != nil {
		return nil, err
	}
	s := *spec
	h := &Hash{Base: &Base{}, keyRound: round8(s.KeySize), elem: round8(s.ValueSize),
		percpu: s.Type == TypePercpuHash || s.Type == TypeLRUPercpuHash,
		lru:    s.Type == TypeLRUHash || s.Type == TypeLRUPercpuHash,
		cpuLRU: s.Flags&FlagNoCommonLRU != 0, copies: 1, index: map[string]int32{}}
	if err := h.prepare(&s); err != nil {
		return nil, err
	}
	if h.cpuLRU {
		// htab_map_alloc(): max_entries becomes a multiple of the CPU count.
		n := uint64(s.MaxEntries+uint32(ncpu)-1) / uint64(ncpu) * uint64(ncpu)
		if n > 1<<32-1 {
			n = uint64(s.MaxEntries) / uint64(ncpu) * uint64(ncpu)
		}
		s.MaxEntries = uint32(n)
	}
	if s.MaxEntries > 1<<31 {
		return nil, syscall.E2BIG
	}
	if h.percpu {
		h.copies = ncpu
	}
	slot := int(h.keyRound) + int(h.elem)*h.copies
	if slot > maxRegion {
		return nil, syscall.ENOMEM
	}
	h.init(mem, &s, h, ncpu)
	h.slab = slab.New(mem, "map "+s.Name+" elems", slot, int(s.MaxEntries), progPerm(s.Flags))
	lists := 1
	if h.cpuLRU {
		lists = ncpu
	}
	h.capPerList = int(s.MaxEntries) / lists
	if h.lru {
		h.heads = make([]int32, lists)
		h.tails = make([]int32, lists)
		h.counts = make([]int, lists)
		for i := range lists {
			h.heads[i], h.tails[i] = -1, -1
		}
	}
	h.onRelease = h.release
	return h, nil
}

func (h *Hash) release() {
	if h.hasFreeable() {
		for _, idx := range h.order {
			if idx >= 0 {
				h.freeSlotFields(idx)
			}
		}
	}
	h.slab.Release()
	h.index = nil
	h.order = nil
}

// Len is the number of elements.
func (h *Hash) Len() int { return len(h.index) }

func (h *Hash) keyBytes(idx int32) []byte {
	return h.slab.Bytes(idx)[:h.spec.KeySize]
}

func (h *Hash) valueBytes(idx int32, cpu int) []byte {
	off := int(h.keyRound) + cpu*int(h.elem)
	return h.slab.Bytes(idx)[off : off+int(h.elem)]
}

func (h *Hash) valueAddr(idx int32, cpu int) uint64 {
	return h.slab.Addr(idx) + uint64(h.keyRound) + uint64(cpu)*uint64(h.elem)
}

func (h *Hash) find(key []byte) int32 {
	if len(key) < int(h.spec.KeySize) {
		return -1
	}
	if idx, ok := h.index[string(key[:h.spec.KeySize])]; ok {
		return idx
	}
	return -1
}

// LookupElem returns the element's value (cpu's copy for per-CPU maps); for
// LRU maps the element becomes the most recently used.
func (h *Hash) LookupElem(cpu int, key []byte) uint64 {
	idx := h.find(key)
	if idx < 0 {
		return 0
	}
	if h.lru {
		h.touch(idx)
	}
	if !h.percpu {
		return h.valueAddr(idx, 0)
	}
	if cpu < 0 || cpu >= h.copies {
		return 0
	}
	return h.valueAddr(idx, cpu)
}

// LookupPercpuElem mirrors htab_percpu_map_lookup_percpu_elem().
func (h *Hash) LookupPercpuElem(key []byte, cpu int) uint64 {
	if !h.percpu || cpu < 0 || cpu >= h.copies {
		return 0
	}
	idx := h.find(key)
	if idx < 0 {
		return 0
	}
	if h.lru {
		h.touch(idx)
	}
	return h.valueAddr(idx, cpu)
}

// checkFlags mirrors check_flags() of hashtab.c.
func checkFlags(exists bool, flags uint64) error {
	switch f := flags &^ Lock; {
	case exists && f == NoExist:
		return syscall.EEXIST
	case !exists && f == Exist:
		return syscall.ENOENT
	}
	return nil
}

// UpdateElem mirrors htab_map_update_elem(), htab_percpu_map_update_elem()
// and htab_lru_map_update_elem() for a program on cpu: a per-CPU value
// stores cpu's copy (a new element's other copies are zeroed).
func (h *Hash) UpdateElem(cpu int, key, value []byte, flags uint64) error {
	return h.update(cpu, key, value, flags, false)
}

func (h *Hash) update(cpu int, key, value []byte, flags uint64, allCPUs bool) error {
	if h.percpu || h.lru {
		if flags > Exist {
			return syscall.EINVAL
		}
	} else if flags&^Lock > Exist {
		return syscall.EINVAL
	}
	if flags&Lock != 0 && !h.HasField(FieldSpinLock) {
		return syscall.EINVAL
	}
	if len(key) < int(h.spec.KeySize) {
		return syscall.EINVAL
	}
	if h.percpu && !allCPUs && (cpu < 0 || cpu >= h.copies) {
		return syscall.EINVAL
	}
	idx := h.find(key)
	if err := checkFlags(idx >= 0, flags); err != nil {
		return err
	}
	if idx >= 0 {
		if h.lru {
			h.touch(idx)
		}
		h.store(idx, cpu, value, allCPUs, flags&Lock == 0, false)
		return nil
	}
	idx, err := h.alloc(cpu)
	if err != nil {
		return err
	}
	copy(h.slab.Bytes(idx), key[:h.spec.KeySize])
	h.index[string(key[:h.spec.KeySize])] = idx
	h.link(idx)
	h.store(idx, cpu, value, allCPUs, false, true)
	return nil
}

// store writes value into element idx. free says to release the special
// fields of the old value (a replacing update); fresh elements are zero.
func (h *Hash) store(idx int32, cpu int, value []byte, allCPUs, free, fresh bool) {
	if !h.percpu {
		v := h.valueBytes(idx, 0)
		h.copyValue(v, value)
		if free {
			h.freeFields(v, h.valueAddr(idx, 0))
		}
		return
	}
	for c := range h.copies {
		v := h.valueBytes(idx, c)
		switch {
		case allCPUs:
			h.copyValue(v, value[c*int(h.elem):])
		case c == cpu:
			h.copyValue(v, value)
		case fresh:
			clear(v)
		default:
			continue
		}
		if free {
			h.freeFields(v, h.valueAddr(idx, c))
		}
	}
}

// alloc takes a free element, evicting for LRU maps; E2BIG when a plain
// hash map is full, as alloc_htab_elem() returns.
func (h *Hash) alloc(cpu int) (int32, error) {
	if h.lru {
		l := h.list(cpu)
		if h.counts[l] >= h.capPerList {
			victim := h.tails[l]
			if victim < 0 {
				return -1, syscall.ENOMEM
			}
			h.remove(victim)
		}
		idx, ok := h.slab.Alloc()
		if !ok {
			return -1, syscall.ENOMEM
		}
		h.grow(idx)
		h.owner[idx] = int32(l)
		h.pushFront(idx)
		return idx, nil
	}
	if len(h.index) >= int(h.spec.MaxEntries) {
		return -1, syscall.E2BIG
	}
	idx, ok := h.slab.Alloc()
	if !ok {
		return -1, syscall.E2BIG
	}
	h.grow(idx)
	return idx, nil
}

func (h *Hash) grow(idx int32) {
	for int(idx) >= len(h.pos) {
		h.pos = append(h.pos, -1)
		if h.lru {
			h.prev = append(h.prev, -1)
			h.next = append(h.next, -1)
			h.owner = append(h.owner, 0)
		}
	}
}

func (h *Hash) list(cpu int) int {
	if !h.cpuLRU || cpu < 0 || cpu >= len(h.heads) {
		return 0
	}
	return cpu
}

func (h *Hash) pushFront(idx int32) {
	l := h.owner[idx]
	h.prev[idx] = -1
	h.next[idx] = h.heads[l]
	if h.heads[l] >= 0 {
		h.prev[h.heads[l]] = idx
	}
	h.heads[l] = idx
	if h.tails[l] < 0 {
		h.tails[l] = idx
	}
	h.counts[l]++
}

func (h *Hash) unlinkLRU(idx int32) {
	l := h.owner[idx]
	p, n := h.prev[idx], h.next[idx]
	if p >= 0 {
		h.next[p] = n
	} else {
		h.heads[l] = n
	}
	if n >= 0 {
		h.prev[n] = p
	} else {
		h.tails[l] = p
	}
	h.prev[idx], h.next[idx] = -1, -1
	h.counts[l]--
}

// touch makes idx the most recently used element of its list.
func (h *Hash) touch(idx int32) {
	if h.heads[h.owner[idx]] == idx {
		return
	}
	h.unlinkLRU(idx)
	h.pushFront(idx)
}

// link appends idx to the iteration order.
func (h *Hash) link(idx int32) {
	h.pos[idx] = int32(len(h.order))
	h.order = append(h.order, idx)
}

// remove deletes element idx: frees its fields and slot.
func (h *Hash) remove(idx int32) {
	h.freeSlotFields(idx)
	delete(h.index, string(h.keyBytes(idx)))
	h.order[h.pos[idx]] = -1
	h.pos[idx] = -1
	h.dead++
	if h.lru {
		h.unlinkLRU(idx)
	}
	h.slab.Free(idx)
	h.compact()
}

func (h *Hash) freeSlotFields(idx int32) {
	if len(h.fields) == 0 {
		return
	}
	for c := range h.copies {
		h.freeFields(h.valueBytes(idx, c), h.valueAddr(idx, c))
	}
}

// compact drops tombstones from the order once they dominate it.
func (h *Hash) compact() {
	if h.iter > 0 || h.dead < 32 || h.dead < len(h.order)/2 {
		return
	}
	j := 0
	for _, idx := range h.order {
		if idx >= 0 {
			h.order[j] = idx
			h.pos[idx] = int32(j)
			j++
		}
	}
	clear(h.order[j:])
	h.order = h.order[:j]
	h.dead = 0
}

// DeleteElem mirrors htab_map_delete_elem(): ENOENT if absent.
func (h *Hash) DeleteElem(key []byte) error {
	idx := h.find(key)
	if idx < 0 {
		return syscall.ENOENT
	}
	h.remove(idx)
	return nil
}

// Lookup copies an element's value (every CPU's copy for per-CPU maps) and
// does not count as a use for LRU.
func (h *Hash) Lookup(key, value []byte, flags uint64) error {
	if err := h.sysRead(flags); err != nil {
		return err
	}
	if err := h.checkKV(key, value, ValueBufSize(h)); err != nil {
		return err
	}
	idx := h.find(key)
	if idx < 0 {
		return syscall.ENOENT
	}
	h.copyOutElem(idx, value)
	return nil
}

func (h *Hash) copyOutElem(idx int32, value []byte) {
	for c := range h.copies {
		h.copyOut(value[c*int(h.elem):], h.valueBytes(idx, c))
	}
}

// Update stores a value from user space (every CPU's copy for per-CPU maps).
func (h *Hash) Update(key, value []byte, flags uint64) error {
	if err := h.sysWrite(flags); err != nil {
		return err
	}
	if err := h.checkKV(key, value, ValueBufSize(h)); err != nil {
		return err
	}
	return h.update(0, key, value, flags, h.percpu)
}

// Delete removes an element from user space.
func (h *Hash) Delete(key []byte) error {
	if err := h.sysWrite(0); err != nil {
		return err
	}
	return h.DeleteElem(key)
}

// LookupAndDelete mirrors __htab_map_lookup_and_delete_elem().
func (h *Hash) LookupAndDelete(key, value []byte, flags uint64) error {
	if err := h.sysWrite(0); err != nil {
		return err
	}
	if flags&^Lock != 0 || flags&Lock != 0 && !h.HasField(FieldSpinLock) {
		return syscall.EINVAL
	}
	if err := h.checkKV(key, value, ValueBufSize(h)); err != nil {
		return err
	}
	idx := h.find(key)
	if idx < 0 {
		return syscall.ENOENT
	}
	h.copyOutElem(idx, value)
	h.remove(idx)
	return nil
}

// NextKey mirrors htab_map_get_next_key() with insertion order: an absent
// or nil key yields the first key.
func (h *Hash) NextKey(key, next []byte) error {
	if h.spec.Flags&FlagWronly != 0 {
		return syscall.EPERM
	}
	if len(next) < int(h.spec.KeySize) {
		return syscall.EINVAL
	}
	start := 0
	if key != nil {
		if idx := h.find(key); idx >= 0 {
			start = int(h.pos[idx]) + 1
		}
	}
	for i := start; i < len(h.order); i++ {
		if idx := h.order[i]; idx >= 0 {
			copy(next, h.keyBytes(idx))
			return nil
		}
	}
	return syscall.ENOENT
}

// ForEach mirrors bpf_for_each_hash_elem(). Elements added by fn are not
// visited; elements fn deletes before they are reached are skipped.
func (h *Hash) ForEach(cpu int, fn func(key, value uint64) (bool, error)) (int, error) {
	if h.percpu && (cpu < 0 || cpu >= h.copies) {
		return 0, nil
	}
	if !h.percpu {
		cpu = 0
	}
	h.iter++
	defer func() { h.iter--; h.compact() }()
	n := 0
	end := len(h.order)
	for i := 0; i < end; i++ {
		idx := h.order[i]
		if idx < 0 {
			continue
		}
		n++
		stop, err := fn(h.slab.Addr(idx), h.valueAddr(idx, cpu))
		if err != nil || stop {
			return n, err
		}
	}
	return n, nil
}

// KeyAddr returns value - round_up(key_size, 8), as bpf_timer_cb() does.
func (h *Hash) KeyAddr(valueAddr uint64) (uint64, bool) {
	idx, off, ok := h.slab.Index(valueAddr)
	if !ok || h.pos[idx] < 0 || off != int(h.keyRound) {
		return 0, false
	}
	return valueAddr - uint64(h.keyRound), true
}

// String describes the map for debugging.
func (h *Hash) String() string {
	return fmt.Sprintf("hash %s (%d/%d)", h.spec.Name, len(h.index), h.spec.MaxEntries)
}
