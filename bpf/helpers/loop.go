package helpers

import (
	"encoding/binary"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// MaxLoops is BPF_MAX_LOOPS, the bound of bpf_loop and bpf_iter_num.
const MaxLoops = 8 * 1024 * 1024

// Mirrors bpf_loop(nr_loops, callback_fn, callback_ctx, flags): it calls
// callback_fn(i, ctx) for i in [0, nr_loops) until it returns non-zero and
// returns the number of calls made. The instructions each call runs are
// credited to the budget by Exec.Call.
func bpfLoop(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	if r4 != 0 {
		return neg(syscall.EINVAL), nil
	}
	n := uint32(r1)
	if n > MaxLoops {
		return neg(syscall.E2BIG), nil
	}
	for i := range n {
		ret, err := e.Call(r2, uint64(i), r3)
		if err != nil {
			return 0, err
		}
		if ret != 0 {
			return uint64(i) + 1, nil
		}
	}
	return uint64(n), nil
}

// struct bpf_iter_num_kern { int cur; int end; } lives in the program's
// 8-byte struct bpf_iter_num.
func iterNum(e *vm.Exec, name string, addr uint64) ([]byte, error) {
	return mem(e, name, addr, 8, true)
}

func setIter(b []byte, cur, end int32) {
	binary.LittleEndian.PutUint32(b, uint32(cur))
	binary.LittleEndian.PutUint32(b[4:], uint32(end))
}

// Mirrors bpf_iter_num_new(it, start, end): -EINVAL if start > end, -E2BIG
// for more than BPF_MAX_LOOPS iterations; the iterator is then empty.
func iterNumNew(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	b, err := iterNum(e, "bpf_iter_num_new", r1)
	if err != nil {
		return 0, err
	}
	start, end := int32(r2), int32(r3)
	if start > end {
		setIter(b, 0, 0)
		return neg(syscall.EINVAL), nil
	}
	if int64(end)-int64(start) > MaxLoops {
		setIter(b, 0, 0)
		return neg(syscall.E2BIG), nil
	}
	setIter(b, start-1, end)
	return 0, nil
}

// Mirrors bpf_iter_num_next(it): a pointer to the current value, NULL at
// the end. Each value it yields credits the budget one iteration's worth.
func iterNumNext(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	b, err := iterNum(e, "bpf_iter_num_next", r1)
	if err != nil {
		return 0, err
	}
	cur := int32(binary.LittleEndian.Uint32(b))
	end := int32(binary.LittleEndian.Uint32(b[4:]))
	if int64(cur)+1 >= int64(end) {
		setIter(b, 0, 0)
		return 0, nil
	}
	binary.LittleEndian.PutUint32(b, uint32(cur+1))
	e.Credit(vm.IterCredit)
	return r1, nil
}

// Mirrors bpf_iter_num_destroy(it).
func iterNumDestroy(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	b, err := iterNum(e, "bpf_iter_num_destroy", r1)
	if err != nil {
		return 0, err
	}
	setIter(b, 0, 0)
	return 0, nil
}
