package helpers

import (
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// mapArgs resolves the map and reads its key from program memory.
func mapArgs(e *vm.Exec, name string, mapAddr, keyAddr uint64) (maps.Map, []byte, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return nil, nil, err
	}
	m, err := rt.mapAt(name, mapAddr)
	if err != nil {
		return nil, nil, err
	}
	var key []byte
	if ks := int(m.Spec().KeySize); ks > 0 {
		if key, err = mem(e, name, keyAddr, ks, false); err != nil {
			return nil, nil, err
		}
	}
	return m, key, nil
}

// progWritable stops a program writing to a map programs may only read
// (BPF_F_RDONLY_PROG, e.g. .rodata), which the verifier would refuse.
func progWritable(name string, m maps.Map) error {
	if m.Spec().Flags&maps.FlagRdonlyProg != 0 {
		return fmt.Errorf("%s: write into map forbidden (map %s is read-only for programs)", name, m.Spec().Name)
	}
	return nil
}

// Mirrors bpf_map_lookup_elem().
func mapLookupElem(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	m, key, err := mapArgs(e, "bpf_map_lookup_elem", r1, r2)
	if err != nil {
		return 0, err
	}
	return m.LookupElem(e.CPU, key), nil
}

// Mirrors bpf_map_update_elem().
func mapUpdateElem(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	const name = "bpf_map_update_elem"
	m, key, err := mapArgs(e, name, r1, r2)
	if err != nil {
		return 0, err
	}
	if err := progWritable(name, m); err != nil {
		return 0, err
	}
	val, err := mem(e, name, r3, int(m.Spec().ValueSize), false)
	if err != nil {
		return 0, err
	}
	return errno(m.UpdateElem(e.CPU, key, val, r4)), nil
}

// Mirrors bpf_map_delete_elem().
func mapDeleteElem(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	const name = "bpf_map_delete_elem"
	m, key, err := mapArgs(e, name, r1, r2)
	if err != nil {
		return 0, err
	}
	if err := progWritable(name, m); err != nil {
		return 0, err
	}
	return errno(m.DeleteElem(key)), nil
}

func queueArgs(e *vm.Exec, name string, mapAddr, valAddr uint64, write bool) (maps.QueueMap, []byte, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return nil, nil, err
	}
	m, err := rt.mapAt(name, mapAddr)
	if err != nil {
		return nil, nil, err
	}
	q, ok := m.(maps.QueueMap)
	if !ok {
		return nil, nil, fmt.Errorf("%s: map %s is not a queue or stack", name, m.Spec().Name)
	}
	val, err := mem(e, name, valAddr, int(m.Spec().ValueSize), write)
	if err != nil {
		return nil, nil, err
	}
	return q, val, nil
}

// Mirrors bpf_map_push_elem().
func mapPushElem(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	q, val, err := queueArgs(e, "bpf_map_push_elem", r1, r2, false)
	if err != nil {
		return 0, err
	}
	return errno(q.PushElem(val, r3)), nil
}

// Mirrors bpf_map_pop_elem().
func mapPopElem(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	q, val, err := queueArgs(e, "bpf_map_pop_elem", r1, r2, true)
	if err != nil {
		return 0, err
	}
	return errno(q.PopElem(val)), nil
}

// Mirrors bpf_map_peek_elem().
func mapPeekElem(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	q, val, err := queueArgs(e, "bpf_map_peek_elem", r1, r2, true)
	if err != nil {
		return 0, err
	}
	return errno(q.PeekElem(val)), nil
}

// Mirrors bpf_map_lookup_percpu_elem(): NULL for cpu >= nr_cpu_ids.
func mapLookupPercpuElem(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	m, key, err := mapArgs(e, "bpf_map_lookup_percpu_elem", r1, r2)
	if err != nil {
		return 0, err
	}
	k, _, _ := kernelOf(e)
	cpu := uint32(r3)
	if int64(cpu) >= int64(k.NrCPUIDs()) {
		return 0, nil
	}
	pm, ok := m.(maps.PercpuMap)
	if !ok {
		return 0, nil
	}
	return pm.LookupPercpuElem(key, int(cpu)), nil
}

// Mirrors bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags):
// callback_fn(map, key, value, ctx) returns 0 to continue, 1 to stop. The
// result is the number of elements visited.
func forEachMapElem(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	const name = "bpf_for_each_map_elem"
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	m, err := rt.mapAt(name, r1)
	if err != nil {
		return 0, err
	}
	if r4 != 0 {
		return neg(syscall.EINVAL), nil
	}
	it, ok := m.(maps.IterMap)
	if !ok {
		return 0, fmt.Errorf("%s: map %s cannot be iterated", name, m.Spec().Name)
	}
	n, err := it.ForEach(e.CPU, func(key, value uint64) (bool, error) {
		ret, err := e.Call(r2, r1, key, value, r3)
		return ret != 0, err
	})
	if err != nil {
		return 0, err
	}
	return uint64(n), nil
}
