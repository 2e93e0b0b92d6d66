package helpers

import (
	"encoding/binary"
	"math/bits"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// The bpf_cpumask kfuncs (kernel/bpf/cpumask.c). A struct bpf_cpumask is a
// struct cpumask (Options.CpumaskSize bytes of little-endian longs)
// followed by a refcount_t. The read-only kfuncs take any struct cpumask *
// (a kernel mask such as p->cpus_ptr, or a bpf_cpumask). Operations cover
// nr_cpu_ids bits, with the kernel's treatment of the bits past nr_cpu_ids
// in the last long (bitmap_fill and bitmap_or keep them, bitmap_and clears
// them).

func cpumaskKfuncs() map[string]vm.Helper {
	return map[string]vm.Helper{
		"bpf_cpumask_create":             cpumaskCreate,
		"bpf_cpumask_acquire":            cpumaskAcquire,
		"bpf_cpumask_release":            cpumaskRelease,
		"bpf_cpumask_release_dtor":       cpumaskRelease,
		"bpf_cpumask_first":              cmFirst,
		"bpf_cpumask_first_zero":         cmFirstZero,
		"bpf_cpumask_first_and":          cmFirstAnd,
		"bpf_cpumask_set_cpu":            cmSetCPU,
		"bpf_cpumask_clear_cpu":          cmClearCPU,
		"bpf_cpumask_test_cpu":           cmTestCPU,
		"bpf_cpumask_test_and_set_cpu":   cmTestAndSetCPU,
		"bpf_cpumask_test_and_clear_cpu": cmTestAndClearCPU,
		"bpf_cpumask_setall":             cmSetall,
		"bpf_cpumask_clear":              cmClear,
		"bpf_cpumask_and":                cmAnd,
		"bpf_cpumask_or":                 cmOr,
		"bpf_cpumask_xor":                cmXor,
		"bpf_cpumask_equal":              cmEqual,
		"bpf_cpumask_intersects":         cmIntersects,
		"bpf_cpumask_subset":             cmSubset,
		"bpf_cpumask_empty":              cmEmpty,
		"bpf_cpumask_full":               cmFull,
		"bpf_cpumask_copy":               cmCopy,
		"bpf_cpumask_any_distribute":     cmAnyDistribute,
		"bpf_cpumask_any_and_distribute": cmAnyAndDistribute,
		"bpf_cpumask_weight":             cmWeight,
		"bpf_cpumask_populate":           cmPopulate,
	}
}

// cmask is a view of nr bits of a struct cpumask in program memory.
type cmask struct {
	b  []byte
	nr int
}

func (m cmask) words() int { return len(m.b) / 8 }

func (m cmask) word(i int) uint64 { return binary.LittleEndian.Uint64(m.b[8*i:]) }

func (m cmask) setWord(i int, v uint64) { binary.LittleEndian.PutUint64(m.b[8*i:], v) }

// lastMask is BITMAP_LAST_WORD_MASK(nr).
func (m cmask) lastMask() uint64 {
	if m.nr%64 == 0 {
		return ^uint64(0)
	}
	return 1<<(m.nr%64) - 1
}

// maskedWord is word i restricted to the first nr bits.
func (m cmask) maskedWord(i int) uint64 {
	if i == m.words()-1 {
		return m.word(i) & m.lastMask()
	}
	return m.word(i)
}

func (m cmask) test(cpu int) bool { return m.b[cpu/8]&(1<<(cpu%8)) != 0 }

func (m cmask) set(cpu int, on bool) {
	if on {
		m.b[cpu/8] |= 1 << (cpu % 8)
	} else {
		m.b[cpu/8] &^= 1 << (cpu % 8)
	}
}

// findNext returns the first set bit >= from of f(word i), or nr.
func (m cmask) findNext(from int, f func(i int) uint64) int {
	for i := from / 64; i < m.words(); i++ {
		w := f(i)
		if i == from/64 {
			w &= ^uint64(0) << (from % 64)
		}
		if i == m.words()-1 {
			w &= m.lastMask()
		}
		if w != 0 {
			return min(i*64+bits.TrailingZeros64(w), m.nr)
		}
	}
	return m.nr
}

// maskArg resolves a struct cpumask * argument.
func maskArg(e *vm.Exec, name string, addr uint64, write bool) (cmask, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return cmask{}, err
	}
	nr := k.NrCPUIDs()
	b, err := mem(e, name, addr, bitmapBytes(nr), write)
	if err != nil {
		return cmask{}, err
	}
	return cmask{b: b, nr: nr}, nil
}

func masks2(e *vm.Exec, name string, a1, a2 uint64) (cmask, cmask, error) {
	m1, err := maskArg(e, name, a1, false)
	if err != nil {
		return cmask{}, cmask{}, err
	}
	m2, err := maskArg(e, name, a2, false)
	return m1, m2, err
}

func b2u(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// Mirrors bpf_cpumask_create(): a zeroed mask with one reference.
func cpumaskCreate(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	n := rt.cpumaskBytes()
	a := rt.objAlloc(uint32(n + 8))
	if a == 0 {
		return 0, nil
	}
	b, _ := rt.Mem.Slice(a+uint64(n), 4, true)
	binary.LittleEndian.PutUint32(b, 1)
	return a, nil
}

func (rt *Runtime) cpumaskRef(addr uint64) ([]byte, bool) {
	if _, ok := rt.objs[addr]; !ok {
		return nil, false
	}
	b, err := rt.Mem.Slice(addr+uint64(rt.cpumaskBytes()), 4, true)
	return b, err == nil
}

// Mirrors bpf_cpumask_acquire(cpumask).
func cpumaskAcquire(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	b, ok := rt.cpumaskRef(r1)
	if !ok {
		return 0, fault("bpf_cpumask_acquire", r1, 0)
	}
	binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)+1)
	return r1, nil
}

// cpumaskPut drops a reference and frees the mask at zero.
func (rt *Runtime) cpumaskPut(addr uint64) bool {
	b, ok := rt.cpumaskRef(addr)
	if !ok {
		return false
	}
	n := binary.LittleEndian.Uint32(b)
	if n <= 1 {
		rt.objFree(addr)
		return true
	}
	binary.LittleEndian.PutUint32(b, n-1)
	return true
}

// Mirrors bpf_cpumask_release(cpumask).
func cpumaskRelease(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if !rt.cpumaskPut(r1) {
		return 0, fault("bpf_cpumask_release", r1, 0)
	}
	return 0, nil
}

func cmFirst(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	m, err := maskArg(e, "bpf_cpumask_first", r1, false)
	if err != nil {
		return 0, err
	}
	return uint64(m.findNext(0, m.word)), nil
}

func cmFirstZero(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	m, err := maskArg(e, "bpf_cpumask_first_zero", r1, false)
	if err != nil {
		return 0, err
	}
	return uint64(m.findNext(0, func(i int) uint64 { return ^m.word(i) })), nil
}

func cmFirstAnd(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	m1, m2, err := masks2(e, "bpf_cpumask_first_and", r1, r2)
	if err != nil {
		return 0, err
	}
	return uint64(m1.findNext(0, func(i int) uint64 { return m1.word(i) & m2.word(i) })), nil
}

// cpuOp applies op to cpu of the mask at addr if cpu < nr_cpu_ids
// (cpu_valid()); otherwise the kfunc does nothing and returns false.
func cpuOp(e *vm.Exec, name string, cpu uint64, addr uint64, write bool, op func(m cmask, c int) bool) (uint64, error) {
	m, err := maskArg(e, name, addr, write)
	if err != nil {
		return 0, err
	}
	if uint32(cpu) >= uint32(m.nr) {
		return 0, nil
	}
	return b2u(op(m, int(uint32(cpu)))), nil
}

func cmSetCPU(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	_, err := cpuOp(e, "bpf_cpumask_set_cpu", r1, r2, true, func(m cmask, c int) bool { m.set(c, true); return false })
	return 0, err
}

func cmClearCPU(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	_, err := cpuOp(e, "bpf_cpumask_clear_cpu", r1, r2, true, func(m cmask, c int) bool { m.set(c, false); return false })
	return 0, err
}

func cmTestCPU(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return cpuOp(e, "bpf_cpumask_test_cpu", r1, r2, false, cmask.test)
}

func cmTestAndSetCPU(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return cpuOp(e, "bpf_cpumask_test_and_set_cpu", r1, r2, true, func(m cmask, c int) bool {
		was := m.test(c)
		m.set(c, true)
		return was
	})
}

func cmTestAndClearCPU(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return cpuOp(e, "bpf_cpumask_test_and_clear_cpu", r1, r2, true, func(m cmask, c int) bool {
		was := m.test(c)
		m.set(c, false)
		return was
	})
}

// Mirrors cpumask_setall(): bitmap_fill sets whole longs.
func cmSetall(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	m, err := maskArg(e, "bpf_cpumask_setall", r1, true)
	if err != nil {
		return 0, err
	}
	for i := range m.b {
		m.b[i] = 0xff
	}
	return 0, nil
}

func cmClear(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	m, err := maskArg(e, "bpf_cpumask_clear", r1, true)
	if err != nil {
		return 0, err
	}
	clear(m.b)
	return 0, nil
}

// binop computes dst = f(src1, src2) word by word; the result words are
// computed before dst is written, as dst may alias a source.
func binop(e *vm.Exec, name string, d, s1, s2 uint64, f func(a, b uint64) uint64, maskLast bool) (bool, error) {
	m1, m2, err := masks2(e, name, s1, s2)
	if err != nil {
		return false, err
	}
	dst, err := maskArg(e, name, d, true)
	if err != nil {
		return false, err
	}
	any := false
	for i := range dst.words() {
		w := f(m1.word(i), m2.word(i))
		if maskLast && i == dst.words()-1 {
			w &= dst.lastMask()
		}
		dst.setWord(i, w)
		any = any || w != 0
	}
	return any, nil
}

// Mirrors bpf_cpumask_and(dst, src1, src2): true if the result is non-empty.
func cmAnd(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	any, err := binop(e, "bpf_cpumask_and", r1, r2, r3, func(a, b uint64) uint64 { return a & b }, true)
	return b2u(any), err
}

func cmOr(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	_, err := binop(e, "bpf_cpumask_or", r1, r2, r3, func(a, b uint64) uint64 { return a | b }, false)
	return 0, err
}

func cmXor(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	_, err := binop(e, "bpf_cpumask_xor", r1, r2, r3, func(a, b uint64) uint64 { return a ^ b }, false)
	return 0, err
}

// cmp2 reports whether pred holds for every masked word pair.
func cmp2(e *vm.Exec, name string, a1, a2 uint64, pred func(a, b uint64) bool) (uint64, error) {
	m1, m2, err := masks2(e, name, a1, a2)
	if err != nil {
		return 0, err
	}
	for i := range m1.words() {
		if !pred(m1.maskedWord(i), m2.maskedWord(i)) {
			return 0, nil
		}
	}
	return 1, nil
}

func cmEqual(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return cmp2(e, "bpf_cpumask_equal", r1, r2, func(a, b uint64) bool { return a == b })
}

func cmIntersects(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	r, err := cmp2(e, "bpf_cpumask_intersects", r1, r2, func(a, b uint64) bool { return a&b == 0 })
	return 1 - r, err
}

// Mirrors bpf_cpumask_subset(src1, src2): src1 is a subset of src2.
func cmSubset(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return cmp2(e, "bpf_cpumask_subset", r1, r2, func(a, b uint64) bool { return a&^b == 0 })
}

func cmEmpty(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	return cmp2(e, "bpf_cpumask_empty", r1, r1, func(a, _ uint64) bool { return a == 0 })
}

func cmFull(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	m, err := maskArg(e, "bpf_cpumask_full", r1, false)
	if err != nil {
		return 0, err
	}
	for i := range m.words() {
		want := ^uint64(0)
		if i == m.words()-1 {
			want = m.lastMask()
		}
		if m.maskedWord(i) != want {
			return 0, nil
		}
	}
	return 1, nil
}

// Mirrors bpf_cpumask_copy(dst, src): bitmap_copy moves whole longs.
func cmCopy(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	src, err := maskArg(e, "bpf_cpumask_copy", r2, false)
	if err != nil {
		return 0, err
	}
	dst, err := maskArg(e, "bpf_cpumask_copy", r1, true)
	if err != nil {
		return 0, err
	}
	copy(dst.b, src.b)
	return 0, nil
}

func cmWeight(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	m, err := maskArg(e, "bpf_cpumask_weight", r1, false)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range m.words() {
		n += bits.OnesCount64(m.maskedWord(i))
	}
	return uint64(n), nil
}

// distribute mirrors cpumask_any_distribute(): the next set CPU after this
// CPU's previous pick, wrapping; nr_cpu_ids if none. Both distribute
// kfuncs share the per-CPU previous pick, as in the kernel.
func distribute(e *vm.Exec, rt *Runtime, m cmask, f func(i int) uint64) uint64 {
	cpu := max(e.CPU, 0)
	for len(rt.distribute) <= cpu {
		rt.distribute = append(rt.distribute, 0)
	}
	prev := rt.distribute[cpu]
	start := prev + 1
	next := m.nr
	if start < m.nr {
		next = m.findNext(start, f)
	}
	if next >= m.nr && start > 0 {
		next = m.findNext(0, f)
		if next >= start {
			next = m.nr
		}
	}
	if next < m.nr {
		rt.distribute[cpu] = next
	}
	return uint64(next)
}

func cmAnyDistribute(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	m, err := maskArg(e, "bpf_cpumask_any_distribute", r1, false)
	if err != nil {
		return 0, err
	}
	return distribute(e, rt, m, m.word), nil
}

func cmAnyAndDistribute(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	m1, m2, err := masks2(e, "bpf_cpumask_any_and_distribute", r1, r2)
	if err != nil {
		return 0, err
	}
	return distribute(e, rt, m1, func(i int) uint64 { return m1.word(i) & m2.word(i) }), nil
}

// Mirrors bpf_cpumask_populate(cpumask, src, src__sz): -EACCES if src is
// smaller than the bitmap, -EINVAL if it is not long-aligned.
func cmPopulate(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	m, err := maskArg(e, "bpf_cpumask_populate", r1, true)
	if err != nil {
		return 0, err
	}
	if r3 < uint64(len(m.b)) {
		return neg(syscall.EACCES), nil
	}
	if r2%8 != 0 {
		return neg(syscall.EINVAL), nil
	}
	src, err := mem(e, "bpf_cpumask_populate", r2, len(m.b), false)
	if err != nil {
		return 0, err
	}
	copy(m.b, src)
	return 0, nil
}
