package helpers

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

func ringbufMap(e *vm.Exec, name string, addr uint64, user bool) (*maps.RingBuf, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return nil, err
	}
	m, err := rt.mapAt(name, addr)
	if err != nil {
		return nil, err
	}
	rb, ok := m.(*maps.RingBuf)
	if !ok || rb.User() != user {
		return nil, fmt.Errorf("%s: map %s has the wrong type", name, m.Spec().Name)
	}
	return rb, nil
}

// Mirrors bpf_ringbuf_reserve(ringbuf, size, flags): NULL for non-zero
// flags or when the record does not fit.
func ringbufReserve(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	rb, err := ringbufMap(e, "bpf_ringbuf_reserve", r1, false)
	if err != nil {
		return 0, err
	}
	if r3 != 0 {
		return 0, nil
	}
	return rb.Reserve(r2), nil
}

func commit(e *vm.Exec, name string, sample, flags uint64, discard bool) error {
	_, rt, err := kernelOf(e)
	if err != nil {
		return err
	}
	rb, ok := rt.Maps.RingBufAt(sample)
	if !ok {
		return fmt.Errorf("%s: %#x is not a ring buffer sample", name, sample)
	}
	if err := rb.Commit(sample, flags, discard); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Mirrors bpf_ringbuf_submit(data, flags).
func ringbufSubmit(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return 0, commit(e, "bpf_ringbuf_submit", r1, r2, false)
}

// Mirrors bpf_ringbuf_discard(data, flags).
func ringbufDiscard(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return 0, commit(e, "bpf_ringbuf_discard", r1, r2, true)
}

// Mirrors bpf_ringbuf_output(ringbuf, data, size, flags).
func ringbufOutput(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	const name = "bpf_ringbuf_output"
	rb, err := ringbufMap(e, name, r1, false)
	if err != nil {
		return 0, err
	}
	data, err := mem(e, name, r2, int(uint32(r3)), false)
	if err != nil {
		return 0, err
	}
	return errno(rb.Output(data, r4)), nil
}

// Mirrors bpf_ringbuf_query(ringbuf, flags).
func ringbufQuery(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	rb, err := ringbufMap(e, "bpf_ringbuf_query", r1, false)
	if err != nil {
		return 0, err
	}
	return rb.Query(r2), nil
}

// Dynptrs: struct bpf_dynptr_kern { void *data; u32 size; u32 offset; },
// the size word carrying the type and read-only bit.
type dynptr struct {
	b      []byte
	data   uint64
	size   uint32
	offset uint32
	typ    uint32
	rdonly bool
}

func readDynptr(e *vm.Exec, name string, addr uint64, write bool) (dynptr, error) {
	b, err := mem(e, name, addr, 16, write)
	if err != nil {
		return dynptr{}, err
	}
	w := binary.LittleEndian.Uint32(b[8:])
	return dynptr{b: b, data: binary.LittleEndian.Uint64(b), size: w & maps.DynptrSizeMask,
		offset: binary.LittleEndian.Uint32(b[12:]), typ: w >> maps.DynptrTypeShift & 7,
		rdonly: w&maps.DynptrRdonly != 0}, nil
}

func setDynptr(b []byte, data uint64, size, typ uint32) {
	binary.LittleEndian.PutUint64(b, data)
	binary.LittleEndian.PutUint32(b[8:], size|typ<<maps.DynptrTypeShift)
	binary.LittleEndian.PutUint32(b[12:], 0)
}

// checkOffLen mirrors bpf_dynptr_check_off_len(): -E2BIG past the end.
func (d dynptr) checkOffLen(off, n uint64) bool {
	return off <= uint64(d.size) && n <= uint64(d.size)-off
}

// Mirrors bpf_dynptr_from_mem(data, size, flags, ptr).
func dynptrFromMem(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	b, err := mem(e, "bpf_dynptr_from_mem", r4, 16, true)
	if err != nil {
		return 0, err
	}
	clear(b)
	if r3 != 0 {
		return neg(syscall.EINVAL), nil
	}
	if uint32(r2) > maps.DynptrMaxSize {
		return neg(syscall.E2BIG), nil
	}
	setDynptr(b, r1, uint32(r2), maps.DynptrTypeLocal)
	return 0, nil
}

// Mirrors bpf_ringbuf_reserve_dynptr(ringbuf, size, flags, ptr).
func ringbufReserveDynptr(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	const name = "bpf_ringbuf_reserve_dynptr"
	rb, err := ringbufMap(e, name, r1, false)
	if err != nil {
		return 0, err
	}
	b, err := mem(e, name, r4, 16, true)
	if err != nil {
		return 0, err
	}
	clear(b)
	if r3 != 0 {
		return neg(syscall.EINVAL), nil
	}
	if uint32(r2) > maps.DynptrMaxSize {
		return neg(syscall.E2BIG), nil
	}
	a := rb.Reserve(uint64(uint32(r2)))
	if a == 0 {
		return neg(syscall.EAGAIN), nil
	}
	setDynptr(b, a, uint32(r2), maps.DynptrTypeRingbuf)
	return 0, nil
}

func commitDynptr(e *vm.Exec, name string, ptr, flags uint64, discard bool) (uint64, error) {
	d, err := readDynptr(e, name, ptr, true)
	if err != nil {
		return 0, err
	}
	if d.data == 0 {
		return 0, nil
	}
	if err := commit(e, name, d.data, flags, discard); err != nil {
		return 0, err
	}
	clear(d.b)
	return 0, nil
}

// Mirrors bpf_ringbuf_submit_dynptr(ptr, flags).
func ringbufSubmitDynptr(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return commitDynptr(e, "bpf_ringbuf_submit_dynptr", r1, r2, false)
}

// Mirrors bpf_ringbuf_discard_dynptr(ptr, flags).
func ringbufDiscardDynptr(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return commitDynptr(e, "bpf_ringbuf_discard_dynptr", r1, r2, true)
}

// Mirrors bpf_dynptr_read(dst, len, src, offset, flags).
func dynptrRead(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	const name = "bpf_dynptr_read"
	n := uint64(uint32(r2))
	dst, err := mem(e, name, r1, int(n), true)
	if err != nil {
		return 0, err
	}
	d, err := readDynptr(e, name, r3, false)
	if err != nil {
		return 0, err
	}
	if d.data == 0 || r5 != 0 {
		return neg(syscall.EINVAL), nil
	}
	off := uint64(uint32(r4))
	if !d.checkOffLen(off, n) {
		return neg(syscall.E2BIG), nil
	}
	src, err := mem(e, name, d.data+uint64(d.offset)+off, int(n), false)
	if err != nil {
		return 0, err
	}
	copy(dst, src)
	return 0, nil
}

// Mirrors bpf_dynptr_write(dst, offset, src, len, flags).
func dynptrWrite(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	const name = "bpf_dynptr_write"
	n := uint64(uint32(r4))
	src, err := mem(e, name, r3, int(n), false)
	if err != nil {
		return 0, err
	}
	d, err := readDynptr(e, name, r1, false)
	if err != nil {
		return 0, err
	}
	if d.data == 0 || d.rdonly || r5 != 0 {
		return neg(syscall.EINVAL), nil
	}
	off := uint64(uint32(r2))
	if !d.checkOffLen(off, n) {
		return neg(syscall.E2BIG), nil
	}
	dst, err := mem(e, name, d.data+uint64(d.offset)+off, int(n), true)
	if err != nil {
		return 0, err
	}
	copy(dst, src)
	return 0, nil
}

// Mirrors bpf_dynptr_data(ptr, offset, len): NULL for a read-only dynptr,
// one of another type than local/ringbuf, or a range past the end.
func dynptrData(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	d, err := readDynptr(e, "bpf_dynptr_data", r1, false)
	if err != nil {
		return 0, err
	}
	off, n := uint64(uint32(r2)), uint64(uint32(r3))
	if d.data == 0 || d.rdonly || !d.checkOffLen(off, n) ||
		d.typ != maps.DynptrTypeLocal && d.typ != maps.DynptrTypeRingbuf {
		return 0, nil
	}
	return d.data + uint64(d.offset) + off, nil
}

// Mirrors bpf_user_ringbuf_drain(map, callback_fn, ctx, flags):
// callback_fn(dynptr, ctx) per sample; non-zero stops.
func userRingbufDrain(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	rb, err := ringbufMap(e, "bpf_user_ringbuf_drain", r1, true)
	if err != nil {
		return 0, err
	}
	n, err := rb.Drain(r4, func(d uint64) (uint64, error) { return e.Call(r2, d, r3) })
	return uint64(n), err
}

// Perf event arrays hold Go PerfEvent implementations (maps.PerfEvent).
const (
	perfIndexMask  = 0xffffffff // BPF_F_INDEX_MASK
	perfCurrentCPU = 0xffffffff // BPF_F_CURRENT_CPU
	perfCtxLenMask = 0xfffff << 32
)

func perfSlot(e *vm.Exec, name string, mapAddr, flags, allowed uint64) (maps.PerfEvent, uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return nil, 0, err
	}
	m, err := rt.mapAt(name, mapAddr)
	if err != nil {
		return nil, 0, err
	}
	p, ok := m.(*maps.PerfEventArray)
	if !ok {
		return nil, 0, fmt.Errorf("%s: map %s is not a perf event array", name, m.Spec().Name)
	}
	if flags&^allowed != 0 {
		return nil, neg(syscall.EINVAL), nil
	}
	idx := flags & perfIndexMask
	if idx == perfCurrentCPU {
		idx = uint64(uint32(e.CPU))
	}
	if idx >= uint64(p.Spec().MaxEntries) {
		return nil, neg(syscall.E2BIG), nil
	}
	ev := p.Event(uint32(idx))
	if ev == nil {
		return nil, neg(syscall.ENOENT), nil
	}
	return ev, 0, nil
}

// Mirrors bpf_perf_event_output(ctx, map, flags, data, size).
func perfEventOutput(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	const name = "bpf_perf_event_output"
	ev, ret, err := perfSlot(e, name, r2, r3, perfIndexMask|perfCtxLenMask)
	if ev == nil || err != nil {
		return ret, err
	}
	data, err := mem(e, name, r4, int(r5&0xffffffff), false)
	if err != nil {
		return 0, err
	}
	return errno(ev.Output(e.CPU, data)), nil
}

// Mirrors bpf_perf_event_read(map, flags): the counter, or -errno.
func perfEventRead(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	ev, ret, err := perfSlot(e, "bpf_perf_event_read", r1, r2, perfIndexMask)
	if ev == nil || err != nil {
		return ret, err
	}
	v, _, _, rerr := ev.Read(e.CPU)
	if rerr != nil {
		return errno(rerr), nil
	}
	return v, nil
}

// Mirrors bpf_perf_event_read_value(map, flags, buf, size): buf is struct
// bpf_perf_event_value { counter, enabled, running }, zeroed on error.
func perfEventReadValue(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	const name = "bpf_perf_event_read_value"
	buf, err := mem(e, name, r3, int(uint32(r4)), true)
	if err != nil {
		return 0, err
	}
	clear(buf)
	if len(buf) != 24 {
		return neg(syscall.EINVAL), nil
	}
	ev, ret, err := perfSlot(e, name, r1, r2, perfIndexMask)
	if ev == nil || err != nil {
		return ret, err
	}
	c, en, run, rerr := ev.Read(e.CPU)
	if rerr != nil {
		return errno(rerr), nil
	}
	binary.LittleEndian.PutUint64(buf, c)
	binary.LittleEndian.PutUint64(buf[8:], en)
	binary.LittleEndian.PutUint64(buf[16:], run)
	return 0, nil
}
