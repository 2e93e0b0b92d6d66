package maps

import (
	"encoding/binary"
	"errors"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// Ring buffer record header bits and sizes (include/uapi/linux/bpf.h).
const (
	RingBusyBit    uint32 = 1 << 31
	RingDiscardBit uint32 = 1 << 30
	RingHdrSize           = 8
	ringMaxRecord         = 1<<32/4 - 1 // RINGBUF_MAX_RECORD_SZ
	// MaxUserRingBufSamples is BPF_MAX_USER_RINGBUF_SAMPLES.
	MaxUserRingBufSamples = 128 * 1024
	// DynptrMaxSize is DYNPTR_MAX_SIZE.
	DynptrMaxSize = 1<<24 - 1
)

// bpf_ringbuf_query() flags.
const (
	RingAvailData = 0
	RingRingSize  = 1
	RingConsPos   = 2
	RingProdPos   = 3
)

// RingBuf is BPF_MAP_TYPE_RINGBUF (programs produce, Go consumes) and
// BPF_MAP_TYPE_USER_RINGBUF (Go produces, programs drain). Mirrors
// kernel/bpf/ringbuf.c.
//
// The data area is one region twice the ring size: the kernel maps the data
// pages twice in a row so that a record crossing the end stays contiguous,
// and records here are likewise used contiguously from their start offset.
type RingBuf struct {
	*Base
	user     bool
	mask     uint64
	data     []byte
	id       vm.RegionID
	dataBase uint64
	cons     uint64
	prod     uint64
	pending  uint64
	busy     bool
	// dynptr is a 16-byte region holding the struct bpf_dynptr_kern a
	// user ring buffer drain callback receives.
	dynptr     []byte
	dynptrAddr uint64
	dynptrID   vm.RegionID
	// Notify, if set, is called after a record is committed without
	// BPF_RB_NO_WAKEUP (the consumer's epoll wakeup).
	Notify func()
}

func newRingBuf(mem *vm.Memory, spec *Spec, ncpu int) (Map, error) {
	// ringbuf_map_alloc()
	if spec.Flags&^FlagNumaNode != 0 {
		return nil, syscall.EINVAL
	}
	n := spec.MaxEntries
	if spec.KeySize != 0 || spec.ValueSize != 0 || n == 0 || n&(n-1) != 0 || n%vm.PageSize != 0 {
		return nil, syscall.EINVAL
	}
	if 2*uint64(n) > maxRegion {
		return nil, syscall.ENOMEM
	}
	r := &RingBuf{Base: &Base{}, user: spec.Type == TypeUserRingBuf, mask: uint64(n) - 1}
	r.data = make([]byte, 2*int(n))
	r.init(mem, spec, r, ncpu)
	r.id, r.dataBase = mem.Map("ringbuf "+spec.Name, r.data, vm.PermRW)
	r.reg.ringbufs[r.id] = r
	if r.user {
		r.dynptr = make([]byte, 16)
		r.dynptrID, r.dynptrAddr = mem.Map("ringbuf "+spec.Name+" dynptr", r.dynptr, vm.PermRead)
	}
	r.onRelease = func() {
		delete(r.reg.ringbufs, r.id)
		mem.Unmap(r.id)
		if r.user {
			mem.Unmap(r.dynptrID)
		}
	}
	return r, nil
}

// Size is the data size in bytes (max_entries).
func (r *RingBuf) Size() uint64 { return r.mask + 1 }

// Positions returns the consumer and producer positions.
func (r *RingBuf) Positions() (cons, prod uint64) { return r.cons, r.prod }

// User says whether this is a user ring buffer.
func (r *RingBuf) User() bool { return r.user }

func (r *RingBuf) hdr(pos uint64) []byte {
	o := pos & r.mask
	return r.data[o : o+RingHdrSize]
}

// Lookup etc. are not supported on ring buffers (ringbuf_map_*_elem()).
func (r *RingBuf) Lookup(key, value []byte, flags uint64) error { return ENOTSUPP }

// Reserve mirrors __bpf_ringbuf_reserve(): the VM address of a new record's
// sample of size bytes, or 0 when it does not fit.
func (r *RingBuf) Reserve(size uint64) uint64 {
	if r.user || size > ringMaxRecord {
		return 0
	}
	l := (size + RingHdrSize + 7) &^ 7
	if l > r.Size() {
		return 0
	}
	for r.pending < r.prod {
		hl := binary.LittleEndian.Uint32(r.hdr(r.pending))
		if hl&RingBusyBit != 0 {
			break
		}
		r.pending += (uint64(hl&^RingDiscardBit) + RingHdrSize + 7) &^ 7
	}
	np := r.prod + l
	if np-r.cons > r.mask || np-r.pending > r.mask {
		return 0
	}
	h := r.hdr(r.prod)
	binary.LittleEndian.PutUint32(h, uint32(size)|RingBusyBit)
	binary.LittleEndian.PutUint32(h[4:], uint32((r.prod&r.mask)/vm.PageSize))
	addr := r.dataBase + r.prod&r.mask + RingHdrSize
	r.prod = np
	return addr
}

// ErrBadSample is returned when a submit or discard names no reserved record.
var ErrBadSample = errors.New("not a reserved ring buffer sample")

// Commit mirrors bpf_ringbuf_commit(): it submits (or discards) the record
// whose sample starts at addr. flags are BPF_RB_NO_WAKEUP/FORCE_WAKEUP.
func (r *RingBuf) Commit(addr uint64, flags uint64, discard bool) error {
	if addr < r.dataBase+RingHdrSize || addr-r.dataBase-RingHdrSize > r.mask {
		return ErrBadSample
	}
	h := r.data[addr-r.dataBase-RingHdrSize:]
	hl := binary.LittleEndian.Uint32(h)
	if hl&RingBusyBit == 0 {
		return ErrBadSample
	}
	hl &^= RingBusyBit
	if discard {
		hl |= RingDiscardBit
	}
	binary.LittleEndian.PutUint32(h, hl)
	if r.Notify != nil && (flags&1 == 0 || flags&2 != 0) {
		r.Notify()
	}
	return nil
}

// SampleSize returns the size of the reserved sample at addr.
func (r *RingBuf) SampleSize(addr uint64) (uint32, bool) {
	if addr < r.dataBase+RingHdrSize || addr-r.dataBase-RingHdrSize > r.mask {
		return 0, false
	}
	hl := binary.LittleEndian.Uint32(r.data[addr-r.dataBase-RingHdrSize:])
	return hl &^ (RingBusyBit | RingDiscardBit), hl&RingBusyBit != 0
}

// Sample returns the bytes of size at sample address addr (for helpers
// copying into a reserved record).
func (r *RingBuf) Sample(addr uint64, size uint64) []byte {
	o := addr - r.dataBase
	return r.data[o : o+size]
}

// Output mirrors bpf_ringbuf_output(): EAGAIN if the record does not fit.
func (r *RingBuf) Output(data []byte, flags uint64) error {
	if flags&^3 != 0 {
		return syscall.EINVAL
	}
	a := r.Reserve(uint64(len(data)))
	if a == 0 {
		return syscall.EAGAIN
	}
	copy(r.Sample(a, uint64(len(data))), data)
	return r.Commit(a, flags, false)
}

// Query mirrors bpf_ringbuf_query().
func (r *RingBuf) Query(flags uint64) uint64 {
	switch flags {
	case RingAvailData:
		return r.prod - r.cons
	case RingRingSize:
		return r.Size()
	case RingConsPos:
		return r.cons
	case RingProdPos:
		return r.prod
	}
	return 0
}

// Consume delivers committed records to fn in order, skipping discarded
// ones, until it reaches a record still being written or the producer
// position, and returns how many it delivered. The slice is only valid
// during the call. This is the user-space consumer (ring_buffer__consume).
func (r *RingBuf) Consume(fn func(sample []byte)) int {
	n := 0
	for r.cons < r.prod {
		hl := binary.LittleEndian.Uint32(r.hdr(r.cons))
		if hl&RingBusyBit != 0 {
			break
		}
		size := uint64(hl &^ RingDiscardBit)
		if hl&RingDiscardBit == 0 {
			o := r.cons&r.mask + RingHdrSize
			fn(r.data[o : o+size])
			n++
		}
		r.cons += (size + RingHdrSize + 7) &^ 7
	}
	return n
}

// Write is the user ring buffer producer (user_ring_buffer__reserve +
// submit): it appends a sample, EAGAIN if there is no room, E2BIG if it can
// never fit.
func (r *RingBuf) Write(sample []byte) error {
	return r.produce(sample, false)
}

// WriteDiscarded appends a record marked discarded, which drains skip.
func (r *RingBuf) WriteDiscarded(sample []byte) error {
	return r.produce(sample, true)
}

func (r *RingBuf) produce(sample []byte, discard bool) error {
	if !r.user {
		return syscall.EINVAL
	}
	l := (uint64(len(sample)) + RingHdrSize + 7) &^ 7
	if l > r.Size() || len(sample) > DynptrMaxSize {
		return syscall.E2BIG
	}
	if r.prod+l-r.cons > r.Size() {
		return syscall.EAGAIN
	}
	hl := uint32(len(sample))
	if discard {
		hl |= RingDiscardBit
	}
	o := (r.prod + RingHdrSize) & r.mask
	copy(r.data[o:], sample)
	binary.LittleEndian.PutUint32(r.hdr(r.prod), hl)
	binary.LittleEndian.PutUint32(r.hdr(r.prod)[4:], 0)
	r.prod += l
	return nil
}

// Drain mirrors bpf_user_ringbuf_drain(): for each available sample it
// fills the dynptr region with a read-only local dynptr to the sample and
// calls fn with the dynptr's address; a non-zero return stops the drain
// after that sample. It returns the number of samples handed to fn, EBUSY
// if a drain is already running.
func (r *RingBuf) Drain(flags uint64, fn func(dynptr uint64) (uint64, error)) (int64, error) {
	if !r.user {
		return 0, syscall.EINVAL
	}
	if flags&^3 != 0 {
		return -int64(syscall.EINVAL), nil
	}
	if r.busy {
		return -int64(syscall.EBUSY), nil
	}
	r.busy = true
	defer func() { r.busy = false }()
	var samples, discarded int64
	var ret uint64
	for samples = 0; samples < MaxUserRingBufSamples && ret == 0; samples++ {
		if r.cons >= r.prod {
			break
		}
		hl := binary.LittleEndian.Uint32(r.hdr(r.cons))
		fl := hl & (RingBusyBit | RingDiscardBit)
		size := uint64(hl &^ fl)
		total := (size + RingHdrSize + 7) &^ 7
		if total > r.prod-r.cons {
			return -int64(syscall.EINVAL), nil
		}
		if total > r.Size() || size > DynptrMaxSize {
			return -int64(syscall.E2BIG), nil
		}
		if fl&RingDiscardBit != 0 {
			r.cons += total
			discarded++
			continue
		}
		if fl&RingBusyBit != 0 {
			break
		}
		sample := r.dataBase + (r.cons+RingHdrSize)&r.mask
		binary.LittleEndian.PutUint64(r.dynptr, sample)
		binary.LittleEndian.PutUint32(r.dynptr[8:], uint32(size)|DynptrRdonly|DynptrTypeLocal<<DynptrTypeShift)
		binary.LittleEndian.PutUint32(r.dynptr[12:], 0)
		var err error
		ret, err = fn(r.dynptrAddr)
		clear(r.dynptr)
		if err != nil {
			return 0, err
		}
		r.cons += total
	}
	return samples - discarded, nil
}

// struct bpf_dynptr_kern encoding (include/linux/bpf.h).
const (
	DynptrRdonly      uint32 = 1 << 31
	DynptrTypeShift          = 28
	DynptrSizeMask    uint32 = 1<<24 - 1
	DynptrTypeLocal   uint32 = 1
	DynptrTypeRingbuf uint32 = 2
)

// RingBufAt returns the ring buffer whose data region contains addr.
func (r *Registry) RingBufAt(addr uint64) (*RingBuf, bool) {
	if addr < vm.RegionBase {
		return nil, false
	}
	rb, ok := r.ringbufs[vm.RegionID((addr-vm.RegionBase)>>32)]
	return rb, ok
}
