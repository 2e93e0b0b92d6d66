package maps

import (
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// Queue is BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO). Values
// are copied in and out, never addressed by programs, so they live in Go
// memory. Mirrors queue_stack_maps.c: a ring of max_entries+1 slots.
type Queue struct {
	*Base
	stack      bool
	size       uint32 // slots in the ring
	head, tail uint32
	buf        []byte
}

const queueCreateMask = FlagNumaNode | flagAccessMask

func newQueue(mem *vm.Memory, spec *Spec, ncpu int) (Map, error) {
	// queue_stack_map_alloc_check()
	if spec.MaxEntries == 0 || spec.KeySize != 0 || spec.ValueSize == 0 || spec.Flags&^queueCreateMask != 0 {
		return nil, syscall.EINVAL
	}
	if spec.ValueSize > kmallocMaxSize {
		return nil, syscall.E2BIG
	}
	if (uint64(spec.MaxEntries)+1)*uint64(spec.ValueSize) > maxRegion {
		return nil, syscall.ENOMEM
	}
	q := &Queue{Base: &Base{}, stack: spec.Type == TypeStack, size: spec.MaxEntries + 1}
	if err := q.prepare(spec); err != nil {
		return nil, err
	}
	q.buf = make([]byte, int(q.size)*int(spec.ValueSize))
	q.init(mem, spec, q, ncpu)
	return q, nil
}

// Len is the number of queued values.
func (q *Queue) Len() int { return int((q.head + q.size - q.tail) % q.size) }

func (q *Queue) slot(i uint32) []byte {
	vs := q.spec.ValueSize
	return q.buf[i*vs : (i+1)*vs]
}

// PushElem mirrors queue_stack_map_push_elem(): E2BIG when full unless
// BPF_EXIST, which drops the oldest value.
func (q *Queue) PushElem(value []byte, flags uint64) error {
	if flags&NoExist != 0 || flags > Exist {
		return syscall.EINVAL
	}
	if len(value) < int(q.spec.ValueSize) {
		return syscall.EINVAL
	}
	if q.Len() == int(q.size)-1 {
		if flags&Exist == 0 {
			return syscall.E2BIG
		}
		q.tail = (q.tail + 1) % q.size
	}
	copy(q.slot(q.head), value)
	q.head = (q.head + 1) % q.size
	return nil
}

// get mirrors __queue_map_get() and __stack_map_get(): on an empty map the
// value is zeroed and ENOENT returned.
func (q *Queue) get(value []byte, del bool) error {
	if len(value) < int(q.spec.ValueSize) {
		return syscall.EINVAL
	}
	if q.head == q.tail {
		clear(value[:q.spec.ValueSize])
		return syscall.ENOENT
	}
	if q.stack {
		i := (q.head + q.size - 1) % q.size
		copy(value, q.slot(i))
		if del {
			q.head = i
		}
		return nil
	}
	copy(value, q.slot(q.tail))
	if del {
		q.tail = (q.tail + 1) % q.size
	}
	return nil
}

// PopElem removes and returns the oldest (queue) or newest (stack) value.
func (q *Queue) PopElem(value []byte) error { return q.get(value, true) }

// PeekElem returns it without removing it.
func (q *Queue) PeekElem(value []byte) error { return q.get(value, false) }

// UpdateElem is not supported: programs use PushElem.
func (q *Queue) UpdateElem(cpu int, key, value []byte, flags uint64) error { return syscall.EINVAL }

// DeleteElem is not supported: programs use PopElem.
func (q *Queue) DeleteElem(key []byte) error { return syscall.EINVAL }

// Lookup peeks, as the syscall does for queue and stack maps.
func (q *Queue) Lookup(key, value []byte, flags uint64) error {
	if err := q.sysRead(flags); err != nil {
		return err
	}
	return q.PeekElem(value)
}

// Update pushes, as the syscall does for queue and stack maps.
func (q *Queue) Update(key, value []byte, flags uint64) error {
	if err := q.sysWrite(flags); err != nil {
		return err
	}
	return q.PushElem(value, flags)
}

// Delete is EINVAL.
func (q *Queue) Delete(key []byte) error {
	if err := q.sysWrite(0); err != nil {
		return err
	}
	return syscall.EINVAL
}

// LookupAndDelete pops; flags must be 0.
func (q *Queue) LookupAndDelete(key, value []byte, flags uint64) error {
	if err := q.sysWrite(0); err != nil {
		return err
	}
	if flags != 0 {
		return syscall.EINVAL
	}
	return q.PopElem(value)
}

// NextKey is EINVAL.
func (q *Queue) NextKey(key, next []byte) error { return syscall.EINVAL }
