// Package maps implements the BPF map types sched_ext schedulers use, with
// the kernel's semantics, flags and error codes (kernel/bpf/arraymap.c,
// hashtab.c, bpf_local_storage.c, queue_stack_maps.c, ringbuf.c,
// map_in_map.c and the checks of syscall.c).
//
// Map values live in regions of a vm.Memory, so the addresses that lookups
// return can be loaded from and stored to by programs. Every Map offers two
// families of operations:
//
//   - program-side (LookupElem, UpdateElem, DeleteElem, ...), called by the
//     BPF helpers with keys and values read from program memory; lookups
//     return VM addresses (0 is NULL), per-CPU maps resolve the caller's CPU;
//   - user-side (Lookup, Update, Delete, NextKey, ...), the bpf(2) syscall's
//     copy-in/copy-out semantics, per-CPU values as one buffer holding every
//     CPU's copy (each rounded up to 8 bytes).
//
// Errors are syscall.Errno values (ENOENT, EEXIST, E2BIG, EINVAL, ...), the
// kernel's. Iteration order is deterministic: arrays by index, hash maps in
// insertion order.
package maps

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/vm"
)

// Map types (enum bpf_map_type).
const (
	TypeHash           uint32 = 1
	TypeArray          uint32 = 2
	TypeProgArray      uint32 = 3
	TypePerfEventArray uint32 = 4
	TypePercpuHash     uint32 = 5
	TypePercpuArray    uint32 = 6
	TypeLRUHash        uint32 = 9
	TypeLRUPercpuHash  uint32 = 10
	TypeArrayOfMaps    uint32 = 12
	TypeHashOfMaps     uint32 = 13
	TypeQueue          uint32 = 22
	TypeStack          uint32 = 23
	TypeRingBuf        uint32 = 27
	TypeTaskStorage    uint32 = 29
	TypeUserRingBuf    uint32 = 31
	TypeCgrpStorage    uint32 = 32
	TypeArena          uint32 = 33
)

// Map creation flags (BPF_F_* of map_flags).
const (
	FlagNoPrealloc    uint32 = 1 << 0
	FlagNoCommonLRU   uint32 = 1 << 1
	FlagNumaNode      uint32 = 1 << 2
	FlagRdonly        uint32 = 1 << 3
	FlagWronly        uint32 = 1 << 4
	FlagStackBuildID  uint32 = 1 << 5
	FlagZeroSeed      uint32 = 1 << 6
	FlagRdonlyProg    uint32 = 1 << 7
	FlagWronlyProg    uint32 = 1 << 8
	FlagClone         uint32 = 1 << 9
	FlagMmapable      uint32 = 1 << 10
	FlagPreserveElems uint32 = 1 << 11
	FlagInnerMap      uint32 = 1 << 12

	flagAccessMask = FlagRdonly | FlagRdonlyProg | FlagWronly | FlagWronlyProg
)

// Element operation flags.
const (
	Any     uint64 = 0 // BPF_ANY: create or update
	NoExist uint64 = 1 // BPF_NOEXIST: create only
	Exist   uint64 = 2 // BPF_EXIST: update only
	Lock    uint64 = 4 // BPF_F_LOCK: update under the value's bpf_spin_lock

	// LocalStorageCreate is BPF_LOCAL_STORAGE_GET_F_CREATE.
	LocalStorageCreate uint64 = 1
)

// ENOTSUPP is the kernel-internal "operation not supported" errno (524) that
// several map operations return to user space.
const ENOTSUPP = syscall.Errno(524)

// Kernel size limits the create-time checks use.
const (
	kmallocMaxSize   = 4 << 20 // KMALLOC_MAX_SIZE on x86-64
	pcpuMinUnitSize  = 32 << 10
	htabElemOverhead = 48 // sizeof(struct htab_elem)
	// LocalStorageMaxValueSize is BPF_LOCAL_STORAGE_MAX_VALUE_SIZE on x86-64.
	LocalStorageMaxValueSize = 65535 - 128
)

// Spec describes a map to create, as a BTF map definition does.
type Spec struct {
	Name       string
	Type       uint32 // TypeArray, TypeHash, ...
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	MapExtra   uint64
	// Inner is the template of the maps an array/hash of maps holds.
	Inner *Spec
	// Key and Value are the BTF types, if known. Value locates the special
	// fields (bpf_spin_lock, bpf_timer, kptrs, ...).
	Key, Value btf.Type
}

// Map is one BPF map. Implementations in this package embed *Base.
type Map interface {
	// Spec is the map's definition (do not modify it).
	Spec() *Spec
	// Addr is the struct bpf_map * value programs hold for this map.
	Addr() uint64
	// ID is the map id, unique within the map's Registry.
	ID() uint32
	// Fields are the special fields of a value.
	Fields() []Field
	// NumCPU is the number of per-CPU copies of a value (1 unless per-CPU).
	NumCPU() int

	// LookupElem returns the address of the value for key on cpu, or 0.
	LookupElem(cpu int, key []byte) uint64
	// UpdateElem is bpf_map_update_elem from a program running on cpu.
	UpdateElem(cpu int, key, value []byte, flags uint64) error
	// DeleteElem is bpf_map_delete_elem from a program.
	DeleteElem(key []byte) error

	// Lookup copies the value for key into value (BPF_MAP_LOOKUP_ELEM).
	Lookup(key, value []byte, flags uint64) error
	// Update stores value under key (BPF_MAP_UPDATE_ELEM).
	Update(key, value []byte, flags uint64) error
	// Delete removes key (BPF_MAP_DELETE_ELEM).
	Delete(key []byte) error
	// LookupAndDelete is BPF_MAP_LOOKUP_AND_DELETE_ELEM.
	LookupAndDelete(key, value []byte, flags uint64) error
	// NextKey stores the key after key (the first key if key is nil or
	// absent) into next (BPF_MAP_GET_NEXT_KEY); ENOENT at the end.
	NextKey(key, next []byte) error
	// Freeze makes the map read-only for user space (BPF_MAP_FREEZE).
	Freeze() error

	// Get takes a reference; Put drops one and releases the map (its
	// regions, the objects its values hold) when none are left.
	Get()
	Put()
	Refs() int

	base() *Base
}

// PercpuMap is implemented by per-CPU maps.
type PercpuMap interface {
	Map
	// LookupPercpuElem is bpf_map_lookup_percpu_elem: the value of key in
	// cpu's copy, 0 if absent or cpu is out of range.
	LookupPercpuElem(key []byte, cpu int) uint64
}

// QueueMap is implemented by queue and stack maps.
type QueueMap interface {
	Map
	PushElem(value []byte, flags uint64) error
	PopElem(value []byte) error
	PeekElem(value []byte) error
}

// IterMap is implemented by maps bpf_for_each_map_elem can walk.
type IterMap interface {
	Map
	// ForEach calls fn with the VM addresses of each element's key and
	// value (cpu's copy for per-CPU maps) in iteration order until fn
	// returns stop or an error. It returns the number of calls made.
	ForEach(cpu int, fn func(key, value uint64) (stop bool, err error)) (int, error)
}

// KeyAddresser is implemented by maps whose values can hold a bpf_timer:
// the timer callback receives the element's key address.
type KeyAddresser interface {
	Map
	// KeyAddr returns the VM address of the key of the element whose value
	// starts at valueAddr.
	KeyAddr(valueAddr uint64) (uint64, bool)
}

// ErrUnsupportedType is returned (wrapping EINVAL) for map types this
// package does not build.
var ErrUnsupportedType = errors.New("unsupported map type")

// Constructor builds a map of a type registered with RegisterType.
type Constructor func(mem *vm.Memory, spec *Spec, nCPU int) (Map, error)

var constructors = map[uint32]Constructor{}

// RegisterType makes New build maps of type typ with ctor. Packages that
// own a map type (bpf/arena) call it from an init function.
func RegisterType(typ uint32, ctor Constructor) { constructors[typ] = ctor }

// New creates a map in mem after the kernel's create-time checks, registers
// it in RegistryOf(mem) and returns it holding one reference. nCPU is the
// number of possible CPUs, the number of copies of a per-CPU value.
func New(mem *vm.Memory, spec *Spec, nCPU int) (Map, error) {
	if nCPU < 1 {
		nCPU = 1
	}
	if !accessFlagsOK(spec.Flags) {
		return nil, createErr(spec, syscall.EINVAL)
	}
	var (
		m   Map
		err error
	)
	switch spec.Type {
	case TypeArray, TypePercpuArray:
		m, err = newArray(mem, spec, nCPU)
	case TypeHash, TypePercpuHash, TypeLRUHash, TypeLRUPercpuHash:
		m, err = newHash(mem, spec, nCPU)
	case TypeArrayOfMaps, TypeHashOfMaps:
		m, err = newMapOfMaps(mem, spec, nCPU)
	case TypePerfEventArray:
		m, err = newPerfEventArray(mem, spec, nCPU)
	case TypeQueue, TypeStack:
		m, err = newQueue(mem, spec, nCPU)
	case TypeRingBuf, TypeUserRingBuf:
		m, err = newRingBuf(mem, spec, nCPU)
	case TypeTaskStorage, TypeCgrpStorage:
		m, err = newLocalStorage(mem, spec, nCPU)
	default:
		ctor, ok := constructors[spec.Type]
		if !ok {
			return nil, fmt.Errorf("map %s: %w %d: %w", spec.Name, ErrUnsupportedType, spec.Type, syscall.EINVAL)
		}
		m, err = ctor(mem, spec, nCPU)
	}
	if err != nil {
		if en, ok := err.(syscall.Errno); ok {
			return nil, createErr(spec, en)
		}
		return nil, err
	}
	return m, nil
}

func createErr(spec *Spec, en syscall.Errno) error {
	return &CreateError{Name: spec.Name, Type: spec.Type, Errno: en}
}

// CreateError reports a map the kernel would refuse to create.
type CreateError struct {
	Name  string
	Type  uint32
	Errno syscall.Errno
}

func (e *CreateError) Error() string {
	return fmt.Sprintf("map create: %s (type %d): %v", e.Name, e.Type, e.Errno)
}

// Unwrap returns the errno.
func (e *CreateError) Unwrap() error { return e.Errno }

// accessFlagsOK mirrors bpf_map_flags_access_ok().
func accessFlagsOK(f uint32) bool {
	return f&(FlagRdonlyProg|FlagWronlyProg) != FlagRdonlyProg|FlagWronlyProg
}

// ValueBufSize is the size of the user-side value buffer of m: the value
// size, or for per-CPU maps one 8-byte-rounded copy per CPU (as
// bpf_map_value_size()), or 4 for maps holding map ids / fds.
func ValueBufSize(m Map) int {
	s := m.Spec()
	if n := m.NumCPU(); n > 1 || isPercpu(s.Type) {
		return int(round8(s.ValueSize)) * n
	}
	return int(s.ValueSize)
}

func isPercpu(t uint32) bool {
	return t == TypePercpuArray || t == TypePercpuHash || t == TypeLRUPercpuHash
}

func round8(n uint32) uint32 { return (n + 7) &^ 7 }
