package maps

import (
	"encoding/binary"
	"slices"
	"sync"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// HeaderSize is the size of the read-only region whose address is a map's
// struct bpf_map * (Addr). The kernel layer may fill it to match the layout
// its BTF gives struct bpf_map.
const HeaderSize = 256

// FieldReleaser frees what a special field refers to when a map drops a
// value (delete, overwrite, map release): it cancels a bpf_timer, releases
// the object a kptr holds, and so on. The helpers runtime implements it;
// without one, such fields are just zeroed.
type FieldReleaser interface {
	// FreeField is called with the field and its VM address, before the
	// map zeroes the field.
	FreeField(m Map, f Field, addr uint64)
}

// Registry resolves map addresses and ids of one vm.Memory back to maps.
type Registry struct {
	byAddr   map[uint64]Map
	byID     map[uint32]Map
	nextID   uint32
	releaser FieldReleaser
	ringbufs map[vm.RegionID]*RingBuf
	storages []*LocalStorage // in id order
}

var (
	regMu      sync.Mutex
	registries = map[*vm.Memory]*Registry{}
)

// RegistryOf returns the registry of maps created in mem, creating it on
// first use. The registry is forgotten when its last map is released.
func RegistryOf(mem *vm.Memory) *Registry {
	regMu.Lock()
	defer regMu.Unlock()
	r := registries[mem]
	if r == nil {
		r = &Registry{byAddr: map[uint64]Map{}, byID: map[uint32]Map{},
			ringbufs: map[vm.RegionID]*RingBuf{}}
		registries[mem] = r
	}
	return r
}

func dropRegistry(mem *vm.Memory, r *Registry) {
	regMu.Lock()
	defer regMu.Unlock()
	if registries[mem] == r && len(r.byAddr) == 0 {
		delete(registries, mem)
	}
}

// Lookup returns the map whose Addr is addr.
func (r *Registry) Lookup(addr uint64) (Map, bool) {
	m, ok := r.byAddr[addr]
	return m, ok
}

// ByID returns the map with this id.
func (r *Registry) ByID(id uint32) (Map, bool) {
	m, ok := r.byID[id]
	return m, ok
}

// Maps returns the live maps in id order.
func (r *Registry) Maps() []Map {
	out := make([]Map, 0, len(r.byID))
	for _, m := range r.byID {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Map) int { return int(a.ID()) - int(b.ID()) })
	return out
}

// SetReleaser installs the releaser of special fields for every map of the
// registry.
func (r *Registry) SetReleaser(fr FieldReleaser) { r.releaser = fr }

// Base holds what every map has: its spec, header region, id, references,
// special-field layout and access rights. Map implementations embed *Base;
// its default operations return the kernel's "not supported" answers.
type Base struct {
	self   Map
	spec   Spec
	mem    *vm.Memory
	reg    *Registry
	id     uint32
	hdr    vm.RegionID
	addr   uint64
	header []byte
	refs   int
	frozen bool
	ncpu   int
	fields []Field
	segs   []segment
	freed  bool
	// onRelease frees the type's storage when the last reference goes.
	onRelease func()
}

// NewBase sets up the common part of a map of another package (the arena):
// it parses the value's special fields, maps the header region and
// registers self in RegistryOf(mem) with one reference. release runs when
// the last reference is dropped.
func NewBase(mem *vm.Memory, spec *Spec, self Map, nCPU int, release func()) *Base {
	b := &Base{}
	b.init(mem, spec, self, nCPU)
	b.onRelease = release
	return b
}

func (b *Base) init(mem *vm.Memory, spec *Spec, self Map, ncpu int) {
	b.self = self
	b.spec = *spec
	b.mem = mem
	b.ncpu = ncpu
	b.refs = 1
	if b.fields == nil {
		b.fields = parseFields(spec.Value)
	}
	b.segs = copySegments(spec.ValueSize, b.fields)
	b.header = make([]byte, HeaderSize)
	binary.LittleEndian.PutUint32(b.header[0:], spec.Type)
	binary.LittleEndian.PutUint32(b.header[4:], spec.KeySize)
	binary.LittleEndian.PutUint32(b.header[8:], spec.ValueSize)
	binary.LittleEndian.PutUint32(b.header[12:], spec.MaxEntries)
	binary.LittleEndian.PutUint32(b.header[16:], spec.Flags)
	b.hdr, b.addr = mem.Map("map "+spec.Name, b.header, vm.PermRead)
	b.reg = RegistryOf(mem)
	b.reg.nextID++
	b.id = b.reg.nextID
	b.reg.byAddr[b.addr] = self
	b.reg.byID[b.id] = self
}

// prepare parses and checks the special fields before a type allocates.
func (b *Base) prepare(spec *Spec) error {
	b.fields = parseFields(spec.Value)
	return checkFieldsAllowed(spec.Type, b.fields)
}

func (b *Base) base() *Base { return b }

// Spec returns the map's definition.
func (b *Base) Spec() *Spec { return &b.spec }

// Addr is the map's struct bpf_map * address.
func (b *Base) Addr() uint64 { return b.addr }

// Header is the bytes of the header region at Addr (read-only to programs).
func (b *Base) Header() []byte { return b.header }

// ID is the map id.
func (b *Base) ID() uint32 { return b.id }

// Fields returns the special fields of a value.
func (b *Base) Fields() []Field { return b.fields }

// HasField says whether a value has a field of kind k.
func (b *Base) HasField(k FieldKind) bool {
	for _, f := range b.fields {
		if f.Kind == k {
			return true
		}
	}
	return false
}

// NumCPU is the number of copies of a value.
func (b *Base) NumCPU() int {
	if isPercpu(b.spec.Type) {
		return b.ncpu
	}
	return 1
}

// Mem is the address space the map lives in.
func (b *Base) Mem() *vm.Memory { return b.mem }

// Get takes a reference.
func (b *Base) Get() { b.refs++ }

// Refs is the number of references held.
func (b *Base) Refs() int { return b.refs }

// Put drops a reference; the last one releases the map.
func (b *Base) Put() {
	if b.refs <= 0 {
		return
	}
	b.refs--
	if b.refs > 0 || b.freed {
		return
	}
	b.freed = true
	if b.onRelease != nil {
		b.onRelease()
	}
	b.mem.Unmap(b.hdr)
	delete(b.reg.byAddr, b.addr)
	delete(b.reg.byID, b.id)
	dropRegistry(b.mem, b.reg)
}

// Freeze mirrors map_freeze(): maps with special fields cannot be frozen,
// and a frozen map refuses user-space writes.
func (b *Base) Freeze() error {
	if len(b.fields) > 0 {
		return ENOTSUPP
	}
	if b.spec.Flags&FlagRdonly != 0 {
		return syscall.EPERM
	}
	if b.frozen {
		return syscall.EBUSY
	}
	b.frozen = true
	return nil
}

// Frozen reports whether Freeze succeeded.
func (b *Base) Frozen() bool { return b.frozen }

// sysRead checks user-space read access and the lookup flags as
// map_lookup_elem() in syscall.c does.
func (b *Base) sysRead(flags uint64) error {
	if flags&^Lock != 0 {
		return syscall.EINVAL
	}
	if b.spec.Flags&FlagWronly != 0 {
		return syscall.EPERM
	}
	if flags&Lock != 0 && !b.HasField(FieldSpinLock) {
		return syscall.EINVAL
	}
	return nil
}

// sysWrite checks user-space write access (frozen maps and BPF_F_RDONLY
// maps are not writable) and BPF_F_LOCK.
func (b *Base) sysWrite(flags uint64) error {
	if b.frozen || b.spec.Flags&FlagRdonly != 0 {
		return syscall.EPERM
	}
	if flags&Lock != 0 && !b.HasField(FieldSpinLock) {
		return syscall.EINVAL
	}
	return nil
}

// copyValue copies src into dst except the special fields (copy_map_value()).
func (b *Base) copyValue(dst, src []byte) {
	if len(b.fields) == 0 {
		copy(dst[:b.spec.ValueSize], src)
		return
	}
	for _, s := range b.segs {
		copy(dst[s.lo:s.hi], src[s.lo:s.hi])
	}
}

// copyOut copies a value to user space with its special fields zeroed
// (copy_map_value() followed by check_and_init_map_value()).
func (b *Base) copyOut(dst, src []byte) {
	copy(dst[:b.spec.ValueSize], src)
	for _, f := range b.fields {
		clear(dst[f.Offset : f.Offset+f.Size])
	}
}

// freeFields mirrors bpf_obj_free_fields(): it hands every non-empty field
// that owns something to the registry's releaser and zeroes it.
func (b *Base) freeFields(val []byte, addr uint64) {
	for _, f := range b.fields {
		if !f.Kind.needsFree() || int(f.Offset+f.Size) > len(val) {
			continue
		}
		fb := val[f.Offset : f.Offset+f.Size]
		if isZero(fb) {
			continue
		}
		if b.reg.releaser != nil {
			b.reg.releaser.FreeField(b.self, f, addr+uint64(f.Offset))
		}
		clear(fb)
	}
}

func (b *Base) hasFreeable() bool {
	for _, f := range b.fields {
		if f.Kind.needsFree() {
			return true
		}
	}
	return false
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Default operations: what the kernel answers when a map type lacks one.

// LookupElem returns NULL.
func (b *Base) LookupElem(cpu int, key []byte) uint64 { return 0 }

// UpdateElem is not supported.
func (b *Base) UpdateElem(cpu int, key, value []byte, flags uint64) error { return ENOTSUPP }

// DeleteElem is not supported.
func (b *Base) DeleteElem(key []byte) error { return ENOTSUPP }

// Lookup is not supported.
func (b *Base) Lookup(key, value []byte, flags uint64) error { return ENOTSUPP }

// Update is not supported.
func (b *Base) Update(key, value []byte, flags uint64) error { return ENOTSUPP }

// Delete is not supported.
func (b *Base) Delete(key []byte) error { return ENOTSUPP }

// LookupAndDelete is not supported.
func (b *Base) LookupAndDelete(key, value []byte, flags uint64) error { return ENOTSUPP }

// NextKey is not supported.
func (b *Base) NextKey(key, next []byte) error { return ENOTSUPP }

// checkKV validates user buffer sizes: a Go caller passing short buffers
// gets EINVAL rather than a panic.
func (b *Base) checkKV(key, value []byte, valueSize int) error {
	if len(key) < int(b.spec.KeySize) || len(value) < valueSize {
		return syscall.EINVAL
	}
	return nil
}
