package maps

import (
	"encoding/binary"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// PerfEvent is what a perf event array slot holds: scxsim has no perf
// subsystem, so the kernel layer (or a test) installs Go implementations.
// A slot left empty answers ENOENT to programs, as in the kernel when user
// space has not installed an event.
type PerfEvent interface {
	// Read returns the counter and its enabled/running times
	// (bpf_perf_event_read_value); a non-nil error is returned as -errno.
	Read(cpu int) (counter, enabled, running uint64, err error)
	// Output receives a bpf_perf_event_output() record written on cpu.
	Output(cpu int, data []byte) error
}

// PerfEventArray is BPF_MAP_TYPE_PERF_EVENT_ARRAY.
type PerfEventArray struct {
	*Base
	events []PerfEvent
}

func newPerfEventArray(mem *vm.Memory, spec *Spec, ncpu int) (Map, error) {
	if err := fdArrayAllocCheck(spec); err != nil {
		return nil, err
	}
	p := &PerfEventArray{Base: &Base{}, events: make([]PerfEvent, spec.MaxEntries)}
	p.init(mem, spec, p, ncpu)
	return p, nil
}

// fdArrayAllocCheck mirrors fd_array_map_alloc_check().
func fdArrayAllocCheck(s *Spec) error {
	if s.ValueSize != 4 || s.Flags&(FlagRdonlyProg|FlagWronlyProg) != 0 {
		return syscall.EINVAL
	}
	return arrayAllocCheck(s)
}

// SetEvent installs ev at index (E2BIG if out of range); nil empties it.
func (p *PerfEventArray) SetEvent(index uint32, ev PerfEvent) error {
	if index >= p.spec.MaxEntries {
		return syscall.E2BIG
	}
	p.events[index] = ev
	return nil
}

// Event returns the event at index, nil if none or out of range.
func (p *PerfEventArray) Event(index uint32) PerfEvent {
	if index >= p.spec.MaxEntries {
		return nil
	}
	return p.events[index]
}

// Lookup is not supported from user space (fd arrays answer ENOENT for
// programs and EOPNOTSUPP here).
func (p *PerfEventArray) Lookup(key, value []byte, flags uint64) error {
	if err := p.sysRead(flags); err != nil {
		return err
	}
	return syscall.EOPNOTSUPP
}

// Update takes a perf event fd, which scxsim does not have: EBADF (use
// SetEvent). Flags other than BPF_ANY are EINVAL, an index out of range E2BIG.
func (p *PerfEventArray) Update(key, value []byte, flags uint64) error {
	if err := p.sysWrite(flags); err != nil {
		return err
	}
	if flags != Any {
		return syscall.EINVAL
	}
	if len(key) < 4 || binary.LittleEndian.Uint32(key) >= p.spec.MaxEntries {
		return syscall.E2BIG
	}
	return syscall.EBADF
}

// Delete mirrors fd_array_map_delete_elem().
func (p *PerfEventArray) Delete(key []byte) error {
	if err := p.sysWrite(0); err != nil {
		return err
	}
	return p.DeleteElem(key)
}

// DeleteElem empties a slot: E2BIG out of range, ENOENT if empty.
func (p *PerfEventArray) DeleteElem(key []byte) error {
	if len(key) < 4 {
		return syscall.EINVAL
	}
	i := binary.LittleEndian.Uint32(key)
	if i >= p.spec.MaxEntries {
		return syscall.E2BIG
	}
	if p.events[i] == nil {
		return syscall.ENOENT
	}
	p.events[i] = nil
	return nil
}

// NextKey mirrors array_map_get_next_key().
func (p *PerfEventArray) NextKey(key, next []byte) error { return arrayNextKey(&p.spec, key, next) }
